"""Reading medicine lists: the WHO Model List shipped by a registry package, and a national list as CSV.

The WHO list comes from PyPI ``gnuhealth-who-essential-medicines`` (GNU Health, GPL-3.0): its data files (Tryton
XML records and gettext catalogues for the French and Arabic names) are read here; its code, which needs the
Tryton server, is never imported. Both readers return plain rows; ``actions`` writes them.
"""

from __future__ import annotations

import ast
import csv
import datetime
import io
import re
import xml.etree.ElementTree as ElementTree
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from importlib import metadata
from pathlib import Path

from django.utils.translation import gettext as _

WHO_DISTRIBUTION = "gnuhealth-who-essential-medicines"


class ListMissing(RuntimeError):
    """The registry package holding the WHO list is not installed."""


def who_directory() -> Path:
    """The installed WHO list package's folder (found from the distribution's file list, not a fixed path)."""
    try:
        files = metadata.files(WHO_DISTRIBUTION) or []
    except metadata.PackageNotFoundError:
        raise ListMissing(f"{WHO_DISTRIBUTION} is not installed (./run.sh installs it; see docs/pharmacy.md)")
    for entry in files:
        if entry.name == "WHO_list_of_essential_medicines.xml":
            return Path(entry.locate()).parent.parent
    raise ListMissing(f"{WHO_DISTRIBUTION} holds no WHO_list_of_essential_medicines.xml")


def read_po(path: Path) -> dict[str, str]:
    """A gettext catalogue as {msgctxt: msgstr} (the Tryton catalogues key every record's field by context)."""
    entries: dict[str, str] = {}
    current: dict[str, str] = {}
    key = None
    for raw in path.read_text(encoding="utf-8").splitlines() + [""]:
        line = raw.strip()
        if not line or line.startswith("#"):
            if current.get("msgctxt") and current.get("msgstr"):
                entries[current["msgctxt"]] = current["msgstr"]
            if not line:
                current, key = {}, None
            continue
        match = re.match(r"(msgctxt|msgid|msgstr)\s+(\".*\")$", line)
        if match:
            key = match.group(1)
            current[key] = ast.literal_eval(match.group(2))
        elif line.startswith('"') and key:
            current[key] += ast.literal_eval(line)
    return entries


@dataclass(frozen=True)
class CategoryRow:
    code: str
    parent: str | None
    name_en: str
    name_fr: str
    name_ar: str


@dataclass(frozen=True)
class MedicineRow:
    code: str
    inn: str
    name_fr: str
    name_ar: str
    category: str | None
    presentations: str


def _records(path: Path):
    for record in ElementTree.parse(path).getroot().iter("record"):
        fields = {f.get("name"): (f.get("ref") if f.get("ref") is not None else (f.text or "").strip())
                  for f in record.findall("field")}
        yield record.get("id"), fields


def who_list(directory: Path | None = None) -> tuple[list[CategoryRow], list[MedicineRow]]:
    """The WHO Model List's categories (parents first) and medicines, with their French and Arabic names."""
    directory = directory or who_directory()
    french, arabic = (read_po(directory / "locale" / f"{language}.po") for language in ("fr", "ar"))
    known = set()
    categories = []
    for code, fields in _records(directory / "data" / "medicament_categories.xml"):
        context = f"model:gnuhealth.medicament.category,name:{code}"
        parent = fields.get("parent")
        categories.append(CategoryRow(code=code, parent=parent if parent in known else None, name_en=fields["name"],
                                      name_fr=french.get(context, ""), name_ar=arabic.get(context, "")))
        known.add(code)
    medicines = []
    for code, fields in _records(directory / "data" / "WHO_list_of_essential_medicines.xml"):
        context = f"model:gnuhealth.medicament,active_component:{code}"
        name = " ".join(fields["active_component"].split())
        medicines.append(MedicineRow(
            code=f"who-{code.removeprefix('meds_').replace('_', '-')}", inn=name, name_fr=french.get(context, ""),
            name_ar=arabic.get(context, ""), category=fields.get("category") if fields.get("category") in known
            else None, presentations=fields.get("notes", "")))
    return categories, medicines


# --- National list as CSV ---------------------------------------------------------------------------------------

NATIONAL_COLUMNS = ("code", "inn", "name_fr", "name_ar", "form", "strength", "unit", "atc_code", "category",
                    "dose_unit", "dose_per_unit")
REQUIRED_COLUMNS = ("code", "inn", "form", "unit")
_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,59}$")
_ATC = re.compile(r"^[A-Z][0-9]{2}([A-Z]([A-Z]([0-9]{2})?)?)?$")


@dataclass
class NationalRow:
    line: int
    values: dict


@dataclass
class CsvReport:
    """What a national list's import kept and what it rejected, line by line with the reason."""

    accepted: list[NationalRow] = field(default_factory=list)
    rejected: list[tuple[int, str]] = field(default_factory=list)


def read_national_csv(content: bytes | str, *, forms, units, dose_units, categories) -> CsvReport:
    """Validate a national list (UTF-8 CSV with a header naming NATIONAL_COLUMNS); bad rows are reported, not kept."""
    report = CsvReport()
    if isinstance(content, bytes):
        try:
            content = content.decode("utf-8-sig")
        except UnicodeDecodeError:
            report.rejected.append((0, _("The file is not UTF-8 text.")))
            return report
    reader = csv.DictReader(io.StringIO(content))
    header = [name.strip() for name in (reader.fieldnames or [])]
    missing = [name for name in REQUIRED_COLUMNS if name not in header]
    if missing:
        report.rejected.append((1, _("Missing columns: %(columns)s.") % {"columns": ", ".join(missing)}))
        return report
    seen = set()
    for line, raw in enumerate(reader, start=2):
        row = {key.strip(): (value or "").strip() for key, value in raw.items() if key}
        problem = _problem(row, forms, units, dose_units, categories, seen)
        if problem:
            report.rejected.append((line, problem))
            continue
        seen.add(row["code"])
        report.accepted.append(NationalRow(line, {name: row.get(name, "") for name in NATIONAL_COLUMNS}))
    return report


def _problem(row, forms, units, dose_units, categories, seen) -> str | None:
    if not _CODE.match(row.get("code", "")):
        return _("code: letters, digits, - or _ (60 at most).")
    if row["code"] in seen:
        return _("code %(code)s appears twice.") % {"code": row["code"]}
    if not row.get("inn") or len(row["inn"]) > 200:
        return _("inn: the international non-proprietary name is required (200 characters at most).")
    if any(len(row.get(name, "")) > 200 for name in ("name_fr", "name_ar")) or len(row.get("strength", "")) > 60:
        return _("A name or the strength is too long.")
    if any(ch in value for value in row.values() for ch in "\x00\r"):
        return _("A value holds a control character.")
    if row["form"] not in forms:
        return _("form: unknown form “%(value)s”.") % {"value": row["form"][:40]}
    if row["unit"] not in units:
        return _("unit: unknown unit of issue “%(value)s”.") % {"value": row["unit"][:40]}
    if row.get("atc_code") and not _ATC.match(row["atc_code"]):
        return _("atc_code: “%(value)s” is not an ATC code.") % {"value": row["atc_code"][:40]}
    if row.get("category") and row["category"] not in categories:
        return _("category: unknown category “%(value)s”.") % {"value": row["category"][:40]}
    if row.get("dose_unit") and row["dose_unit"] not in dose_units:
        return _("dose_unit: unknown dose unit “%(value)s”.") % {"value": row["dose_unit"][:40]}
    if row.get("dose_per_unit"):
        try:
            amount = Decimal(row["dose_per_unit"].replace(",", "."))
        except InvalidOperation:
            amount = None
        if amount is None or not amount.is_finite() or amount <= 0 or amount >= 1_000_000:
            return _("dose_per_unit: a positive number is expected.")
    return None


def parse_date(value: str) -> datetime.date | None:
    """A date as typed on a delivery note: day/month/year or ISO year-month-day; None when it is neither."""
    value = (value or "").strip()
    for pattern in ("%Y-%m-%d", "%d/%m/%Y", "%m/%Y"):
        try:
            day = datetime.datetime.strptime(value, pattern).date()
        except ValueError:
            continue
        if pattern == "%m/%Y":  # a lot printed "EXP 05/2027" expires at the end of that month
            day = (day.replace(day=28) + datetime.timedelta(days=4)).replace(day=1) - datetime.timedelta(days=1)
        return day
    return None
