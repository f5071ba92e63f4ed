"""Finding patients: by identifier, or by name in either script, tolerant of spelling, ranked."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db.models import Q
from rapidfuzz import fuzz

from caravane.patients.identifiers import clean_record_number, normalise_cin, normalise_phone
from caravane.patients.models import Patient, PatientNameToken, seen_in_scope
from caravane.patients.names import comparable, name_keys, pair_keys, prefix_keys, skeleton_text

CANDIDATES = 200  # name-key hits ranked in Python; the index narrows national scale to this
ALIAS_SEPARATOR = "|"
DUPLICATE_THRESHOLD = 78


@dataclass
class Match:
    """A patient found by a search, with its score (0-100) and why it matched."""

    patient: Patient
    score: float
    reasons: list[str] = field(default_factory=list)


def patient_names(patient: Patient) -> list[str]:
    """The full names a record answers to: its Latin and Arabic names and those of records merged into it."""
    records = [patient, *Patient.objects.filter(merged_into=patient)] if patient.pk else [patient]
    names = []
    for record in records:
        for name in (f"{record.given_name} {record.family_name}", f"{record.given_name_ar} {record.family_name_ar}"):
            if name.strip() and name.strip() not in names:
                names.append(name.strip())
    return names


def name_keys_of(names: list[str]) -> set[str]:
    """The search keys of a record answering to ``names``: each word's key and each pair of words'."""
    keys = set()
    for name in names:
        words = name_keys(name)
        keys.update(words, pair_keys(words))
    return keys


def set_ranking_texts(patient: Patient, names: list[str]) -> None:
    """Fill the patient's ranking texts (``search_text``, ``search_keys``) from ``names``, unsaved."""
    patient.search_text = ALIAS_SEPARATOR.join(comparable(name) for name in names)[:400]
    patient.search_keys = ALIAS_SEPARATOR.join(skeleton_text(name) for name in names)[:400]


def index_patient_names(patient: Patient) -> None:
    """Recompute a patient's search keys and ranking texts (call after any change of name or merge)."""
    names = [] if patient.merged_into_id else patient_names(patient)
    PatientNameToken.objects.filter(patient=patient).delete()
    PatientNameToken.objects.bulk_create([PatientNameToken(patient=patient, key=key, site_id=patient.registration_site_id)
                                          for key in sorted(name_keys_of(names))])
    set_ranking_texts(patient, names or patient_names(patient))
    Patient.objects.filter(pk=patient.pk).update(search_text=patient.search_text, search_keys=patient.search_keys)


def name_similarity(query: str, search_text: str, search_keys: str) -> float:
    """How close ``query`` is to the best of a patient's names (0-100), by sound and by spelling."""
    query_plain, query_keys = comparable(query), skeleton_text(query)
    best = 0.0
    for plain, keys in zip(search_text.split(ALIAS_SEPARATOR), search_keys.split(ALIAS_SEPARATOR)):
        best = max(best, 0.6 * fuzz.token_set_ratio(query_keys, keys) + 0.4 * fuzz.token_set_ratio(query_plain, plain))
    return best


@dataclass(frozen=True)
class Candidate:
    """The little of a patient that ranking needs, read without building the model."""

    pk: object
    search_text: str
    search_keys: str
    family_name: str
    given_name: str
    birth_date: object
    birth_date_is_estimated: bool
    gender: str
    phone: str

    def similarity(self, query: str) -> float:
        return name_similarity(query, self.search_text, self.search_keys)


def token_scope(scope) -> Q | None:
    """The condition on name keys for a user's scope (None: national): their sites' patients and those seen there."""
    if scope is None or scope.national:
        return None
    return scope.site_q("site") | Q(seen_in_scope(scope, "patient_id"))


def key_range(prefix: str, *, exclusive: bool = False) -> Q:
    """Keys that begin with ``prefix``, as a range that the key index answers (LIKE would not use it everywhere).

    ``exclusive`` leaves out the key equal to ``prefix`` (already looked up exactly). Two-word keys are left
    out (the same patient's one-word key is in the range too); the range starts after those that begin with
    ``prefix`` and a space, so that it does not walk through them.
    """
    upper = prefix[:-1] + chr(ord(prefix[-1]) + 1)
    longer = Q(key__gte=prefix + "a", key__lt=upper) & ~Q(key__contains=" ")
    return longer if exclusive else Q(key=prefix) | longer


def _name_candidates(queryset, text: str, limit: int, scope=None, *, prefix: bool = False) -> list[Candidate]:
    """Patients of ``queryset`` whose name keys match ``text``: first those sharing two words, then each word's share.

    With ``prefix``, the last word may be unfinished ("Moh"): patients with a key that begins with it fill
    what is left of ``limit``. With the user's ``scope`` the keys are narrowed within the index; the queryset
    stays the authority.
    """
    keys = name_keys(text)
    if not keys:
        return []
    tokens = PatientNameToken.objects.all()
    if scope is not None:
        condition = token_scope(scope)
        tokens = tokens if condition is None else tokens.filter(condition)
    elif queryset.query.where:
        tokens = tokens.filter(patient__in=queryset.values("pk"))

    def having(*wanted):
        return tokens.filter(key__in=wanted).values_list("patient_id", flat=True)

    ids: dict = {}
    pairs = pair_keys(keys)
    if pairs:
        ids.update(dict.fromkeys(having(*pairs)[:limit]))
    share = max(1, (limit - len(ids)) // len(keys))
    for key in keys:
        if len(ids) >= limit:
            break
        ids.update(dict.fromkeys(having(key)[:share]))
    for start in prefix_keys(text) if prefix else ():
        if len(ids) >= limit:
            break
        found = tokens.filter(key_range(start, exclusive=start in keys)).values_list("patient_id", flat=True)
        ids.update(dict.fromkeys(found[:limit - len(ids)]))
    rows = queryset.filter(pk__in=list(ids)[:limit]).order_by().values_list(*Candidate.__dataclass_fields__)
    return [Candidate(*row) for row in rows]


def _load(matches: list[Match]) -> list[Match]:
    """Replace each match's candidate by its full patient record, keeping the order."""
    patients = Patient.objects.in_bulk([m.patient.pk for m in matches])
    loaded = [Match(patients[m.patient.pk], m.score, m.reasons) for m in matches if m.patient.pk in patients]
    return loaded


# Identifiers that name one person; a phone number may be a whole family's.
PERSONAL_IDENTIFIERS = ("record_number", "national_id")


def identifier_of(query: str) -> tuple[str, object] | None:
    """The identifier field and value that ``query`` is (record number, CIN or phone), if it is one."""
    record_number = clean_record_number(query)
    if record_number:
        return "record_number", record_number
    for field_name, normalise in (("national_id", normalise_cin), ("phone", normalise_phone)):
        try:
            value = normalise(query)
        except ValidationError:
            continue
        if value:
            return field_name, value
    return None


def search_patients(queryset, query: str, *, limit: int = 20, scope=None) -> list[Match]:
    """Patients of ``queryset`` matching ``query`` (name in either script, CIN, phone or record number), best first.

    Pass the user's ``scope`` with ``Patient.objects.restrict(user, perm)`` so that names are narrowed in the index.
    """
    query = (query or "").strip()
    if not query:
        return []
    identifier = identifier_of(query)
    if identifier is not None:
        field_name, value = identifier
        found = list(queryset.filter(**{field_name: value}).select_related("commune", "merged_into")[:limit])
        # A merged record found by its old identifier leads to the record that replaced it, if the caller may
        # see that one too: a merge across sites must not open the other site's record.
        survivors = {p.merged_into_id for p in found if p.merged_into_id}
        visible = set(queryset.filter(pk__in=survivors).values_list("pk", flat=True)) if survivors else set()
        return [Match(p.merged_into or p, 100.0, [field_name]) for p in found
                if p.merged_into_id is None or p.merged_into_id in visible]
    matches = [Match(c, c.similarity(query), ["name"])
               for c in _name_candidates(queryset, query, CANDIDATES, scope, prefix=True)]
    matches.sort(key=lambda m: (-m.score, m.patient.family_name, m.patient.given_name))
    return _load(matches[:limit])


def patients_named(text: str, *, limit: int = 10) -> tuple[list[Patient], list]:
    """The patients (anywhere) that a name, CIN, phone or record number names, best first, and the ids of their
    records with those merged into them (for the audit trail's search by patient)."""
    patients = [match.patient for match in search_patients(Patient.objects.all(), text, limit=limit)]
    survivors = [patient.pk for patient in patients]
    merged = list(Patient.objects.filter(merged_into__in=survivors).values_list("pk", flat=True)) if survivors else []
    return patients, [*survivors, *merged]


def _lenient(normalise, raw):
    """``raw`` normalised, or "" while it is still being typed (not valid yet)."""
    try:
        return normalise(raw or "")
    except ValidationError:
        return ""


def find_duplicates(queryset, *, given_name="", family_name="", given_name_ar="", family_name_ar="",
                    birth_date=None, gender="", national_id="", phone="", exclude=None, limit: int = 5,
                    scope=None) -> list[Match]:
    """Existing patients who are probably the person about to be registered, best first."""
    found: dict = {}
    national_id, phone = _lenient(normalise_cin, national_id), _lenient(normalise_phone, phone)

    def add(patient, score, reason):
        if exclude is not None and patient.pk == exclude:
            return
        match = found.setdefault(patient.pk, Match(patient, 0.0))
        match.score = max(match.score, score)
        if reason not in match.reasons:
            match.reasons.append(reason)

    active = queryset.filter(merged_into__isnull=True)
    if national_id:
        for patient in active.filter(national_id=national_id):
            add(patient, 100.0, "national_id")
    for name in (f"{given_name} {family_name}", f"{given_name_ar} {family_name_ar}"):
        if not name.strip():
            continue
        for patient in _name_candidates(queryset, name, CANDIDATES, scope):
            score = patient.similarity(name)
            if birth_date and patient.birth_date:
                gap = abs(patient.birth_date.year - birth_date.year)
                tolerance = 2 if patient.birth_date_is_estimated else 0
                score += 10 if gap <= tolerance else -15
            if gender and patient.gender not in (gender, Patient.Gender.UNKNOWN):
                score -= 20
            if phone and patient.phone == phone:
                score += 15
            if score >= DUPLICATE_THRESHOLD:
                add(patient, min(score, 100.0), "name")
    if phone:
        for patient in active.filter(phone=phone)[:limit]:
            if patient.pk in found:
                continue
            full_name = f"{given_name} {family_name} {given_name_ar} {family_name_ar}"
            if name_similarity(full_name, patient.search_text, patient.search_keys) >= 50:
                add(patient, 80.0, "phone")
    return _load(sorted(found.values(), key=lambda m: -m.score)[:limit])
