import pytest
from django.core.exceptions import ValidationError

from complaints.phone import mask, normalise_contact, normalise_mobile


@pytest.mark.parametrize(
    "raw", ["13800138000", "+86 138-0013-8000", "+8613800138000", "008613800138000", "8613800138000",
            " 138 0013 8000 ", "(138)00138000"],
)
def test_mobile_numbers_are_normalised_to_eleven_digits(raw):
    assert normalise_mobile(raw) == "13800138000"


@pytest.mark.parametrize("raw", ["", "12800138000", "1380013800", "138001380001", "abc", "+1 415 555 0100",
                                 "020-12345678"])
def test_invalid_mobile_numbers_are_refused(raw):
    with pytest.raises(ValidationError):
        normalise_mobile(raw)


def test_contact_number_may_be_a_landline_with_area_code():
    assert normalise_contact("020-8888 1234") == "02088881234"
    assert normalise_contact("+86 139 0000 0000") == "13900000000"
    with pytest.raises(ValidationError):
        normalise_contact("12345")


def test_mask_keeps_prefix_and_last_four():
    assert mask("13800138000") == "138****8000"
