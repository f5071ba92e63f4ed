"""The hash chain that makes the audit trail tamper-evident.

Every audit row carries a sequence number, the hash of the row before it (``prev_hash``) and its
own hash (``row_hash``): SHA-256 over ``prev_hash`` and a canonical serialisation of the row's
fields. Deleting, changing or reordering a row breaks a link that ``caravane audit verify`` finds;
deleting rows at the head is caught by comparing the head with a copy kept off-site (an anchor).

The canonical serialisation is the chain's format: changing it invalidates every stored hash.
It names each field by its column and leaves out empty values (null, "", {} and []), so a field
added to the model later with an empty default leaves the hashes of older rows valid. Fields are
never removed from the audit row: older rows' hashes cover them.
"""

from __future__ import annotations

import datetime
import decimal
import hashlib
import json
import string
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from django.db import connections, models

# The prev_hash of the first row.
GENESIS = "0" * 64
# The PostgreSQL advisory lock that serialises appends to the chain ("caravane" as a 64-bit integer).
CHAIN_LOCK_KEY = int.from_bytes(b"caravane", "big")
CHAIN_FIELDS = ("sequence", "prev_hash", "row_hash")
EMPTY_VALUES = (None, "", {}, [])


def _plain_json(value):
    """A JSON value with integral floats written as integers, as PostgreSQL's jsonb returns them."""
    if isinstance(value, dict):
        return {key: _plain_json(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain_json(item) for item in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _canonical_value(field: models.Field, value):
    """The value of one field as the chain hashes it, the same before insert and after reading back."""
    if isinstance(field, models.JSONField):
        return _plain_json(json.loads(json.dumps(value, cls=field.encoder)))
    value = field.to_python(value)
    if isinstance(value, datetime.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(datetime.timezone.utc)
        return value.isoformat(timespec="microseconds")
    if isinstance(value, (datetime.date, datetime.time)):
        return value.isoformat()
    if isinstance(value, (uuid.UUID, decimal.Decimal)):
        return str(value)
    return _plain_json(value)


def canonical_content(event: models.Model) -> dict:
    """The row's fields as the chain hashes them: column name to canonical value, empty values left out."""
    content = {}
    for field in type(event)._meta.concrete_fields:
        if field.attname in CHAIN_FIELDS:
            continue
        value = getattr(event, field.attname)
        if value in EMPTY_VALUES:
            continue
        value = _canonical_value(field, value)
        if value not in EMPTY_VALUES:
            content[field.attname] = value
    return content


def link_hash(prev_hash: str, content: dict) -> str:
    """The hash of a row with this content following the row whose hash is ``prev_hash``."""
    payload = json.dumps({"prev": prev_hash, "row": content}, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(payload.encode("ascii")).hexdigest()


def seal(events: list[models.Model], using: str) -> None:
    """Make unsaved audit rows the chain's next links, in order; the caller inserts them in the same transaction.

    On PostgreSQL a transaction-level advisory lock serialises appends from every process until the
    transaction ends, so two writers never take the same head. SQLite has one writer at a time, but
    a transaction that began DEFERRED and reads the head before writing fails at once ("database is
    locked") if another connection wrote in between: unless transactions begin IMMEDIATE (Caravane's
    setting), an insert of no rows takes the write lock first, waiting for it like any write. The unique
    sequence number would refuse a fork in any case. Sealing many rows at once takes the lock and reads the
    head once for all of them (``caravane.audit.appender`` groups requests' rows so).
    """
    if not events:
        return
    connection = connections[using]
    table = connection.ops.quote_name(type(events[0])._meta.db_table)
    # The head, read after the lock is held (on PostgreSQL in the same round trip: each statement of a
    # multi-statement query sees what committed before it began).
    read_head = f"SELECT sequence, row_hash FROM {table} ORDER BY sequence DESC LIMIT 1"
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # The chain's lock must be the transaction's last: a transaction holding it must never wait for a row
            # lock (another transaction holding that row may be waiting for the chain: a deadlock). Deferred
            # foreign-key checks take row locks at commit, so they are run now, before the lock.
            cursor.execute(f"SET CONSTRAINTS ALL IMMEDIATE; SELECT pg_advisory_xact_lock({int(CHAIN_LOCK_KEY)}); "
                           f"{read_head}")
            while cursor.nextset():
                pass
        else:
            if getattr(connection, "transaction_mode", None) != "IMMEDIATE":
                cursor.execute(f"INSERT INTO {table} SELECT * FROM {table} WHERE 0")
            cursor.execute(read_head)
        head = cursor.fetchone()
    sequence, prev_hash = (head[0], head[1]) if head else (0, GENESIS)
    for event in events:
        sequence += 1
        event.sequence, event.prev_hash = sequence, prev_hash
        event.row_hash = prev_hash = link_hash(prev_hash, canonical_content(event))


@dataclass(frozen=True)
class Link:
    """One row of the chain as the verifier sees it."""

    sequence: int
    prev_hash: str
    row_hash: str
    content: dict

    @classmethod
    def of(cls, event: models.Model) -> "Link":
        """The link a stored audit row forms."""
        return cls(event.sequence, event.prev_hash, event.row_hash, canonical_content(event))

    @classmethod
    def from_json(cls, data: dict) -> "Link":
        """The link an exported JSON line describes."""
        return cls(int(data["sequence"]), str(data["prev_hash"]), str(data["row_hash"]), dict(data["content"]))

    def to_json(self) -> dict:
        """This link as an exported JSON line holds it."""
        return {"sequence": self.sequence, "prev_hash": self.prev_hash, "row_hash": self.row_hash,
                "content": self.content}

    @property
    def sealed(self) -> bool:
        """Whether the row's content still matches its hash."""
        return link_hash(self.prev_hash, self.content) == self.row_hash


@dataclass(frozen=True)
class Anchor:
    """A row's sequence number and hash kept off-site, which pins the chain up to that row."""

    sequence: int
    row_hash: str

    @classmethod
    def parse(cls, text: str) -> "Anchor":
        """An anchor written ``SEQUENCE:HASH``."""
        sequence, _, row_hash = text.partition(":")
        if not sequence.isdigit() or len(row_hash) != 64 or row_hash.strip(string.hexdigits):
            raise ValueError(f"an anchor is written SEQUENCE:HASH (64 hexadecimal digits), not {text!r}")
        return cls(int(sequence), row_hash.lower())


@dataclass(frozen=True)
class Fault:
    """One thing wrong with the chain: ``kind`` is deleted, changed, reordered, broken, renumbered or anchor."""

    kind: str
    sequence: int
    message: str

    def to_json(self) -> dict:
        return {"kind": self.kind, "sequence": self.sequence, "message": self.message}


class ChainCheck:
    """Walks links in sequence order, in constant memory, and yields every fault it finds.

    ``previous`` is the link before the first one walked (None: the walk starts the chain, unless
    ``open_start`` says the first link's predecessor is unknown, as in an exported slice).
    ``locate`` finds the sequence number of the row with a given hash, to tell a reordered row from
    a deleted one.
    """

    def __init__(self, previous: Link | None = None, *, open_start: bool = False,
                 locate: Callable[[str], int | None] | None = None, anchor: Anchor | None = None):
        self.previous = previous
        self.open_start = open_start
        self.locate = locate
        self.anchor = anchor
        self.anchor_seen = False
        self.rows_checked = 0
        self.first: int | None = None
        self.head: Link | None = previous

    def faults(self, links: Iterable[Link]) -> Iterator[Fault]:
        """Check every link in turn; ``head`` and ``rows_checked`` are complete once this is exhausted."""
        if self.previous is not None:
            yield from self._check_anchor(self.previous)
        for link in links:
            if self.first is None:
                self.first = link.sequence
            self.rows_checked += 1
            yield from self._check(self.head, link)
            yield from self._check_anchor(link)
            self.head = link
        if self.anchor is not None and not self.anchor_seen:
            sequence, last = self.anchor.sequence, self.head.sequence if self.head else 0
            yield Fault("anchor", sequence,
                        f"row {sequence} named by the anchor is missing: the trail checked ends at row {last}, "
                        f"so rows at its head were deleted" if sequence > last else
                        f"row {sequence} named by the anchor is not among the rows checked")

    def _check(self, previous: Link | None, link: Link) -> Iterator[Fault]:
        sequence = link.sequence
        if not link.sealed:
            yield Fault("changed", sequence, f"row {sequence} was changed: its content does not match its hash")
        if previous is None and self.open_start:
            return
        expected_sequence = previous.sequence + 1 if previous else 1
        expected_prev_hash = previous.row_hash if previous else GENESIS
        after = f"row {previous.sequence}" if previous else "the start of the trail"
        if link.prev_hash == expected_prev_hash:
            if sequence != expected_sequence:
                yield Fault("renumbered", sequence,
                            f"row {sequence} follows {after} in the chain, but its sequence number should be "
                            f"{expected_sequence}")
            return
        origin = 0 if link.prev_hash == GENESIS else (self.locate(link.prev_hash) if self.locate else None)
        if origin is not None:
            where = f"row {origin}" if origin else "the start of the trail"
            yield Fault("reordered", sequence,
                        f"row {sequence} was moved: in the chain it follows {where}, not {after}")
        elif sequence > expected_sequence:
            missing = (f"row {expected_sequence} was" if sequence == expected_sequence + 1
                       else f"rows {expected_sequence} to {sequence - 1} were")
            yield Fault("deleted", expected_sequence, f"{missing} deleted: row {sequence} follows a row that is gone")
        else:
            yield Fault("broken", sequence,
                        f"row {sequence} does not follow {after}: rows before it were deleted and the rest "
                        f"renumbered, or {after} was rewritten")

    def _check_anchor(self, link: Link) -> Iterator[Fault]:
        anchor = self.anchor
        if anchor is None:
            return
        if link.sequence == anchor.sequence:
            self.anchor_seen = True
            if link.row_hash != anchor.row_hash:
                yield Fault("anchor", anchor.sequence,
                            f"row {anchor.sequence} has hash {link.row_hash}, the anchor says {anchor.row_hash}")
        elif self.previous is None and self.rows_checked == 1 and link.sequence == anchor.sequence + 1:
            self.anchor_seen = True
            if link.prev_hash != anchor.row_hash:
                yield Fault("anchor", link.sequence,
                            f"row {link.sequence} does not follow the anchored row {anchor.sequence}")


def stored_links(model: type[models.Model], *, after: int = 0, through: int | None = None,
                 using: str = "default", chunk_size: int = 1000) -> Iterator[Link]:
    """The stored rows with a sequence number above ``after`` (up to ``through``), in order, read in chunks."""
    rows = model._base_manager.using(using).order_by("sequence")
    if through is not None:
        rows = rows.filter(sequence__lte=through)
    while True:
        batch = list(rows.filter(sequence__gt=after)[:chunk_size])
        for event in batch:
            yield Link.of(event)
        if len(batch) < chunk_size:
            return
        after = batch[-1].sequence


def stored_link_before(model: type[models.Model], sequence: int, using: str = "default") -> Link | None:
    """The stored row just before ``sequence`` in sequence order, if any."""
    event = model._base_manager.using(using).filter(sequence__lt=sequence).order_by("-sequence").first()
    return Link.of(event) if event is not None else None


def stored_locator(model: type[models.Model], using: str = "default") -> Callable[[str], int | None]:
    """A function finding the sequence number of the stored row with a given hash."""
    def locate(row_hash: str) -> int | None:
        return (model._base_manager.using(using).filter(row_hash=row_hash)
                .values_list("sequence", flat=True).first())
    return locate
