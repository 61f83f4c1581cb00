"""Channel systems' API tokens from the shell: issue (prints the key once), list, revoke."""

import datetime

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from org.models import ApiScope, ApiToken, User
from org.tokens import token_issue, token_revoke


class Command(BaseCommand):
    help = "Issue, list or revoke channel systems' API tokens."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="command", required=True)
        issue = sub.add_parser("issue", help="Issue a token; its key is printed once.")
        issue.add_argument("--user", required=True, help="The channel system's account (username).")
        issue.add_argument("--name", required=True, help="Which system and installation uses it.")
        issue.add_argument("--scope", action="append", dest="scopes", required=True, choices=ApiScope.values,
                           help="Repeat for several scopes.")
        issue.add_argument("--days", type=int, help="Expire after this many days (default: until revoked).")
        sub.add_parser("list", help="Every token with its scopes, last use and state.")
        revoke = sub.add_parser("revoke", help="Revoke the token with this key prefix.")
        revoke.add_argument("prefix")

    def handle(self, *args, command, **options):
        if command == "issue":
            user = User.objects.filter(username=options["user"]).first()
            if user is None:
                raise CommandError(f"No account {options['user']!r}.")
            expires = timezone.now() + datetime.timedelta(days=options["days"]) if options["days"] else None
            try:
                token, key = token_issue(actor=None, user=user, name=options["name"], scopes=options["scopes"],
                                         expires_at=expires)
            except ValidationError as exc:
                raise CommandError("; ".join(f"{k}: {' '.join(v)}" for k, v in exc.message_dict.items())) from None
            self.stdout.write(f"{token.name} ({', '.join(token.scopes)}): {key}")
            self.stdout.write("Copy the key now: only its hash is kept.")
        elif command == "list":
            for token in ApiToken.objects.select_related("user"):
                state = ("revoked" if token.revoked_at else "expired" if not token.is_live() else "live")
                used = f"{timezone.localtime(token.last_used_at):%Y-%m-%d %H:%M}" if token.last_used_at else "never"
                self.stdout.write(f"{token.prefix}  {state:<8} {token.user.username:<12} {','.join(token.scopes):<40} "
                                  f"last used {used}  {token.name}")
        else:
            matches = list(ApiToken.objects.filter(prefix=options["prefix"]))
            if len(matches) != 1:
                raise CommandError(f"{len(matches)} tokens have the prefix {options['prefix']!r}.")
            token = token_revoke(actor=None, token=matches[0])
            self.stdout.write(f"Revoked {token.prefix} ({token.name}) at {timezone.localtime(token.revoked_at):%Y-%m-%d %H:%M:%S}.")
