import json

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from complaints.category_import import categories_import


class Command(BaseCommand):
    help = "Import or update the complaint category tree from a JSON file (nodes with code, name_zh, name_en, children)."

    def add_arguments(self, parser):
        parser.add_argument("file", help="Path to the category JSON file.")

    def handle(self, *args, file, **options):
        try:
            with open(file, encoding="utf-8") as handle:
                data = json.load(handle)
        except OSError as exc:
            raise CommandError(f"Cannot read {file}: {exc}") from None
        except json.JSONDecodeError as exc:
            raise CommandError(f"{file} is not valid JSON: {exc}") from None
        try:
            report = categories_import(data=data)
        except ValidationError as exc:
            raise CommandError("Nothing imported:\n  " + "\n  ".join(exc.messages)) from None
        self.stdout.write(
            self.style.SUCCESS(
                f"Categories: {report.created} created, {report.updated} updated, {report.unchanged} unchanged."
            )
        )
