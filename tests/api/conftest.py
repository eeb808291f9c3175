"""Fixtures of the API tests: one owner organisation with a space and a manager, a resident, and
a small `api` helper that sends JSON with a token."""

from __future__ import annotations

import pytest


@pytest.fixture
def org(factories):
    return factories.org(name="번동초등학교")


@pytest.fixture
def space(factories, org):
    return factories.space(owner=org, name="번동초 다목적실", price_per_hour=12000)


@pytest.fixture
def manager(factories, org):
    return factories.manager(org)


@pytest.fixture
def resident(factories):
    return factories.user(name="김주민")


class Api:
    """`api.get(path, user=...)`, `api.post(path, json, user=...)`: requests with a token."""

    def __init__(self, client, api_token, db):
        self.client = client
        self.api_token = api_token
        self.db = db
        self._headers: dict[int, dict] = {}

    def headers(self, user) -> dict:
        if user is None:
            return {}
        if user.id not in self._headers:
            self._headers[user.id] = self.api_token(user)
        return self._headers[user.id]

    def get(self, path: str, *, user=None, headers=None, **kw):
        self.db.session.commit()  # the app must see what the test made
        return self.client.get(path, headers={**self.headers(user), **(headers or {})}, **kw)

    def post(self, path: str, json=None, *, user=None, headers=None, **kw):
        self.db.session.commit()
        headers = {**self.headers(user), **(headers or {})}
        return self.client.post(path, json=json, headers=headers, **kw)


@pytest.fixture
def api(client, api_token, db):
    return Api(client, api_token, db)
