"""The definition of the space fields on its own: what each kind accepts and refuses."""

from __future__ import annotations

import pytest

from app.spaces.fields import SPACE_FIELDS, FieldInvalid, check_together

pytestmark = pytest.mark.usefixtures("english")


@pytest.mark.parametrize(
    "name, value, clean",
    [
        ("name", "  강당 ", "강당"),
        ("capacity", "30", 30),
        ("capacity", 100_000, 100_000),
        ("price_per_hour", 0, 0),
        ("latitude", "", None),
        ("latitude", "37.5", 37.5),
        ("timezone", "Asia/Seoul", "Asia/Seoul"),
        ("amenities", ["wifi", "wifi", "projector"], ["projector", "wifi"]),
        ("jurisdiction_ids", ["3", 2], [3, 2]),
        ("published", False, False),
    ],
)
def test_accepted_values_come_back_clean(app, name, value, clean):
    assert SPACE_FIELDS[name].clean(value) == clean


@pytest.mark.parametrize(
    "name, value, message",
    [
        ("name", " ", "Please enter a name."),
        ("name", "가" * 161, "The name may be at most 160 characters."),
        ("capacity", None, "The capacity must be a whole number from 1 to 100,000."),
        ("capacity", True, "The capacity must be a whole number from 1 to 100,000."),
        ("capacity", "3.5", "The capacity must be a whole number from 1 to 100,000."),
        ("type", ["classroom"], "Choose a type of space from the list."),
        ("latitude", "nan", "The latitude must be between -90 and 90."),
        ("timezone", "Mars/Olympus", "Unknown time zone. Use a name such as Asia/Seoul."),
        ("amenities", "wifi", "Give the amenities as a list."),
        ("amenities", ["wifi", "jacuzzi"], "Unknown amenity: jacuzzi."),
        ("jurisdiction_ids", ["x"], "Unknown jurisdiction."),
        ("published", "yes", "Published must be yes or no."),
    ],
)
def test_refused_values_say_why(app, name, value, message):
    with pytest.raises(FieldInvalid) as caught:
        SPACE_FIELDS[name].clean(value)
    assert str(caught.value.message) == message


def test_checks_across_fields_skip_fields_that_failed_on_their_own(app):
    values = {"min_minutes": 120, "max_minutes": 60, "latitude": 37.5, "longitude": None}
    errors = {k: str(v) for k, v in check_together(values).items()}
    assert errors == {
        "max_minutes": "The longest booking cannot be shorter than the shortest (120 minutes).",
        "longitude": "Enter both the latitude and the longitude, or neither.",
    }
    assert check_together(values, failed={"min_minutes", "latitude"}) == {}
