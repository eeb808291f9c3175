"""Resident groups: create, invite members, leave; booking for a group; group quotas."""

import html
from datetime import timedelta

from sqlalchemy import select

from app.accounts.group_models import GroupInvitation, ResidentGroup, ResidentGroupMember
from app.rules.models import RuleSet
from tests.conftest import next_weekday
from tests.factories import ALWAYS_OPEN


def _text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def test_a_resident_starts_a_group_invites_a_member_who_accepts_and_leaves(
    factories, login, client, db
):
    leader = factories.user(email="leader@example.kr", name="김대표", locale="en")
    friend = factories.user(email="friend@example.kr", name="이친구", locale="en")
    db.session.commit()
    login(leader)
    response = client.post("/account/groups", data={"name": "  수유동 배드민턴 동호회 "})
    assert response.status_code == 302
    group = db.session.scalars(select(ResidentGroup)).one()
    assert group.name == "수유동 배드민턴 동호회"
    client.post(f"/account/groups/{group.id}/invitations", data={"email": "FRIEND@example.kr"})
    login(friend)
    invitation = db.session.scalars(select(GroupInvitation)).one()
    client.post(f"/account/groups/invitations/{invitation.id}/accept")
    page = _text(client.get("/account/groups"))
    assert "이친구" in page and "김대표" in page
    assert len(db.session.scalars(select(ResidentGroupMember)).all()) == 2

    # A member cannot invite people, nor remove others.
    response = client.post(f"/account/groups/{group.id}/invitations",
                           data={"email": "someone@example.kr"})
    assert "Only the group's leader can invite members." in _text(client.get(response.location))
    response = client.post(f"/account/groups/{group.id}/members/{leader.id}/remove")
    assert "You are not allowed to do this." in _text(client.get(response.location))
    client.post(f"/account/groups/{group.id}/members/{friend.id}/remove")
    assert "You are not in any group yet." in _text(client.get("/account/groups"))
    # Someone outside the group cannot even tell it exists.
    stranger = factories.user(email="s@example.kr")
    db.session.commit()
    login(stranger)
    assert client.get("/account/groups").status_code == 200
    response = client.post(f"/account/groups/{group.id}/invitations", data={"email": "x"})
    assert response.status_code == 404


def test_the_last_member_leaving_deletes_the_group_and_bad_names_are_refused(
    factories, login, client, db
):
    user = factories.user(locale="en")
    db.session.commit()
    login(user)
    for bad in ("", "   ", "x" * 121):
        response = client.post("/account/groups", data={"name": bad})
        page = _text(client.get(response.location))
        assert "Give the group a name of 1 to 120 characters." in page
    assert db.session.scalars(select(ResidentGroup)).all() == []
    client.post("/account/groups", data={"name": "책모임"})
    group = db.session.scalars(select(ResidentGroup)).one()
    client.post(f"/account/groups/{group.id}/members/{user.id}/remove")
    db.session.expire_all()
    assert db.session.scalars(select(ResidentGroup)).all() == []


def test_booking_for_a_group_counts_against_the_group_quota(factories, login, client, db, now):
    org = factories.org()
    space = factories.space(owner=org, hours=ALWAYS_OPEN, booking_mode="instant")
    a = factories.user(locale="en")
    b = factories.user(locale="en")
    outsider = factories.user(locale="en")
    db.session.add(
        RuleSet(
            organisation_id=org.id, version=1, effective_from=now - timedelta(days=1),
            body={"quotas": [{"per": "group", "period": "month", "max_bookings": 1}]},
        )
    )  # fmt: skip
    group = ResidentGroup(name="합창단")
    group.members.extend([ResidentGroupMember(user=a, is_leader=True), ResidentGroupMember(user=b)])
    db.session.add(group)
    db.session.commit()
    start = next_weekday(2, 10, weeks=1)
    zone = space.zone
    if start.astimezone(zone).month != (start + timedelta(hours=26)).astimezone(zone).month:
        start += timedelta(days=7)  # keep the three bookings in one month

    def request_(user, when, group_id):
        login(user)
        local = when.astimezone(space.zone)
        return client.post(
            f"/spaces/{space.id}/book",
            data={
                "date": local.date().isoformat(), "start_time": local.strftime("%H:%M"),
                "end_time": (local + timedelta(hours=1)).strftime("%H:%M"), "attendees": 5,
                "purpose": "합창 연습", "purpose_category": "culture", "group_id": group_id,
                "send": "1",
            },
        )  # fmt: skip

    assert request_(a, start, str(group.id)).status_code == 302
    # The second booking for the same group in the month breaks the group's quota...
    response = request_(b, start + timedelta(hours=2), str(group.id))
    assert response.status_code == 422
    assert "At most 1 bookings per resident group per month" in _text(response)
    # ...but b may still book for themselves, and an outsider cannot book for the group.
    assert request_(b, start + timedelta(hours=2), "").status_code == 302
    response = request_(outsider, start + timedelta(hours=4), str(group.id))
    assert response.status_code == 422
    assert "You can only book for a group you belong to." in _text(response)
