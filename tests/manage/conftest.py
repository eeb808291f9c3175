"""Fixtures for the manager pages: two organisations with a manager each, a resident, a space.

Users read the pages in English (locale "en"), so the tests do not depend on the Korean catalog.
Fixtures only flush; tests commit before their first request.
"""

from __future__ import annotations

import pytest
from flask import request_started
from flask_babel import refresh


@pytest.fixture(autouse=True)
def _locale_per_request(app):
    """Requests in a test share the test's app context, where Flask-Babel caches the locale;
    forget it at each request so every request picks its user's language, as in production."""

    def _forget(sender, **extra):
        refresh()

    request_started.connect(_forget, app)
    yield
    request_started.disconnect(_forget, app)


@pytest.fixture
def org(factories):
    return factories.org(name="번동초등학교")


@pytest.fixture
def manager(factories, org):
    return factories.manager(org, locale="en")


@pytest.fixture
def other_org(factories):
    return factories.org(name="수유중학교")


@pytest.fixture
def other_manager(factories, other_org):
    return factories.manager(other_org, locale="en")


@pytest.fixture
def resident(factories):
    return factories.user(name="김주민", locale="en")


@pytest.fixture
def space(factories, org):
    return factories.space(owner=org, name="강당", capacity=50)
