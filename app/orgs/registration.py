"""Korean registration numbers of owners: 사업자등록번호 (business registration number, with
its check digit) and 고유번호 (the number the tax office gives nonprofits; same shape, format
checked only). Both are ten digits, written XXX-XX-XXXXX."""

from __future__ import annotations

import re

from flask_babel import lazy_gettext as _l

_SHAPE = re.compile(r"^\d{3}-?\d{2}-?\d{5}$")
_WEIGHTS = (1, 3, 7, 1, 3, 7, 1, 3, 5)

# Which kinds need one, may have one, or have none.
REQUIRED = {"company": "business", "nonprofit": "unique"}
OPTIONAL = {"individual": "business"}

MESSAGES = {
    "shape": _l("Enter ten digits, as XXX-XX-XXXXX."),
    "check_digit": _l("This business registration number is not valid: check the digits."),
    "required": _l("Enter the registration number."),
}


def digits(text: str) -> str | None:
    """The ten digits of `text` written as XXX-XX-XXXXX (dashes optional), or None."""
    text = (text or "").strip().replace(" ", "")
    if not _SHAPE.match(text):
        return None
    return text.replace("-", "")


def business_number_valid(number: str) -> bool:
    """Whether ten digits pass the check digit of a 사업자등록번호."""
    if len(number) != 10 or not number.isdigit():
        return False
    d = [int(c) for c in number]
    total = sum(a * b for a, b in zip(d[:9], _WEIGHTS, strict=True))
    total += (d[8] * 5) // 10
    return (10 - total % 10) % 10 == d[9]


def formatted(number: str | None) -> str:
    if not number or len(number) != 10:
        return number or ""
    return f"{number[:3]}-{number[3:5]}-{number[5:]}"


def check(kind: str, text: str | None) -> tuple[str | None, str | None]:
    """(the clean number or None, an error code of MESSAGES or None) for an owner of `kind`."""
    text = (text or "").strip()
    scheme = REQUIRED.get(kind) or OPTIONAL.get(kind)
    if not text:
        return None, ("required" if kind in REQUIRED else None)
    if scheme is None:
        return None, None  # schools and public bodies have none to give: ignored
    number = digits(text)
    if number is None:
        return None, "shape"
    if scheme == "business" and not business_number_valid(number):
        return None, "check_digit"
    return number, None
