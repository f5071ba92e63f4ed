"""Whose events the audit trail holds: the rows about a patient, whatever kind of object they name.

An audit row names its object by type and id (``object_label``). Every object that belongs to a patient (a visit,
an observation, a consent, a telemedicine act, a message of that act...) is found through the models' own foreign
keys, so that a search by patient covers every kind of event, those of models added later included. Which
patients a name or a record number means is answered by the patients app (``register_patient_finder``): this app
sits below it.
"""

from __future__ import annotations

import uuid
from functools import cache, reduce
from operator import or_
from typing import Callable

from django.apps import apps
from django.db import models
from django.db.models import Q
from django.db.models.functions import Cast

PATIENT = "patients.patient"
# Rows reach their patient within this many foreign keys (a message -> its act -> the patient).
MAX_HOPS = 3

_finder: list[Callable[[str], tuple[list, list]]] = []


def register_patient_finder(finder: Callable[[str], tuple[list, list]]) -> None:
    """Install the function that turns a name or a record number into (patients found, every record id of theirs)."""
    _finder[:] = [finder]


def find_patients(text: str) -> tuple[list, list]:
    """The patients that ``text`` names, and the ids of their records (those merged into them included)."""
    return _finder[0](text) if _finder else ([], [])


@cache
def patient_paths() -> dict[str, str]:
    """For each model whose rows belong to a patient, the lookup from it to that patient's id ("patient_id",
    "act__patient_id"), by the shortest chain of foreign keys."""
    if not apps.is_installed("caravane.patients"):
        return {}
    patient_model = apps.get_model(PATIENT)
    reached: dict = {patient_model: "pk"}
    for _hop in range(MAX_HOPS):
        found = {}
        for model in apps.get_models():
            if model in reached:
                continue
            links = [field for field in model._meta.concrete_fields
                     if (field.many_to_one or field.one_to_one) and field.related_model in reached]
            if links:
                field = next((f for f in links if f.name == "patient"), links[0])
                target = reached[field.related_model]
                found[model] = field.attname if target == "pk" else f"{field.name}__{target}"
        if not found:
            break
        reached.update(found)
    return {model._meta.label_lower: path for model, path in reached.items()}


def _as_label_id(model, value) -> str:
    """An id read as text in SQL, written as an audit row writes it (SQLite keeps UUIDs as bare hex)."""
    if isinstance(model._meta.pk, models.UUIDField):
        return str(uuid.UUID(str(value)))
    return str(value)


def objects_of(patient_ids: list) -> dict[str, list[str]]:
    """Every object that belongs to these patients, by type, as audit rows name them; read in one query."""
    if not patient_ids:
        return {}
    paths = patient_paths()
    parts = [apps.get_model(label)._default_manager.filter(**{f"{path}__in": patient_ids}).order_by()
             .annotate(_kind=models.Value(label, output_field=models.CharField()),
                       _key=Cast("pk", output_field=models.CharField())).values_list("_kind", "_key")
             for label, path in paths.items() if label != PATIENT]
    objects: dict[str, list[str]] = {PATIENT: [str(pk) for pk in patient_ids]}
    if parts:
        for label, key in parts[0].union(*parts[1:], all=True):
            objects.setdefault(label, []).append(_as_label_id(apps.get_model(label), key))
    return objects


def about_patients(patient_ids: list) -> Q:
    """The audit rows about these patients or anything of theirs (nothing when there is none)."""
    objects = objects_of(patient_ids)
    if not objects:
        return Q(pk__in=[])
    return reduce(or_, (Q(object_type=label, object_id__in=ids) for label, ids in objects.items()))
