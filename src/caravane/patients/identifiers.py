"""Identifiers a patient carries: record number, national ID card (CIN) and phone number."""

from __future__ import annotations

import re
import uuid

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

# Crockford base32: no I, L, O or U, so a number read aloud or copied by hand survives.
CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CHECK_SYMBOLS = CROCKFORD + "*~$=U"
_READ_AS = str.maketrans({"I": "1", "L": "1", "O": "0"})

RECORD_BODY_LENGTH = 16
RECORD_NUMBER_LENGTH = RECORD_BODY_LENGTH + 1


def record_number_for(pk: uuid.UUID) -> str:
    """The record number derived from a UUIDv7: its 48-bit timestamp and 32 random bits, base32, check symbol.

    A field site mints it offline with the key; two sites collide only if they register in the
    same millisecond and draw the same 32 random bits.
    """
    value = pk.int
    timestamp = value >> 80
    rand_a = (value >> 64) & 0xFFF
    rand_b = value & ((1 << 62) - 1)
    packed = (timestamp << 32) | (rand_a << 20) | (rand_b >> 42)
    body = "".join(CROCKFORD[(packed >> shift) & 31] for shift in range(5 * (RECORD_BODY_LENGTH - 1), -1, -5))
    return body + CHECK_SYMBOLS[packed % 37]


def clean_record_number(raw: str) -> str | None:
    """The canonical record number typed as ``raw`` (dashes, spaces and case ignored), or None if invalid."""
    text = re.sub(r"[\s-]", "", raw or "").upper()
    if len(text) != RECORD_NUMBER_LENGTH:
        return None
    body, check = text[:-1].translate(_READ_AS), text[-1]
    if any(ch not in CROCKFORD for ch in body):
        return None
    packed = 0
    for ch in body:
        packed = packed * 32 + CROCKFORD.index(ch)
    if check.translate(_READ_AS) != CHECK_SYMBOLS[packed % 37]:
        return None
    return body + CHECK_SYMBOLS[packed % 37]


def format_record_number(number: str) -> str:
    """The record number in groups of four, as printed on cards."""
    groups = [number[i:i + 4] for i in range(0, RECORD_BODY_LENGTH, 4)]
    return "-".join(groups) + "-" + number[RECORD_BODY_LENGTH:]


CIN_PATTERN = re.compile(r"^[A-Z]{1,2}[0-9]{3,6}$")


def normalise_cin(raw: str) -> str:
    """The national ID card number in canonical form (upper case, no spaces); raises ValidationError."""
    text = re.sub(r"[\s-]", "", raw or "").upper()
    if not text:
        return ""
    if not CIN_PATTERN.match(text):
        raise ValidationError(
            _("A national ID (CIN) is one or two letters followed by digits, for example AB123456 or J123456."),
            code="invalid_cin",
        )
    return text


_PHONE_PREFIXES = ("+212", "00212", "212")


def normalise_phone(raw: str) -> str:
    """A Moroccan phone number (06/07 mobile, 05 fixed, +212 forms) in E.164 form; raises ValidationError."""
    text = re.sub(r"[\s.\-()/]", "", raw or "")
    if not text:
        return ""
    national = None
    for prefix in _PHONE_PREFIXES:
        if text.startswith(prefix):
            rest = text[len(prefix):]
            national = rest[1:] if rest.startswith("0") else rest
            break
    else:
        if text.startswith("0"):
            national = text[1:]
    if national is None or not re.fullmatch(r"[567][0-9]{8}", national):
        raise ValidationError(
            _("Enter a Moroccan phone number: 06 or 07 (mobile) or 05 (fixed) and 8 more digits, or +212 and 9 digits."),
            code="invalid_phone",
        )
    return "+212" + national


def format_phone(e164: str) -> str:
    """An E.164 Moroccan number as people write it (06 12 34 56 78)."""
    if not e164.startswith("+212") or len(e164) != 13:
        return e164
    national = "0" + e164[4:]
    return " ".join(national[i:i + 2] for i in range(0, 10, 2))
