"""Fixtures for the manager pages: two organisations with a manager each, a resident, a space.

Users read the pages in English (locale "en"), so the tests do not depend on the Korean catalog.
Fixtures only flush; tests commit before their first request.
"""

from __future__ import annotations

import pytest


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
