"""`caravane telemed_expire [--every SECONDS]`: expire requests left unanswered past their service level now.

`caravane worker` already does this every CARAVANE_TELEMED_EXPIRE_SECONDS; this command is for a check by hand.
"""

import time

from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from caravane.telemed.actions import do_expire_overdue


class Command(BaseCommand):
    help = ("Expire telemedicine requests left unanswered past their priority's expiry time now "
            "(`caravane worker` does it periodically).")

    def add_arguments(self, parser):
        parser.add_argument("--every", type=int, default=0,
                            help="Keep running, checking every this many seconds (0: check once and exit).")

    def handle(self, *args, every: int = 0, **options):
        while True:
            expired = do_expire_overdue()
            self.stdout.write(_("%(count)d request(s) expired.") % {"count": len(expired)})
            if every <= 0:
                return
            time.sleep(every)
