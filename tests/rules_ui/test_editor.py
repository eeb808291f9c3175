"""The rule-set editor: who may edit what, saving versions with their audit trail, every kind
of contradictory or malformed input refused with a message and nothing saved, scheduled
versions, and bounded queries."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from werkzeug.datastructures import MultiDict

from app.rules.editing import Scope, save_rule_set
from app.rules.models import RuleSet
from app.rules.services import rule_sets_in_force
from tests.manage.helpers import text_of
from tests.rules_ui.conftest import SEOUL, form_values, today

# --- Who may edit what -----------------------------------------------------------------------
# Expected outcome per role for each scope: ok, 403 (may know it exists) or 404.
ACCESS = {
    "jurisdiction": {
        "resident": "404", "manager": "404", "other_manager": "404", "officer": "ok",
        "other_officer": "404", "seoul_officer": "ok", "admin": "ok",
    },
    "seoul": {
        "resident": "404", "manager": "404", "other_manager": "404", "officer": "403",
        "other_officer": "403", "seoul_officer": "ok", "admin": "ok",
    },
    "organisation": {
        "resident": "404", "manager": "ok", "other_manager": "404", "officer": "404",
        "other_officer": "404", "seoul_officer": "404", "admin": "ok",
    },
    "space": {
        "resident": "404", "manager": "ok", "other_manager": "404", "officer": "403",
        "other_officer": "404", "seoul_officer": "403", "admin": "ok",
    },
}  # fmt: skip
CASES = [(scope, role) for scope, roles in ACCESS.items() for role in roles]


@pytest.fixture
def scope_urls(space, org, gangbuk, seoul, users, db):
    db.session.commit()
    return {
        "jurisdiction": f"/rules/jurisdiction/{gangbuk.id}",
        "seoul": f"/rules/jurisdiction/{seoul.id}",
        "organisation": f"/rules/organisation/{org.id}",
        "space": f"/rules/space/{space.id}",
    }


def _outcome(response) -> str:
    assert response.status_code < 500
    return str(response.status_code) if response.status_code in (403, 404) else "ok"


def _rule_sets(db) -> int:
    return db.session.scalar(select(func.count(RuleSet.id)))


@pytest.mark.parametrize(("scope", "role"), CASES, ids=[f"{s}-{r}" for s, r in CASES])
def test_access_matrix(scope_urls, users, login, client, db, scope, role):
    login(users[role])
    url = scope_urls[scope]
    expected = ACCESS[scope][role]
    assert _outcome(client.get(url)) == expected
    assert _outcome(client.get(url + "/history")) == expected
    response = client.post(url, data={"max_attendees": "7", "effective_from": today()})
    assert _outcome(response) == expected
    assert _rule_sets(db) == (1 if expected == "ok" else 0)


def test_anonymous_visitors_go_to_the_login(scope_urls, client):
    for url in [*scope_urls.values(), "/rules/"]:
        response = client.get(url)
        assert response.status_code == 302 and "/login" in response.headers["Location"]


@pytest.mark.parametrize(
    "url", ["/rules/space/999999", "/rules/organisation/999999", "/rules/jurisdiction/" + "9" * 25,
            "/rules/planet/1"],
)  # fmt: skip
def test_unknown_scopes_are_404(scope_urls, users, login, client, url):
    login(users["admin"])
    assert client.get(url).status_code == 404


def test_the_list_shows_what_i_can_edit(scope_urls, users, login, client, space, org, other_org):
    login(users["manager"])
    text = text_of(client.get("/rules/"))
    assert "번동초등학교" in text and "강당" in text
    assert "수유중학교" not in text and "강북구" not in text
    login(users["officer"])
    text = text_of(client.get("/rules/"))
    assert "강북구" in text and "종로구" not in text and "번동초등학교" not in text


def test_residents_have_no_rules_list(scope_urls, users, login, client):
    login(users["resident"])
    assert client.get("/rules/").status_code == 403


# --- Saving ----------------------------------------------------------------------------------
def _post(client, url, **data):
    data.setdefault("effective_from", today())
    return client.post(url, data=data)


def test_saving_appends_versions_and_the_history_shows_old_and_new(
    scope_urls, users, login, client, db, space
):
    login(users["manager"])
    url = scope_urls["space"]
    response = _post(client, url, max_attendees="30", note="first rules")
    assert response.status_code == 302
    response = _post(client, url, max_attendees="12", min_minutes="60", note="smaller groups")
    assert response.status_code == 302
    db.session.expire_all()
    v1, v2 = db.session.scalars(select(RuleSet).order_by(RuleSet.version)).all()
    assert (v1.version, v2.version) == (1, 2)
    assert v2.replaces_id == v1.id and v1.replaces_id is None
    assert v1.space_id == v2.space_id == space.id
    assert v2.created_by_id == users["manager"].id
    assert v2.body == {"max_attendees": 12, "min_minutes": 60}
    assert v2.note == "smaller groups"

    text = text_of(client.get(url + "/history"))
    assert "Version 2" in text and "Replaces version 1" in text
    assert "smaller groups" in text and users["manager"].name in text
    assert "Maximum attendees: 30 people → 12 people" in text
    assert "Shortest booking: — → 60 minutes" in text
    # The page shows the version in force as text.
    text = text_of(client.get(url))
    assert "In force now" in text and "12 people" in text


def test_every_rule_round_trips_through_the_form(scope_urls, users, login, client, db, space):
    """Every rule type, saved, is shown in the form such that submitting it unchanged changes
    nothing: the form covers the whole schema."""
    doc = {
        "eligibility": "residents_first",
        "residents_first_days": 7,
        "allowed_purposes": ["community", "education", "sports"],
        "refused_purposes": ["political"],
        "min_notice_hours": 24,
        "max_days_ahead": 60,
        "min_minutes": 60,
        "max_minutes": 180,
        "allowed_hours": {"0": [[540, 720], [1080, 1320]], "1": [], "2": [[1080, 1320]],
                          "3": [], "4": [], "5": [[540, 1440]], "6": []},
        "hours_note": "학교 수업 시간 제외",
        "quotas": [{"per": "user", "period": "month", "max_hours": 8},
                   {"per": "group", "period": "week", "max_bookings": 2}],
        "max_attendees": 40,
        "fees": {"rates": {"resident": 10000, "non_resident": 15000, "commercial": 30000},
                 "weekend_percent": 20, "night_percent": 30, "night_start": 1260,
                 "night_end": 360},
        "waivers": {"senior": 50, "disabled": 100},
        "refund_tiers": [{"days_before": 7, "percent": 100}, {"days_before": 1, "percent": 50}],
        "no_show": {"count": 2, "within_days": 90, "ban_days": 30},
        "stages": [{"approver": "owner_manager", "mode": "decide", "deadline_days": 3,
                    "on_deadline": "escalate", "label": "시설 담당"},
                   {"approver": "owner_principal", "mode": "decide", "on_deadline": "expire"}],
        "auto_approve": [{"residents_only": True, "purposes": ["education"]}],
        "allocation": "request",
        "lottery": [{"weekdays": [5, 6], "start": 540, "end": 1080, "draw_days_before": 14,
                     "draw_minute": 600, "cap_per_month": 2, "resident_priority": True}],
    }  # fmt: skip
    save_rule_set(users["manager"], Scope("space", space), doc, datetime.now(SEOUL).date())
    db.session.commit()
    login(users["manager"])
    page = client.get(scope_urls["space"])
    assert page.status_code == 200
    values = form_values(page.get_data(as_text=True))
    assert ("fee_commercial", "30000") in values and (
        "hours_0",
        "09:00-12:00, 18:00-22:00",
    ) in values
    response = client.post(scope_urls["space"], data=MultiDict([*values, ("save", "1")]))
    assert response.status_code == 422
    assert "Nothing changed" in text_of(response)
    assert _rule_sets(db) == 1
    # One change through the same form is saved, and the rest stays as it was.
    changed = [(k, "25" if k == "max_attendees" else v) for k, v in values]
    assert client.post(scope_urls["space"], data=MultiDict(changed)).status_code == 302
    db.session.expire_all()
    latest = db.session.scalars(select(RuleSet).order_by(RuleSet.version.desc())).first()
    assert latest.body == {**doc, "max_attendees": 25}


# --- Refused input ---------------------------------------------------------------------------
BAD_INPUT = [
    ("min>max", {"min_minutes": "120", "max_minutes": "60"}, "max_minutes",
     "must not be shorter than the minimum"),
    ("both purposes", {"allowed_purposes": ["sports", "education"], "refused_purposes": "sports"},
     "refused_purposes", "cannot be both allowed and refused: Sports"),
    ("overlap", {"restrict_hours": "y", "hours_0": "09:00-12:00, 11:00-13:00"}, "hours_0",
     "The ranges of one day overlap."),
    ("reversed range", {"restrict_hours": "y", "hours_3": "22:00-18:00"}, "hours_3",
     "must end after it starts"),
    ("garbled hours", {"restrict_hours": "y", "hours_2": "evenings"}, "hours_2",
     "Write ranges as HH:MM-HH:MM"),
    ("refunds", {"refund_tiers-0-days_before": "7", "refund_tiers-0-percent": "50",
                 "refund_tiers-1-days_before": "1", "refund_tiers-1-percent": "100"},
     "refund_tiers", "Cancelling earlier must never refund less than later."),
    ("25:00", {"fee_resident": "1000", "night_percent": "20", "night_start": "25:00"},
     "night_start", "Enter a time as HH:MM"),
    ("10^12", {"max_attendees": "1000000000000"}, "max_attendees", "from 1 to 100000"),
    ("40 digits", {"fee_resident": "9" * 40}, "fee_resident", "far too large"),
    ("rate too high", {"fee_resident": "99999999999"}, "fee_resident", "from 0 to 10000000"),
    ("abc", {"min_notice_hours": "abc"}, "min_notice_hours", "Enter a whole number"),
    ("decimal", {"max_days_ahead": "1.5"}, "max_days_ahead", "Enter a whole number"),
    ("negative", {"waivers-senior": "-5"}, "waivers-senior", "from 1 to 100"),
    ("no deadline", {"stages-0-approver": "owner_manager", "stages-0-mode": "decide",
                     "stages-0-on_deadline": "escalate"},
     "stages-0", "passes the request on needs a deadline"),
    ("officers at space level", {"stages-0-approver": "jurisdiction"}, "stages-0",
     "Only a jurisdiction's rule set"),
    ("quota without a limit", {"quotas-1-per": "user", "quotas-1-period": "week"}, "quotas-1",
     "needs a maximum number of hours or bookings"),
    ("residents first, no days", {"eligibility": "residents_first"}, "residents_first_days",
     "Say how many days before the start"),
    ("fees without resident rate", {"weekend_percent": "20"}, "fee_resident",
     "needs at least the resident rate"),
    ("no-show without ban", {"no_show_count": "2"}, "no_show",
     "needs a count and a number of days"),
    ("auto without stages", {"auto_approve-0-enabled": "y"}, "auto_approve",
     "needs approval stages"),
    ("lottery start after end", {"lottery-0-weekdays": "5", "lottery-0-start": "18:00",
                                 "lottery-0-end": "09:00"}, "lottery-0", "start before its end"),
    ("lottery weekday 9", {"lottery-0-weekdays": "9", "lottery-0-start": "09:00",
                           "lottery-0-end": "12:00"}, "lottery-0", "Choose the weekdays"),
    ("unknown purpose", {"allowed_purposes": "piracy"}, "allowed_purposes", "Unknown option"),
    ("past", {"max_attendees": "10", "effective_from": "2020-01-01"}, "effective_from",
     "cannot take effect in the past"),
    ("no such day", {"max_attendees": "10", "effective_from": "2026-02-30"}, "effective_from",
     "Enter a date such as"),
    ("far future", {"max_attendees": "10", "effective_from": "2999-01-01"}, "effective_from",
     "within two years"),
    ("nothing", {}, None, "Nothing changed"),
]  # fmt: skip


@pytest.mark.parametrize(("case", "data", "where", "message"), BAD_INPUT,
                         ids=[c[0] for c in BAD_INPUT])  # fmt: skip
def test_bad_input_is_explained_next_to_its_field_and_nothing_is_saved(
    scope_urls, users, login, client, db, case, data, where, message
):
    login(users["manager"])
    response = _post(client, scope_urls["space"], **data)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert message in text_of(response)
    if where is not None:
        # The message sits in the block that belongs to the field or row.
        block = html.split(f'id="{where}-err"', 1)
        assert len(block) == 2, f"no error block for {where}"
        assert message.split(":")[0].replace("'", "&#39;") in block[1][:600]
    assert _rule_sets(db) == 0


def test_a_jurisdiction_may_name_its_officers_as_approvers(scope_urls, users, login, client, db):
    login(users["officer"])
    response = _post(
        client, scope_urls["jurisdiction"], **{"stages-0-approver": "jurisdiction",
                                                "stages-0-mode": "decide"}
    )  # fmt: skip
    assert response.status_code == 302
    assert db.session.scalars(select(RuleSet)).one().body["stages"][0]["approver"] == "jurisdiction"


def test_the_space_form_has_lottery_windows_and_others_do_not(
    scope_urls, users, login, client, org, db
):
    login(users["admin"])
    assert "lottery-0-start" in client.get(scope_urls["space"]).get_data(as_text=True)
    assert "lottery-0-start" not in client.get(scope_urls["organisation"]).get_data(as_text=True)
    # Officers are approvers only in a jurisdiction's rules, also in the spare row after
    # stored stages.
    stages = [{"approver": "owner_manager"}] * 3
    save_rule_set(users["admin"], Scope("organisation", org), {"stages": stages},
                  datetime.now(SEOUL).date())  # fmt: skip
    db.session.commit()
    html = client.get(scope_urls["organisation"]).get_data(as_text=True)
    assert 'name="stages-3-approver"' in html and 'value="jurisdiction"' not in html
    html = client.get(scope_urls["jurisdiction"]).get_data(as_text=True)
    assert 'value="jurisdiction"' in html


# --- When a version takes effect ---------------------------------------------------------------
def test_a_future_version_waits_for_its_day(scope_urls, users, login, client, db, space):
    login(users["manager"])
    assert _post(client, scope_urls["space"], max_attendees="30").status_code == 302
    day = datetime.now(SEOUL).date() + timedelta(days=10)
    response = _post(client, scope_urls["space"], max_attendees="10",
                     effective_from=day.isoformat())  # fmt: skip
    assert response.status_code == 302
    db.session.expire_all()
    v2 = db.session.scalars(select(RuleSet).where(RuleSet.version == 2)).one()
    midnight = datetime(day.year, day.month, day.day, tzinfo=SEOUL).astimezone(UTC)
    assert v2.effective_from == midnight

    def attendees_at(at):
        found = rule_sets_in_force(space, at)
        return [(rs.version, rules.max_attendees) for _source, rules, rs in found]

    assert attendees_at(datetime.now(UTC)) == [(1, 30)]
    assert attendees_at(midnight - timedelta(seconds=1)) == [(1, 30)]
    assert attendees_at(midnight) == [(2, 10)]
    text = text_of(client.get(scope_urls["space"]))
    assert "Scheduled changes" in text and "Version 2 from" in text
    assert "Maximum attendees: 30 people → 10 people" in text
    listing = text_of(client.get("/rules/"))
    assert "Version 1, since" in listing and "Version 2 from" in listing


def test_today_means_from_now(scope_urls, users, login, client, db):
    before = datetime.now(UTC)
    login(users["manager"])
    assert _post(client, scope_urls["space"], max_attendees="30").status_code == 302
    after = datetime.now(UTC)
    db.session.expire_all()
    version = db.session.scalars(select(RuleSet)).one()
    assert before - timedelta(seconds=1) <= version.effective_from <= after


def test_saving_before_a_scheduled_version_warns_that_it_still_comes(
    scope_urls, users, login, client, db
):
    login(users["manager"])
    day = datetime.now(SEOUL).date() + timedelta(days=5)
    _post(client, scope_urls["space"], max_attendees="10", effective_from=day.isoformat())
    response = client.post(scope_urls["space"], data={"max_attendees": "20",
                                                      "effective_from": today()},
                           follow_redirects=True)  # fmt: skip
    assert "Version 1, scheduled from" in text_of(response)
    assert _rule_sets(db) == 2


# --- Bounded queries ---------------------------------------------------------------------------
def _add_versions(user, scope, n, first=10):
    for i in range(n):
        save_rule_set(user, scope, {"max_attendees": first + i}, datetime.now(SEOUL).date())


def test_editor_and_history_queries_do_not_grow_with_versions(
    users, login, space, db, queries_of_get
):
    scope = Scope("space", space)
    _add_versions(users["admin"], scope, 1)
    db.session.commit()
    login(users["manager"])
    url = f"/rules/space/{space.id}"
    few = queries_of_get(url), queries_of_get(url + "/history")
    _add_versions(users["admin"], scope, 9, first=20)
    db.session.commit()
    assert (queries_of_get(url), queries_of_get(url + "/history")) == few


def test_list_queries_do_not_grow_with_spaces(
    users, login, org, space, factories, db, queries_of_get
):
    _add_versions(users["admin"], Scope("space", space), 1)
    db.session.commit()
    login(users["manager"])
    few = queries_of_get("/rules/")
    for i in range(9):
        extra = factories.space(owner=org, name=f"교실 {i}")
        _add_versions(users["admin"], Scope("space", extra), 2)
    db.session.commit()
    assert queries_of_get("/rules/") == few


def test_two_versions_with_the_same_number_cannot_both_be_saved(db, factories, now):
    """Two editors saving at the same moment: the database keeps version numbers unique."""
    import pytest
    from sqlalchemy.exc import IntegrityError

    from app.rules.models import RuleSet

    space = factories.space()
    for body in ({"max_attendees": 10}, {"max_attendees": 12}):
        db.session.add(
            RuleSet(space_id=space.id, version=1, effective_from=now, body=body)
        )
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()
