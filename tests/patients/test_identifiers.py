import pytest
from django.core.exceptions import ValidationError

from caravane.core.models import new_uuid7
from caravane.patients.identifiers import (
    clean_record_number, format_record_number, normalise_cin, normalise_phone, record_number_for,
)


def test_record_numbers_are_distinct_and_carry_a_check_symbol():
    numbers = {record_number_for(new_uuid7()) for _ in range(20000)}
    assert len(numbers) == 20000
    number = next(iter(numbers))
    assert len(number) == 17
    assert clean_record_number(number) == number
    assert clean_record_number(format_record_number(number).lower()) == number


def test_a_mistyped_record_number_is_rejected_by_its_check_symbol():
    number = record_number_for(new_uuid7())
    alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
    typo = number[:5] + alphabet[(alphabet.index(number[5]) + 1) % 32] + number[6:]
    assert clean_record_number(typo) is None
    swapped = number[:3] + number[4] + number[3] + number[5:]
    assert swapped == number or clean_record_number(swapped) is None


def test_record_numbers_follow_creation_order():
    first, second = new_uuid7(), new_uuid7()
    assert record_number_for(first)[:10] <= record_number_for(second)[:10]


@pytest.mark.parametrize("raw, expected", [("AB123456", "AB123456"), ("j123456", "J123456"), (" ee 12345 ", "EE12345"),
                                           ("", "")])
def test_cin_accepts_one_or_two_letters_then_digits(raw, expected):
    assert normalise_cin(raw) == expected


@pytest.mark.parametrize("raw", ["123456", "ABC12345", "AB12", "A1234567", "AB12345X"])
def test_malformed_cin_is_refused(raw):
    with pytest.raises(ValidationError) as error:
        normalise_cin(raw)
    assert "CIN" in error.value.messages[0]


@pytest.mark.parametrize("raw, expected", [
    ("0612345678", "+212612345678"), ("06 12 34 56 78", "+212612345678"), ("07-00-11-22-33", "+212700112233"),
    ("0528 12 34 56", "+212528123456"), ("+212 6 12 34 56 78", "+212612345678"), ("00212612345678", "+212612345678"),
    ("+212 (0)6 12 34 56 78", "+212612345678"), ("212712345678", "+212712345678"),
])
def test_moroccan_phone_numbers_are_normalised_to_e164(raw, expected):
    assert normalise_phone(raw) == expected


@pytest.mark.parametrize("raw", ["0812345678", "061234567", "06123456789", "+33612345678", "phone", "0412345678"])
def test_non_moroccan_or_malformed_phone_is_refused(raw):
    with pytest.raises(ValidationError):
        normalise_phone(raw)
