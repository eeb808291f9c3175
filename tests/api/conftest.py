"""Fixtures of the API tests: one owner organisation with a space and a manager, a resident, and
a small `api` helper that sends JSON with a token."""

from __future__ import annotations

import pytest

from tests.api.document_check import CheckedClient

# `stripe_double`: the Stripe double (one server for the session) with the app pointed at it,
# as the payments tests use it; webhooks are delivered with `stripe_double.deliver()`.
from tests.payments.conftest import _double, stripe_double  # noqa: F401


@pytest.fixture
def client(app):
    """Every API answer in these tests is checked against the OpenAPI document."""
    return CheckedClient(app, app.response_class, use_cookies=True)


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

    def send(self, method: str, path: str, json=None, *, user=None, headers=None, **kw):
        """Any method: `api.send("PATCH", path, {...}, user=manager)`."""
        self.db.session.commit()
        headers = {**self.headers(user), **(headers or {})}
        if json is not None:
            kw["json"] = json
        return self.client.open(path, method=method, headers=headers, **kw)


@pytest.fixture
def api(client, api_token, db):
    return Api(client, api_token, db)


# --- A space under an approval chain: the owner's manager, its principal, the district's
# officers (stages 1, 2 and 3), and a district rule that refuses commercial use. ---------------

ORG_STAGES = [
    {"approver": "owner_manager", "deadline_days": 3, "on_deadline": "escalate"},
    {"approver": "owner_principal", "deadline_days": 2, "on_deadline": "expire"},
]
DISTRICT_STAGES = [{"approver": "jurisdiction", "deadline_days": 5, "on_deadline": "expire"}]


class Chain:
    def __init__(self, **kw):
        self.__dict__.update(kw)


@pytest.fixture
def chain(factories, db, org, manager, resident):
    from datetime import UTC, datetime, timedelta

    from app.orgs.models import OrgMembership
    from app.rules.models import RuleSet

    district = factories.jurisdiction(name="강북구")
    space = factories.space(
        owner=org, name="번동초 강당", jurisdictions=[district], price_per_hour=12000
    )
    principal = factories.user(name="교장")
    db.session.add(OrgMembership(user=principal, organisation=org, role="principal"))
    officer = factories.officer(district)
    past = datetime.now(UTC) - timedelta(days=30)
    org_rules = RuleSet(
        organisation_id=org.id, version=1, effective_from=past, body={"stages": ORG_STAGES}
    )
    district_rules = RuleSet(
        jurisdiction_id=district.id,
        version=1,
        effective_from=past,
        body={"stages": DISTRICT_STAGES, "refused_purposes": ["commercial"]},
    )
    db.session.add_all([org_rules, district_rules])
    db.session.flush()
    return Chain(
        district=district,
        org=org,
        space=space,
        manager=manager,
        principal=principal,
        officer=officer,
        resident=resident,
        org_rules=org_rules,
        district_rules=district_rules,
    )
