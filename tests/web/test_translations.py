"""The French and Arabic catalogues: complete, not fuzzy, placeholders kept, compiled, covering the source."""

import ast
import gettext
import re
import shutil
from pathlib import Path

import pytest
from django.core.management import call_command
from django.test import override_settings

PACKAGE = Path(__file__).resolve().parents[2] / "src" / "caravane"
LANGUAGES = ("fr", "ar")
PLURAL_FORMS = {"fr": 2, "ar": 6}
PLACEHOLDER = re.compile(r"%\(\w+\)[-#0 +]*\d*(?:\.\d+)?[sdifr]|\{\w*\}")


def parse_po(path):
    """Entries of a .po file as dicts: context, msgid, msgid_plural, msgstr {index: text}, flags, obsolete."""
    entries, entry, field = [], None, None

    def start():
        return {"context": None, "msgid": None, "msgid_plural": None, "msgstr": {}, "flags": set(),
                "obsolete": False}

    for line in path.read_text(encoding="utf-8").splitlines() + [""]:
        obsolete = line.startswith("#~")
        if obsolete:
            line = line[2:].strip()
        if not line.strip():
            if entry and entry["msgid"] is not None:
                entries.append(entry)
            entry, field = None, None
            continue
        if entry is None:
            entry = start()
        entry["obsolete"] |= obsolete
        if line.startswith("#,"):
            entry["flags"].update(flag.strip() for flag in line[2:].split(","))
        elif line.startswith("#"):
            continue
        elif line.startswith('"'):
            text = ast.literal_eval(line)
            if isinstance(field, tuple):
                entry["msgstr"][field[1]] += text
            else:
                entry[field] += text
        else:
            keyword, _, literal = line.partition(" ")
            text = ast.literal_eval(literal)
            if keyword.startswith("msgstr"):
                index = int(keyword[7:-1]) if "[" in keyword else 0
                field = ("msgstr", index)
                entry["msgstr"][index] = text
            else:
                field = {"msgctxt": "context"}.get(keyword, keyword)
                entry[field] = text
    return [e for e in entries if not e["obsolete"]]


def messages(path):
    """The catalogue's entries, header left out."""
    return [e for e in parse_po(path) if e["msgid"] != ""]


def problems(entries, plural_forms):
    """Human-readable reasons why entries are not finished translations."""
    found = []
    for e in entries:
        expected = plural_forms if e["msgid_plural"] is not None else 1
        if "fuzzy" in e["flags"]:
            found.append(f"fuzzy: {e['msgid']!r}")
        if sorted(e["msgstr"]) != list(range(expected)) or not all(e["msgstr"].values()):
            found.append(f"untranslated ({len(e['msgstr'])}/{expected} forms): {e['msgid']!r}")
            continue
        source = set(PLACEHOLDER.findall(e["msgid"] + (e["msgid_plural"] or "")))
        for text in e["msgstr"].values():
            # A plural form may drop the count ("one patient") but never invent or rename a placeholder.
            if not set(PLACEHOLDER.findall(text)) <= source or (
                    e["msgid_plural"] is None and set(PLACEHOLDER.findall(text)) != source):
                found.append(f"placeholders differ: {e['msgid']!r} -> {text!r}")
    return found


def po_path(language, root=PACKAGE / "locale"):
    return root / language / "LC_MESSAGES" / "django.po"


@pytest.mark.parametrize("language", LANGUAGES)
def test_catalogue_is_fully_translated(language):
    entries = messages(po_path(language))
    assert len(entries) > 100
    assert problems(entries, PLURAL_FORMS[language]) == []


@pytest.mark.parametrize("language", LANGUAGES)
def test_plural_forms_header(language):
    header = next(e for e in parse_po(po_path(language)) if e["msgid"] == "")["msgstr"][0]
    assert f"nplurals={PLURAL_FORMS[language]};" in header.replace(" ", "")


@pytest.mark.parametrize("language", LANGUAGES)
def test_compiled_catalogue_matches_the_po_file(language):
    with (po_path(language).parent / "django.mo").open("rb") as mo:
        compiled = gettext.GNUTranslations(mo)._catalog
    stale = []
    for e in messages(po_path(language)):
        key = e["msgid"] if e["context"] is None else f"{e['context']}\x04{e['msgid']}"
        if e["msgid_plural"] is None:
            if compiled.get(key) != e["msgstr"][0]:
                stale.append(e["msgid"])
        elif any(compiled.get((key, i)) != text for i, text in e["msgstr"].items()):
            stale.append(e["msgid"])
    assert stale == [], "run scripts/update_translations.sh --compile"
    expected = len(messages(po_path(language)))
    singular_keys = {k if isinstance(k, str) else k[0] for k in compiled} - {""}
    assert len(singular_keys) == expected, "the .mo file holds strings the .po file no longer has"


def test_problems_are_reported():
    """The checker itself notices each kind of unfinished entry."""
    base = {"context": None, "msgid_plural": None, "flags": set(), "obsolete": False}
    entries = [
        {**base, "msgid": "Queue", "msgstr": {0: ""}},
        {**base, "msgid": "Site", "msgstr": {0: "Site"}, "flags": {"fuzzy"}},
        {**base, "msgid": "Hello %(name)s", "msgstr": {0: "Bonjour %(nom)s"}},
        {**base, "msgid": "%(count)s patient", "msgid_plural": "%(count)s patients", "msgstr": {0: "x", 1: "y"}},
    ]
    assert [p.split(":")[0] for p in problems(entries, 6)] == [
        "untranslated (1/1 forms)", "fuzzy", "placeholders differ", "untranslated (2/6 forms)"]


@pytest.mark.skipif(shutil.which("xgettext") is None, reason="gettext tools are not installed")
def test_catalogues_cover_every_source_string(tmp_path, monkeypatch):
    """Extracting the strings again (on a copy of the package) brings nothing new to translate."""
    copy = tmp_path / "caravane"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__", "migrations", "static", "*.mo"))
    monkeypatch.chdir(copy)
    with override_settings(LOCALE_PATHS=[copy / "locale"]):
        call_command("makemessages", locale=list(LANGUAGES), no_location=True, no_obsolete=True, verbosity=0)
    for language in LANGUAGES:
        missing = problems(messages(po_path(language, copy / "locale")), PLURAL_FORMS[language])
        assert missing == [], f"{language}: run scripts/update_translations.sh and translate these"
