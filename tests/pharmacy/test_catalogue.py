"""The catalogue: the WHO Model List read from its registry package, and a national list as CSV."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from caravane.pharmacy import actions, catalogue
from caravane.pharmacy.models import Category, Medicine, Product

pytestmark = pytest.mark.django_db


def test_the_who_list_loads_with_french_and_arabic_names_and_categories():
    out = io.StringIO()
    call_command("import_medicines", stdout=out)
    assert "442 medicines" in out.getvalue()
    amoxicillin = Medicine.objects.get(inn="amoxicillin")
    assert (amoxicillin.name_fr, amoxicillin.name_ar) == ("amoxicilline", "أموكسيسيلين")
    assert amoxicillin.category.name_en == "Beta Lactam medicines" and amoxicillin.category.parent_id
    assert "Solid oral dosage form: 250 mg; 500 mg" in amoxicillin.presentations
    assert Category.objects.get(code="em_6").name_fr == "MÉDICAMENTS ANTI-INFECTIEUX"
    call_command("import_medicines", stdout=io.StringIO())  # again: refreshed, not doubled
    assert Medicine.objects.filter(inn="amoxicillin").count() == Medicine.objects.filter(
        inn="amoxicillin", source="who").count()


def test_the_package_folder_is_found_from_the_distribution():
    assert (catalogue.who_directory() / "locale" / "ar.po").exists()


NATIONAL = """code,inn,name_fr,name_ar,form,strength,unit,atc_code,category,dose_unit,dose_per_unit
ma-amox-500,amoxicillin,amoxicilline,أموكسيسيلين,capsule,500 mg,capsule,J01CA04,,capsule,1
ma-para-sirop,paracetamol,paracétamol,باراسيتامول,syrup,120 mg/5 mL,bottle,N02BE01,,mL,100
ma-bad-form,ibuprofen,ibuprofène,,powder,,tablet,,,,
ma-bad-atc,ibuprofen,ibuprofène,,tablet,400 mg,tablet,XYZ,,,
ma-amox-500,amoxicillin,,,capsule,,capsule,,,,
,metformin,,,tablet,,tablet,,,,
ma-dose,salbutamol,,,inhaler,100 µg,inhaler,R03AC02,,puff,-2
"""


def test_a_national_list_keeps_valid_rows_and_reports_the_rejected_ones():
    report = actions.do_import_national_list(content=NATIONAL.encode())
    assert [row.values["code"] for row in report.accepted] == ["ma-amox-500", "ma-para-sirop"]
    assert [line for line, _reason in report.rejected] == [4, 5, 6, 7, 8]
    reasons = dict(report.rejected)
    assert "form" in reasons[4] and "ATC" in reasons[5] and "twice" in reasons[6] and "dose_per_unit" in reasons[8]
    syrup = Product.objects.get(code="ma-para-sirop")
    assert (syrup.unit, syrup.dose_unit, syrup.dose_per_unit, syrup.medicine.name_ar) == ("bottle", "mL", 100,
                                                                                         "باراسيتامول")


def test_a_file_that_is_not_a_list_is_rejected_whole():
    assert actions.do_import_national_list(content=b"\xff\xfe\x00garbage").rejected[0][0] == 0
    report = actions.do_import_national_list(content="name,price\nx,1\n")
    assert report.rejected and "Missing columns" in report.rejected[0][1] and not report.accepted
