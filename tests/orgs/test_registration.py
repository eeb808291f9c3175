"""Registration numbers: 사업자등록번호 with its check digit, 고유번호 by its shape."""

from __future__ import annotations

import pytest

from app.orgs import registration


@pytest.mark.parametrize("number", ["1248100998", "2208162517"])
def test_real_business_numbers_pass_the_check_digit(number):
    assert registration.business_number_valid(number)


@pytest.mark.parametrize("number", ["1248100997", "0000000001", "12481009", "abcdefghij"])
def test_wrong_business_numbers_fail(number):
    assert not registration.business_number_valid(number)


def test_what_each_kind_needs():
    assert registration.check("company", "124-81-00998") == ("1248100998", None)
    assert registration.check("company", "124-81-00997") == (None, "check_digit")
    assert registration.check("company", "") == (None, "required")
    assert registration.check("company", "12-3456") == (None, "shape")
    # Nonprofits' 고유번호: the shape only.
    assert registration.check("nonprofit", "123-82-12345") == ("1238212345", None)
    assert registration.check("nonprofit", "") == (None, "required")
    # Individuals may give a business number; when given, it is checked.
    assert registration.check("individual", "") == (None, None)
    assert registration.check("individual", "124-81-00997") == (None, "check_digit")
    # Schools and public bodies have none: whatever is typed is ignored.
    assert registration.check("school", "123") == (None, None)
    assert registration.formatted("1248100998") == "124-81-00998"
