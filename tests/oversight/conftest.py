"""Fixtures for the officer pages: Seoul with two districts, spaces in each, bookings."""

from __future__ import annotations

import pytest
from flask import request_started
from flask_babel import refresh


@pytest.fixture(autouse=True)
def _locale_per_request(app):
    """Requests in a test share the test's app context, where Flask-Babel caches the locale;
    forget it at each request so every request picks its user's language."""

    def _forget(sender, **extra):
        refresh()

    request_started.connect(_forget, app)
    yield
    request_started.disconnect(_forget, app)


@pytest.fixture
def seoul(factories):
    return factories.jurisdiction(slug="seoul", name="서울특별시", kind="metropolitan")


@pytest.fixture
def gangbuk(factories, seoul):
    return factories.jurisdiction(slug="gangbuk", name="강북구", parent=seoul)


@pytest.fixture
def dobong(factories, seoul):
    return factories.jurisdiction(slug="dobong", name="도봉구", parent=seoul)


@pytest.fixture
def elsewhere(factories):
    return factories.jurisdiction(slug="busan", name="부산광역시", kind="metropolitan")
