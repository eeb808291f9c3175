"""Fixtures of the organisation tests: Seoul with two districts and its education office, their
officers, an administrator, a person who applies, the evidence files, and a fake geocoder."""

from __future__ import annotations

import io

import pytest
from PIL import Image
from pypdf import PdfWriter

from tests.fake_nominatim import fake_nominatim_for

ADDRESS = "서울 강북구 도봉로 1"
JONGNO_ADDRESS = "서울 종로구 대학로 2"


def pdf_bytes() -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def png_bytes() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (200, 120), (10, 120, 200)).save(out, "PNG")
    return out.getvalue()


@pytest.fixture
def geocoder(app):
    with fake_nominatim_for(app) as fake:
        fake.places[ADDRESS] = (37.6397, 127.0256)
        yield fake


@pytest.fixture
def place(factories, db, media):
    seoul = factories.jurisdiction(slug="seoul", name="서울특별시", kind="metropolitan")
    gangbuk = factories.jurisdiction(slug="gangbuk", name="강북구", parent=seoul)
    jongno = factories.jurisdiction(slug="jongno", name="종로구", parent=seoul)
    edu = factories.jurisdiction(slug="seoul-edu", name="서울특별시교육청",
                                 kind="education_office", parent=seoul)
    people = {
        "applicant": factories.user(email="applicant@example.kr", name="김신청"),
        "officer": factories.officer(gangbuk, email="officer@gangbuk.go.kr"),
        "other_officer": factories.officer(jongno, email="officer@jongno.go.kr"),
        "edu_officer": factories.officer(edu, email="officer@sen.go.kr"),
        "admin": factories.user(email="admin@example.kr", is_admin=True, name="관리자"),
        "stranger": factories.user(email="stranger@example.kr"),
    }
    db.session.commit()
    return {"seoul": seoul, "gangbuk": gangbuk, "jongno": jongno, "edu": edu, **people}


COMPANY = {
    "kind": "company",
    "legal_name": "(주)옥상정원",
    "name": "옥상정원 공유",
    "representative": "김대표",
    "contact_email": "hello@rooftop.example.kr",
    "contact_phone": "02-123-4567",
    "address": ADDRESS,
    "registration_number": "124-81-00998",
}


@pytest.fixture
def request_ctx(app):
    """The services record audit events about the current request."""
    with app.test_request_context("/", environ_base={"REMOTE_ADDR": "203.0.113.5"}):
        yield
