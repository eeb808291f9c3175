"""Fixtures for the officer pages: Seoul with two districts, spaces in each, bookings."""

from __future__ import annotations

import pytest


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
