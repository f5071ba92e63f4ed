"""Forms of the telemedicine pages: they render and parse; the actions validate and name the field at fault."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from caravane.care import dosage, icd10
from caravane.care.models import MedicationRequest
from caravane.core.text import INCIDENT_MAX, MESSAGE_MAX, NOTE_MAX, SHORT_TEXT_MAX
from caravane.network.models import Specialty
from caravane.telemed.actions import Upload
from caravane.telemed.models import Attachment, Kind, Priority, TechnicalIncident

# The field of each upload input and the category its files are stored as.
UPLOAD_FIELDS = (("photos", Attachment.Category.PHOTO), ("documents", Attachment.Category.DOCUMENT),
                 ("ecgs", Attachment.Category.ECG))


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one input; the actions check each one's type, content and size."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput(attrs={"multiple": True}))
        kwargs.setdefault("required", False)
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        files = data if isinstance(data, (list, tuple)) else [data] if data else []
        return [super(MultipleFileField, self).clean(item, initial) for item in files]


def uploads_from(request_files, fields=UPLOAD_FIELDS) -> list[Upload]:
    """The files of a form's upload inputs, each with its category (read later, in chunks, by the checks)."""
    return [Upload.from_uploaded(uploaded, category, field=name)
            for name, category in fields for uploaded in request_files.getlist(name)]


def specialty_choices():
    from caravane.telemed.selectors import specialty_name

    return [("", "—")] + [(s.pk, specialty_name(s)) for s in Specialty.objects.order_by("code")]


class RequestForm(forms.Form):
    """A GP's request for a teleconsultation or a tele-expertise about the patient of a visit."""

    kind = forms.ChoiceField(label=_("Act"), choices=[(Kind.TELECONSULTATION.value, Kind.TELECONSULTATION.label),
                                                      (Kind.TELEEXPERTISE.value, Kind.TELEEXPERTISE.label)])
    specialty = forms.ChoiceField(label=_("Specialty"), required=False)
    priority = forms.ChoiceField(label=_("Priority"), choices=Priority.choices, initial=Priority.ROUTINE)
    question = forms.CharField(label=_("Clinical question"), required=False, max_length=MESSAGE_MAX,
                               widget=forms.Textarea(attrs={"rows": 4}))
    complex_case = forms.BooleanField(label=_("Specific or complex case (tele-expertise at the national centre)"),
                                      required=False)
    observable = forms.BooleanField(label=_("A coordinator of the area may observe the call"), required=False)
    photos = MultipleFileField(label=_("Photos"))
    documents = MultipleFileField(label=_("Documents"))
    ecgs = MultipleFileField(label=_("ECG recordings"))
    send_anyway = forms.BooleanField(label=_("Send anyway, although no hub can answer within the service level"),
                                     required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["specialty"].choices = specialty_choices()


class ReportForm(forms.Form):
    """The specialist's report; the ICD-10 field takes "code — label" as picked from the suggestions."""

    findings = forms.CharField(label=_("Findings"), required=False, max_length=NOTE_MAX,
                               widget=forms.Textarea(attrs={"rows": 5}))
    icd10_code = forms.CharField(label=_("Diagnosis (ICD-10 code or label)"), required=False)
    icd10_category = forms.BooleanField(label=_("Code the category itself"), required=False)
    diagnosis_text = forms.CharField(label=_("Diagnosis in words"), required=False, max_length=SHORT_TEXT_MAX)
    recommendations = forms.CharField(label=_("Recommendations"), required=False, max_length=NOTE_MAX,
                                      widget=forms.Textarea(attrs={"rows": 4}))
    prescriptions = forms.CharField(label=_("Prescriptions"), required=False, max_length=NOTE_MAX,
                                    widget=forms.Textarea(attrs={"rows": 3}))
    follow_up = forms.CharField(label=_("Follow-up"), required=False, max_length=NOTE_MAX,
                                widget=forms.Textarea(attrs={"rows": 2}))

    # The repeated inputs of a medication line, each posted as ``line_<field>`` once per line.
    LINE_INPUTS = ("medication", "dose_value", "dose_unit", "route", "timing", "duration_days", "instructions")
    unit_choices, timing_choices = dosage.UNIT_CHOICES, dosage.TIMING_CHOICES
    route_choices = MedicationRequest.Route.choices

    def __init__(self, *args, lines=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["icd10_code"].widget.attrs.update(icd10.picker_attrs())
        self.lines = list(lines)

    def posted_lines(self) -> list[dict]:
        """The medication lines as posted, in order; a line left wholly empty (bar its route) is no line."""
        columns = {name: self.data.getlist(f"line_{name}") if hasattr(self.data, "getlist") else []
                   for name in self.LINE_INPUTS}
        count = max(map(len, columns.values()), default=0)
        rows = [{name: (values[i] if i < len(values) else "").strip() for name, values in columns.items()}
                for i in range(count)]
        return [row for row in rows if any(value for name, value in row.items() if name != "route")]

    def line_rows(self) -> list[dict]:
        """The lines the form shows: those posted, or the draft's, and one empty line to fill."""
        rows = self.posted_lines() if self.is_bound else [
            {name: "" if line.get(name) is None else str(line.get(name, "")) for name in self.LINE_INPUTS}
            for line in self.lines]
        return rows + [dict.fromkeys(self.LINE_INPUTS, "")]

    def action_fields(self) -> dict:
        """The report's fields as the actions take them (the ICD-10 code alone, the lines as a list)."""
        values = {name: self.data.get(name, "") for name in self.fields}
        values["icd10_code"] = (values["icd10_code"] or "").split(" ", 1)[0]
        values["icd10_category"] = bool(values["icd10_category"])
        values["medication_lines"] = self.posted_lines()
        return values


class IncidentForm(forms.Form):
    category = forms.ChoiceField(label=_("Incident"), choices=TechnicalIncident.Category.choices)
    description = forms.CharField(label=_("What happened"), required=False, max_length=INCIDENT_MAX)


class SlotForm(forms.Form):
    """A period of availability on the specialist's roster."""

    hub = forms.ChoiceField(label=_("Hub"))
    start = forms.DateTimeField(label=_("Start"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"},
                                                                             format="%Y-%m-%dT%H:%M"),
                                input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"])
    end = forms.DateTimeField(label=_("End"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"},
                                                                         format="%Y-%m-%dT%H:%M"),
                              input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"])

    def __init__(self, *args, hubs=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["hub"].choices = [(str(h.pk), h.name) for h in hubs]
