"""Forms that validate patient and consent input for the pages and the API alike."""

from __future__ import annotations

import datetime
import uuid

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from caravane.core import files
from caravane.geo.models import Commune
from caravane.network.models import Site
from caravane.patients.identifiers import normalise_cin, normalise_phone
from caravane.patients.models import Consent, Patient

PATIENT_FIELDS = [
    "given_name", "family_name", "given_name_ar", "family_name_ar", "gender", "birth_date", "national_id", "phone",
    "commune", "address", "emergency_contact_name", "emergency_contact_relation", "emergency_contact_phone",
    "coverage_type", "coverage_number", "coverage_valid_from", "coverage_valid_until",
]
OLDEST_AGE = 130
CONSENT_DOCUMENT_FORMATS = (files.PDF, files.JPEG, files.PNG)


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%d", **kwargs)


class PatientForm(forms.ModelForm):
    """Demographics, identifiers, contact and coverage; a birth date, a birth year or an age."""

    birth_year = forms.IntegerField(label=_("or birth year only"), required=False,
                                    widget=forms.NumberInput(attrs={"inputmode": "numeric"}))
    age_years = forms.IntegerField(label=_("or age in years"), required=False, min_value=0, max_value=OLDEST_AGE,
                                   widget=forms.NumberInput(attrs={"inputmode": "numeric"}))
    commune = forms.ModelChoiceField(queryset=Commune.objects.order_by("name_fr"), required=False,
                                     label=_("commune"))

    class Meta:
        model = Patient
        fields = PATIENT_FIELDS
        widgets = {
            "birth_date": DateInput(),
            "coverage_valid_from": DateInput(),
            "coverage_valid_until": DateInput(),
            "given_name_ar": forms.TextInput(attrs={"dir": "rtl", "lang": "ar"}),
            "family_name_ar": forms.TextInput(attrs={"dir": "rtl", "lang": "ar"}),
            "phone": forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "off"}),
            "emergency_contact_phone": forms.TextInput(attrs={"inputmode": "tel"}),
            "national_id": forms.TextInput(attrs={"autocapitalize": "characters", "autocomplete": "off"}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Typed identifiers carry spaces, dashes and prefixes; the stored, normalised forms are shorter.
        for name in ("national_id", "phone", "emergency_contact_phone"):
            self.fields[name].max_length = 32
            self.fields[name].validators = []
            self.fields[name].widget.attrs["maxlength"] = "32"
        if self.instance.pk and self.instance.birth_date_is_estimated and self.instance.birth_date:
            self.initial["birth_date"] = None
            self.initial["birth_year"] = self.instance.birth_date.year

    def clean_birth_date(self):
        value = self.cleaned_data.get("birth_date")
        today = timezone.localdate()
        if value and value > today:
            raise ValidationError(_("The birth date cannot be in the future."), code="future")
        if value and value.year < today.year - OLDEST_AGE:
            raise ValidationError(_("The birth date is too far in the past."), code="too_old")
        return value

    def clean_birth_year(self):
        value = self.cleaned_data.get("birth_year")
        this_year = timezone.localdate().year
        if value is not None and not this_year - OLDEST_AGE <= value <= this_year:
            raise ValidationError(_("Enter a birth year between %(first)s and %(last)s.")
                                  % {"first": this_year - OLDEST_AGE, "last": this_year}, code="bad_year")
        return value

    def clean_national_id(self):
        value = normalise_cin(self.cleaned_data.get("national_id") or "")
        if value and Patient.objects.filter(national_id=value).exclude(pk=self.instance.pk).exists():
            raise ValidationError(_("A patient with this national ID (CIN) is already registered: search for them."),
                                  code="duplicate_cin")
        return value or None

    def clean_phone(self):
        return normalise_phone(self.cleaned_data.get("phone") or "")

    def clean_emergency_contact_phone(self):
        return normalise_phone(self.cleaned_data.get("emergency_contact_phone") or "")

    def clean(self):
        data = super().clean()
        latin = data.get("given_name") or data.get("family_name")
        arabic = data.get("given_name_ar") or data.get("family_name_ar")
        if not latin and not arabic:
            self.add_error("given_name", _("Enter the patient's name in Latin or Arabic script."))
        self._clean_birth(data)
        if data.get("coverage_type") not in (None, "", Patient.Coverage.NONE) and not data.get("coverage_number"):
            self.add_error("coverage_number", _("Enter the coverage card number."))
        start, end = data.get("coverage_valid_from"), data.get("coverage_valid_until")
        if start and end and end < start:
            self.add_error("coverage_valid_until", _("The end of coverage comes before its start."))
        contact = data.get("emergency_contact_phone") or data.get("emergency_contact_relation")
        if contact and not data.get("emergency_contact_name"):
            self.add_error("emergency_contact_name", _("Enter the emergency contact's name."))
        return data

    def _clean_birth(self, data):
        given = [name for name in ("birth_date", "birth_year", "age_years") if data.get(name) not in (None, "")]
        if len(given) > 1:
            self.add_error(given[1], _("Give a birth date, a birth year or an age, not several."))
            return
        today = timezone.localdate()
        if "birth_year" in given:
            # A year alone: mid-year is the estimate that errs least either way.
            data["birth_date"] = min(datetime.date(data["birth_year"], 7, 1), today)
            self.instance.birth_date_is_estimated = True
        elif "age_years" in given:
            years = data["age_years"]
            try:
                data["birth_date"] = today.replace(year=today.year - years)
            except ValueError:  # 29 February
                data["birth_date"] = today.replace(year=today.year - years, day=28)
            self.instance.birth_date_is_estimated = True
        else:
            self.instance.birth_date_is_estimated = False

    def patient_data(self) -> dict:
        """The validated model fields, ready for do_register_patient / do_update_patient."""
        data = {name: self.cleaned_data.get(name) for name in PATIENT_FIELDS}
        data["birth_date_is_estimated"] = self.instance.birth_date_is_estimated
        data["national_id"] = data["national_id"] or None
        return data


class RegistrationForm(PatientForm):
    """A new patient: where they are registered, and confirmation when look-alikes exist."""

    registration_site = forms.ModelChoiceField(queryset=Site.objects.none(), label=_("registration site"))
    confirm_new = forms.BooleanField(required=False, label=_("None of these is the same person: register a new patient"))

    def __init__(self, *args, sites=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["registration_site"].queryset = sites if sites is not None else Site.objects.none()
        if sites is not None and len(sites) == 1:
            self.fields["registration_site"].initial = sites[0].pk


class ConsentForm(forms.Form):
    """A consent obtained now: acts, how, witness or document, validity."""

    acts = forms.MultipleChoiceField(choices=Consent.Act.choices, widget=forms.CheckboxSelectMultiple,
                                     label=_("Consents to"))
    method = forms.ChoiceField(choices=Consent.Method.choices, label=_("How it was obtained"))
    witness_name = forms.CharField(max_length=120, required=False, label=_("Witness name"))
    document = forms.FileField(required=False, label=_("Document (PDF, JPEG or PNG)"))
    period_start = forms.DateField(label=_("Valid from"), widget=DateInput())
    period_end = forms.DateField(label=_("Valid until"), required=False, widget=DateInput())
    note = forms.CharField(max_length=240, required=False, label=_("Note"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["period_start"].initial = timezone.localdate()

    def clean_document(self):
        """A scan whose content is the PDF, JPEG or PNG it is declared as, renamed by the server."""
        document = self.cleaned_data.get("document")
        if document:
            found = files.check_file(document, name=files.display_name(document.name),
                                     declared=files.declared_type(document.content_type),
                                     accepted=CONSENT_DOCUMENT_FORMATS, max_bytes=Consent.DOCUMENT_MAX_BYTES,
                                     accepted_as=_("the consent document"))
            document.name = f"{uuid.uuid4().hex}.{found.extension}"
        return document


class RevokeConsentForm(forms.Form):
    reason = forms.CharField(max_length=240, required=False, label=_("Reason"))


class MergeForm(forms.Form):
    """Which duplicate record to fold into the one being viewed."""

    duplicate = forms.CharField(max_length=40, label=_("Record number of the duplicate"))
    reason = forms.CharField(max_length=240, required=False, label=_("Reason"))
    confirm = forms.BooleanField(required=False, label=_("I have checked that both records are the same person"))
