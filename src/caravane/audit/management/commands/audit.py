"""`caravane audit`: verify the audit trail's hash chain, export it for off-site retention, show its head."""

from __future__ import annotations

import argparse
import itertools
import json
from collections.abc import Iterator
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS

from caravane.audit.chain import (
    GENESIS,
    Anchor,
    ChainCheck,
    Link,
    stored_link_before,
    stored_links,
    stored_locator,
)
from caravane.audit.models import AuditEvent

# A --json report lists this many faults at most (it still counts them all).
JSON_FAULT_LIMIT = 1000


def _anchor(text: str) -> Anchor:
    try:
        return Anchor.parse(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from error


def _file_links(path: Path) -> Iterator[Link]:
    with path.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                yield Link.from_json(json.loads(line))
            except (ValueError, KeyError, TypeError) as error:
                raise CommandError(f"{path}, line {number}: not an exported audit row ({error})") from error


class Command(BaseCommand):
    help = "Verify the audit trail's hash chain, export rows as JSON lines, or show the chain's head."

    def add_arguments(self, parser):
        parser.add_argument("--database", default=DEFAULT_DB_ALIAS, help="Database alias (default: default)")
        commands = parser.add_subparsers(dest="subcommand", required=True)
        verify = commands.add_parser(
            "verify", help="Report every deleted, changed or reordered row; exit status 1 if there is any.")
        verify.add_argument("--since", type=int, default=1, metavar="SEQ",
                            help="Start at row SEQ (its link to the row before is checked too)")
        verify.add_argument("--anchor", type=_anchor, metavar="SEQ:HASH",
                            help="A head kept off-site: row SEQ must exist and have this hash")
        verify.add_argument("--file", type=Path, metavar="PATH",
                            help="Verify rows exported to this file instead of the database")
        verify.add_argument("--json", action="store_true", help="Write the report as one JSON object")
        export = commands.add_parser("export", help="Write rows as JSON lines, in order, for off-site retention.")
        export.add_argument("--after", type=int, default=0, metavar="SEQ", help="Rows after row SEQ (default 0)")
        export.add_argument("--through", type=int, metavar="SEQ", help="Up to and including row SEQ")
        export.add_argument("--output", type=Path, metavar="PATH", help="Write to this file (default: stdout)")
        commands.add_parser("head", help="Print the head of the chain: SEQUENCE HASH.")

    def handle(self, *args, **options):
        handler = {"verify": self.verify, "export": self.export, "head": self.head}[options["subcommand"]]
        handler(options["database"], options)

    def verify(self, using: str, options) -> None:
        if options["file"] is not None:
            links = _file_links(options["file"])
            first = next(links, None)
            links = itertools.chain([first] if first else [], links)
            check = ChainCheck(open_start=first is not None and first.sequence != 1, anchor=options["anchor"])
        else:
            since = max(options["since"], 1)
            check = ChainCheck(stored_link_before(AuditEvent, since, using), locate=stored_locator(AuditEvent, using),
                               anchor=options["anchor"])
            links = stored_links(AuditEvent, after=since - 1, using=using)
        faults = []
        fault_count = 0
        for fault in check.faults(links):
            fault_count += 1
            if options["json"]:
                if len(faults) < JSON_FAULT_LIMIT:
                    faults.append(fault.to_json())
            else:
                self.stdout.write(f"{fault.kind}: {fault.message}")
        head = check.head
        span = f" (rows {check.first} to {head.sequence})" if check.rows_checked else ""
        head_text = f"head {head.sequence} {head.row_hash}" if head else f"head 0 {GENESIS}"
        if fault_count:
            summary = f"Audit trail BROKEN: {fault_count} fault(s) in {check.rows_checked} rows checked{span}; {head_text}."
        else:
            summary = f"Audit trail intact: {check.rows_checked} rows checked{span}; {head_text}."
        if options["json"]:
            self.stdout.write(json.dumps({
                "intact": not fault_count,
                "rows_checked": check.rows_checked,
                "first": check.first,
                "head": {"sequence": head.sequence, "row_hash": head.row_hash} if head else None,
                "fault_count": fault_count,
                "faults": faults,
            }, indent=2))
        if fault_count:
            raise CommandError(summary, returncode=1)
        if not options["json"]:
            self.stdout.write(summary)

    def export(self, using: str, options) -> None:
        links = stored_links(AuditEvent, after=options["after"], through=options["through"], using=using)
        output = options["output"]
        stream = output.open("w", encoding="utf-8") if output else self.stdout
        count, first, last = 0, None, None
        try:
            for link in links:
                line = json.dumps(link.to_json(), sort_keys=True, separators=(",", ":"))
                stream.write(line + "\n" if output else line)
                count, first, last = count + 1, first or link, link
        finally:
            if output:
                stream.close()
        if output:
            rows = f" (rows {first.sequence} to {last.sequence}, head {last.row_hash})" if last else ""
            self.stderr.write(f"Exported {count} audit rows to {output}{rows}.")

    def head(self, using: str, options) -> None:
        head = AuditEvent.objects.using(using).order_by("-sequence").values_list("sequence", "row_hash").first()
        self.stdout.write("%d %s" % (head if head else (0, GENESIS)))
