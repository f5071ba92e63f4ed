"""A merge across sites opens nothing: searching the merged record's identifiers finds nothing out of scope."""

import pytest
from django.urls import reverse

from caravane.audit.models import AuditEvent
from caravane.patients.actions import do_merge_patients

pytestmark = pytest.mark.django_db


@pytest.fixture
def cross_site_merge(register, staff_factory, other_site, nurse):
    """An Imilchil record merged into a Talsint one (by a national coordinator): the survivor is Talsint's."""
    far_nurse = staff_factory(role="nurse", site=other_site)
    survivor = register(given_name="Fatima", family_name="Ouali", national_id="JT12345", phone="+212661000111",
                        at=other_site, by=far_nurse)
    merged = register(given_name="Fatima", family_name="Ouali", national_id="JC54321", phone="+212662000222")
    coordinator = staff_factory(role="coordinator")
    do_merge_patients(actor=coordinator.user, survivor=survivor, merged=merged, reason="same person")
    return survivor, merged


@pytest.mark.parametrize("query", ["record_number", "national_id", "phone"])
def test_search_by_a_merged_identifier_returns_nothing_out_of_scope(client_for, nurse, cross_site_merge, query):
    survivor, merged = cross_site_merge
    value = merged.record_number_display if query == "record_number" else getattr(merged, query)
    client = client_for(nurse)
    page = client.get(reverse("patients:search"), {"q": value}).content.decode()
    api = client.get("/api/patients/", {"q": value}).json()
    for leaked in (survivor.national_id, survivor.phone, survivor.record_number_display):
        assert leaked not in page
    assert api == []
    # Reading the survivor directly is refused too, with a denied row.
    assert client.get(reverse("patients:detail", args=[survivor.pk])).status_code == 403
    assert AuditEvent.objects.filter(actor=nurse.user, outcome="denied", object_id=str(survivor.pk)).exists()


def test_the_search_row_records_which_patients_were_returned(client_for, nurse, register):
    patient = register(given_name="Brahim", family_name="Assou")
    client_for(nurse).get("/api/patients/", {"q": "Brahim"})
    row = AuditEvent.objects.filter(actor=nurse.user, action="search").latest("at")
    assert row.detail["returned"] == [str(patient.pk)]
    assert row.outcome == "allowed"
