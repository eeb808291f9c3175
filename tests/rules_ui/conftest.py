"""Fixtures for the rule-set editor: Seoul with two districts, two owner organisations, a space
in Gangbuk, and one user per role. Everyone reads English. Fixtures only flush; tests commit."""

from __future__ import annotations

from datetime import datetime
from html.parser import HTMLParser
from zoneinfo import ZoneInfo

import pytest

from tests.factories import VERIFIED

SEOUL = ZoneInfo("Asia/Seoul")


@pytest.fixture
def seoul(factories):
    return factories.jurisdiction(slug="seoul", name="서울특별시", kind="metropolitan")


@pytest.fixture
def gangbuk(factories, seoul):
    return factories.jurisdiction(slug="gangbuk", name="강북구", parent=seoul)


@pytest.fixture
def jongno(factories, seoul):
    return factories.jurisdiction(slug="jongno", name="종로구", parent=seoul)


@pytest.fixture
def org(factories):
    return factories.org(name="번동초등학교")


@pytest.fixture
def other_org(factories):
    return factories.org(name="수유중학교")


@pytest.fixture
def space(factories, org, gangbuk):
    return factories.space(owner=org, name="강당", capacity=50, jurisdictions=[gangbuk])


@pytest.fixture
def users(factories, org, other_org, gangbuk, jongno, seoul):
    return {
        "resident": factories.user(name="김주민", locale="en", home_district_id=gangbuk.id,
                                  home_district_verified_at=VERIFIED),
        "manager": factories.manager(org, locale="en"),
        "other_manager": factories.manager(other_org, locale="en"),
        "officer": factories.officer(gangbuk, locale="en"),
        "other_officer": factories.officer(jongno, locale="en"),
        "seoul_officer": factories.officer(seoul, locale="en"),
        "admin": factories.user(is_admin=True, locale="en"),
    }


def today() -> str:
    return datetime.now(SEOUL).date().isoformat()


class FormReader(HTMLParser):
    """The values a browser would submit from the first POST form of a page (no JavaScript)."""

    def __init__(self) -> None:
        super().__init__()
        self.pairs: list[tuple[str, str]] = []
        self._select: str | None = None
        self._selected: str | None = None
        self._first_option: str | None = None
        self._in_form = False
        self._done = False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form" and a.get("method") == "post" and not self._done and "action" not in a:
            self._in_form = True
        if not self._in_form:
            return
        if tag == "input":
            kind = a.get("type", "text")
            if kind in ("submit", "button") or not a.get("name"):
                return
            if kind in ("checkbox", "radio") and "checked" not in a:
                return
            self.pairs.append((a["name"], a.get("value", "" if kind != "checkbox" else "y")))
        elif tag == "select":
            self._select, self._selected, self._first_option = a.get("name"), None, None
        elif tag == "option" and self._select:
            value = a.get("value", "")
            if self._first_option is None:
                self._first_option = value
            if "selected" in a:
                self._selected = value

    def handle_endtag(self, tag):
        if tag == "select" and self._select:
            chosen = self._selected if self._selected is not None else self._first_option
            self.pairs.append((self._select, chosen or ""))
            self._select = None
        if tag == "form" and self._in_form:
            self._in_form, self._done = False, True


def form_values(html: str) -> list[tuple[str, str]]:
    reader = FormReader()
    reader.feed(html)
    return reader.pairs
