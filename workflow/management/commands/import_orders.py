import json
from pathlib import Path

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import BaseCommand, CommandError

from org.models import User
from workflow.order_import import csv_encoding_check, csv_rows, mapping_parse, orders_import, rejected_write


class Command(BaseCommand):
    help = ("Import historical orders from another system's CSV export, with a JSON column/value mapping. "
            "Bad rows are skipped and listed in a report; re-running never loads a row twice (a row is known by its "
            "source system and reference, whoever imports it).")

    def add_arguments(self, parser):
        parser.add_argument("file", help="The CSV export.")
        parser.add_argument("--mapping", required=True,
                            help="JSON mapping: columns, date formats, value tables; its file name is the source "
                                 "system unless it names one in “source”.")
        parser.add_argument("--as", dest="username", required=True,
                            help="The account the orders are logged by (an intake role, e.g. a channel system).")
        parser.add_argument("--batch-size", type=int, default=500, help="Rows per commit (default 500).")
        parser.add_argument("--report", help="Where to write the rejected rows (default FILE.rejected.csv).")

    def handle(self, *args, file, mapping, username, batch_size, report, **options):
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1.")
        actor = User.objects.filter(username=username, is_active=True).first()
        if actor is None:
            raise CommandError(f"No active user “{username}”.")
        try:
            with open(mapping, encoding="utf-8-sig") as handle:
                parsed = mapping_parse(json.load(handle), name=Path(mapping).stem)
        except OSError as exc:
            raise CommandError(f"Cannot read {mapping}: {exc}") from None
        except json.JSONDecodeError as exc:
            raise CommandError(f"{mapping} is not valid JSON: {exc}") from None
        except ValidationError as exc:
            raise CommandError("The mapping is not usable; nothing imported:\n  " + "\n  ".join(exc.messages)) from None

        report_path = Path(report or f"{file}.rejected.csv")
        try:
            csv_encoding_check(file, parsed.encoding)
            with open(file, encoding=parsed.encoding, newline="") as handle:
                rows = csv_rows(handle, parsed)
                result = orders_import(actor=actor, rows=rows, mapping=parsed, batch_size=batch_size)
                header = rows.fieldnames
        except OSError as exc:
            raise CommandError(f"Cannot read {file}: {exc}") from None
        except ValidationError as exc:
            raise CommandError("Nothing imported: " + " ".join(exc.messages)) from None
        except PermissionDenied as exc:
            raise CommandError(str(exc)) from None

        self.stdout.write(
            f"Source: {parsed.source}. Rows read: {result.read}; created: {result.created}; already imported: "
            f"{result.already_imported}; rejected: {len(result.rejected)}."
        )
        if result.rejected:
            with open(report_path, "w", encoding="utf-8-sig", newline="") as out:
                rejected_write(out, result, header)
            self.stdout.write(self.style.WARNING(f"Rejected rows and reasons: {report_path}"))
            for reject in result.rejected[:10]:
                self.stdout.write(f"  line {reject.line} {reject.external_ref}: {'; '.join(reject.reasons)}")
            if len(result.rejected) > 10:
                self.stdout.write(f"  … and {len(result.rejected) - 10} more in the report.")
        elif report_path.exists() and not report:
            report_path.unlink()  # a stale report from an earlier run would mislead
