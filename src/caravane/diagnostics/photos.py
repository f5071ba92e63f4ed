"""Examination photographs (dermatoscope, wound, skin): JPEG, PNG or DICOM visible-light images, checked, read
and rendered once at import into a JPEG for the viewer and a thumbnail.

A DICOM object is a photograph when its storage class is a visible-light or secondary-capture one, or when it is
in colour (files.dicom_kind). Every photometric interpretation pydicom knows is turned into RGB or grey: YBR
(full or 4:2:2) converted, palettes applied, MONOCHROME1 inverted, 16-bit grey windowed to its own range.
"""

from __future__ import annotations

import datetime
import io
from dataclasses import dataclass

import numpy as np
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from caravane.core import files

THUMBNAIL_PIXELS = 256
VIEW_PIXELS = 2400  # the viewer's rendering: enough for a 4x zoom of a tablet screen
MAX_PIXELS = 60_000_000


@dataclass
class Photo:
    """A photograph read from a file: its format, pixels (PIL image) and what the file says of it."""

    format: files.Format
    image: object
    taken_at: datetime.datetime | None = None
    body_site: str = ""
    device: str = ""

    def jpeg(self, longest: int, quality: int = 85) -> bytes:
        """The image as a JPEG no larger than ``longest`` pixels on its longer side."""
        image = self.image.copy()
        image.thumbnail((longest, longest))
        out = io.BytesIO()
        image.convert("RGB" if image.mode not in ("L", "RGB") else image.mode).save(out, "JPEG", quality=quality)
        return out.getvalue()


def _pil(content: bytes, name: str):
    from PIL import Image

    try:
        image = Image.open(io.BytesIO(content))
        if image.width * image.height > MAX_PIXELS:
            raise ValidationError(_("%(file)s has too many pixels.") % {"file": name})
        image.load()  # decodes every byte: a truncated file fails here
    except ValidationError:
        raise
    except Exception:  # Pillow's many decoding errors
        raise ValidationError(_("%(file)s is damaged or truncated: the image cannot be read.") % {"file": name})
    return image


def _dicom_datetime(dataset) -> datetime.datetime | None:
    for date_tag, time_tag in (("AcquisitionDate", "AcquisitionTime"), ("ContentDate", "ContentTime"),
                               ("StudyDate", "StudyTime")):
        day = str(dataset.get(date_tag, "") or "")
        if len(day) == 8 and day.isdigit():
            clock = (str(dataset.get(time_tag, "") or "").split(".")[0] + "000000")[:6]
            try:
                return datetime.datetime.strptime(day + (clock if clock.isdigit() else "000000"), "%Y%m%d%H%M%S")
            except ValueError:
                continue
    return None


def _dicom_pixels(dataset) -> np.ndarray:
    """The first frame as 8-bit grey or RGB."""
    from pydicom.pixels import apply_color_lut, pixel_array

    photometric = str(dataset.get("PhotometricInterpretation", ""))
    frames = int(dataset.get("NumberOfFrames", 1) or 1)
    array = pixel_array(dataset, index=0 if frames > 1 else None, as_rgb=True)
    if photometric == "PALETTE COLOR":
        array = apply_color_lut(array, dataset)
    if array.ndim == 3 and array.shape[-1] == 3:
        if array.dtype != np.uint8:
            array = (array.astype(np.float64) * 255.0 / max(1.0, float(array.max()))).astype(np.uint8)
        return array
    grey = array.astype(np.float64)
    low, high = float(grey.min()), float(grey.max())
    grey = (grey - low) * (255.0 / (high - low)) if high > low else np.zeros_like(grey)
    if photometric == "MONOCHROME1":
        grey = 255.0 - grey
    return grey.astype(np.uint8)


def _read_dicom(content: bytes, name: str) -> Photo:
    import pydicom
    from PIL import Image

    head = content[:files.HEAD_BYTES]
    kind = files.dicom_kind(head)
    if kind is None:
        raise ValidationError(_("%(file)s is damaged: the DICOM object cannot be read.") % {"file": name})
    if kind.kind == "ecg":
        raise ValidationError(_("%(file)s is a DICOM ECG, not a photograph: import it as an ECG.") % {"file": name})
    if kind.kind != "photo":
        raise ValidationError(_("%(file)s is a DICOM %(what)s, not a photograph.") % {"file": name,
                                                                                       "what": kind.name})
    try:
        dataset = pydicom.dcmread(io.BytesIO(files.dicom_readable(content)), force=True)
        if int(dataset.Rows) * int(dataset.Columns) > MAX_PIXELS:
            raise ValidationError(_("%(file)s has too many pixels.") % {"file": name})
        image = Image.fromarray(_dicom_pixels(dataset))
    except ValidationError:
        raise
    except Exception:  # pydicom and its decoders raise many kinds on damaged or truncated pixel data
        raise ValidationError(_("%(file)s is damaged or truncated: the DICOM image cannot be read.") % {"file": name})
    site = dataset.get("AnatomicRegionSequence")
    body_site = (site[0].get("CodeMeaning", "") if site else "") or str(dataset.get("BodyPartExamined", "") or "")
    device = " ".join(str(dataset.get(tag, "") or "") for tag in ("Manufacturer", "ManufacturerModelName")).strip()
    return Photo(files.DICOM_PHOTO, image, _dicom_datetime(dataset), body_site[:120], device[:120])


ACCEPTED = (files.JPEG, files.PNG, files.DICOM_PHOTO)


def read_photo(content: bytes, name: str, declared: str) -> Photo:
    """The photograph a file holds; ValidationError naming the file when it is of another kind, damaged,
    truncated, or not what it is declared to be."""
    from django.core.files.base import ContentFile

    found = files.check_file(ContentFile(content), name=name, declared=declared, accepted=ACCEPTED + (files.DICOM,),
                             max_bytes=20 * files.MB, accepted_as=_("photograph"))
    if found in (files.DICOM_PHOTO, files.DICOM):
        return _read_dicom(content, name)
    return Photo(found, _pil(content, name))
