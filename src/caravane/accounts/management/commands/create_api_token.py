"""`caravane create_api_token <username> --name ...`: issue a bearer token for a machine client."""

import datetime

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from caravane.accounts.actions import do_create_api_token
from caravane.accounts.api import MAX_TOKEN_DAYS
from caravane.accounts.models import User


class Command(BaseCommand):
    help = "Create an API token acting as a user; the raw token is printed once and never stored."

    def add_arguments(self, parser):
        parser.add_argument("username", help="The user the token acts as (within their role and scope).")
        parser.add_argument("--name", required=True, help="What the token is for, e.g. 'regional dashboard'.")
        parser.add_argument("--days", type=int, default=90,
                            help=f"Days until the token expires (1 to {MAX_TOKEN_DAYS}, default 90).")

    def handle(self, *args, username, name, days, **options):
        name = name.strip()
        if not name or len(name) > 80:
            raise CommandError("--name must be 1 to 80 characters.")
        if not 1 <= days <= MAX_TOKEN_DAYS:
            raise CommandError(f"--days must be between 1 and {MAX_TOKEN_DAYS}.")
        user = User.objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"No user named {username!r}.")
        if not user.is_active:
            raise CommandError(f"User {username!r} is inactive; a token would not authenticate.")
        token, raw = do_create_api_token(user=user, name=name,
                                         expires_at=timezone.now() + datetime.timedelta(days=days))
        self.stderr.write(f"Token {token.name!r} for {username}, expires {token.expires_at:%Y-%m-%d %H:%M %Z}. "
                          "It is shown once: store it now.")
        self.stdout.write(raw)
