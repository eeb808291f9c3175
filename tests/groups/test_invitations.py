"""Joining a resident group takes the person's consent: the leader invites an email address, the
address gets a link, and its owner accepts or declines, signed in with that address.

What the leader is told never depends on whether the address has an account, and no name shows
before the person accepts."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from app.accounts.group_models import GroupInvitation, ResidentGroup, ResidentGroupMember
from app.extensions import db
from app.notifications.models import EmailDelivery, Notification
from tests.conftest import next_weekday
from tests.factories import ALWAYS_OPEN

NOW = datetime(2030, 1, 7, 1, 0, tzinfo=UTC)  # a Monday, 10:00 in Seoul
LINK = re.compile(r"http://gonggan\.test(/groups/invitations/[A-Za-z0-9_-]+)")


@pytest.fixture
def frozen(time_machine):
    time_machine.move_to(NOW, tick=False)
    return time_machine


@pytest.fixture
def world(factories, frozen):
    leader = factories.user(email="leader@example.kr", name="김대표", locale="en")
    friend = factories.user(email="friend@example.kr", name="이친구", locale="en")
    stranger = factories.user(email="stranger@example.kr", name="박낯선", locale="en")
    group = ResidentGroup(name="수유동 배드민턴 동호회", created_by=leader)
    group.members.append(ResidentGroupMember(user=leader, is_leader=True))
    db.session.add(group)
    db.session.commit()
    return {"leader": leader, "friend": friend, "stranger": stranger, "group": group}


def _text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def invite(client, group, email):
    return client.post(f"/account/groups/{group.id}/invitations", data={"email": email})


def emails_to(address: str) -> list[EmailDelivery]:
    return list(db.session.scalars(
        select(EmailDelivery).where(EmailDelivery.to_address == address)
        .order_by(EmailDelivery.id)
    ))


def link_of(row: EmailDelivery) -> str:
    """The invitation's page from an email that went out (a request's jobs ran before the
    test client got the response, so the outbox row holds the message as sent)."""
    db.session.refresh(row)
    assert row.status == "sent", row.last_error
    found = LINK.search(row.body_text)
    assert found, row.body_text
    assert f'href="http://gonggan.test{found.group(1)}"' in row.body_html
    return found.group(1)


def members_of(group) -> set[int]:
    return set(db.session.scalars(
        select(ResidentGroupMember.user_id).where(ResidentGroupMember.group_id == group.id)
    ))


def the_invitation() -> GroupInvitation:
    db.session.expire_all()
    return db.session.scalars(select(GroupInvitation)).one()


# --------------------------------------------------------------------------- no account oracle
def test_inviting_answers_the_same_whether_or_not_the_address_has_an_account(
    client, login, world, factories
):
    # Two leaders alike, each with a group alike: one invites an address with an account, the
    # other one without. Everything they are shown must be the same but for the address.
    other = factories.user(email="leader2@example.kr", name="김대표", locale="en")
    twin = ResidentGroup(name="수유동 배드민턴 동호회", created_by=other)
    twin.members.append(ResidentGroupMember(user=other, is_leader=True))
    db.session.add(twin)
    db.session.commit()

    seen = []
    for leader, group, address in ((world["leader"], world["group"], "friend@example.kr"),
                                   (other, twin, "nobody@example.kr")):
        login(leader)
        client.get("/account/groups")  # shows "You are logged in."
        response = invite(client, group, address)
        page = client.get("/account/groups")
        seen.append((response.status_code, response.headers["Location"], _text(response),
                     page.status_code, _text(page), address))

    def same(text: str, address: str) -> str:
        text = text.replace(address, "ADDRESS")
        text = re.sub(r'name="csrf_token" value="[^"]*"', "", text)
        return re.sub(r"\d+", "N", text)  # ids of groups and invitations

    (s1, loc1, body1, ps1, page1, a1), (s2, loc2, body2, ps2, page2, a2) = seen
    assert s1 == s2 == 302 and loc1 == loc2 and body1 == body2
    assert ps1 == ps2 == 200
    assert same(page1, a1) == same(page2, a2)
    assert "An invitation was sent to friend@example.kr." in page1
    assert "An invitation was sent to nobody@example.kr." in page2
    # No name, and no hint that either address has (or has no) account.
    assert "이친구" not in page1
    for page in (page1, page2):
        assert "No one has an account" not in page and "register" not in page.lower()
    # Nobody joined.
    assert members_of(world["group"]) == {world["leader"].id}
    assert members_of(twin) == {other.id}

    # Both addresses got their email, with a link that works.
    known, unknown = emails_to("friend@example.kr"), emails_to("nobody@example.kr")
    assert len(known) == len(unknown) == 1
    assert known[0].user_id == world["friend"].id and known[0].notification_id is not None
    assert unknown[0].user_id is None and unknown[0].notification_id is None
    login(world["friend"])
    assert "수유동 배드민턴 동호회" in _text(client.get(link_of(known[0])))


def test_the_leader_sees_the_typed_address_until_the_invitee_accepts_and_then_their_name(
    client, login, world
):
    login(world["leader"])
    invite(client, world["group"], "  Friend@Example.kr ")
    page = _text(client.get("/account/groups"))
    assert "friend@example.kr" in page and "이친구" not in page
    assert "Invited, no answer yet" in page

    login(world["friend"])
    page = _text(client.get("/account/groups"))
    assert "김대표 invited you to join 수유동 배드민턴 동호회." in page
    # Before accepting, the invitee is no member and sees no member's name.
    assert "You are not in any group yet." in page
    invitation = the_invitation()
    response = client.post(f"/account/groups/invitations/{invitation.id}/accept")
    assert "You joined 수유동 배드민턴 동호회." in _text(client.get(response.location))
    assert members_of(world["group"]) == {world["leader"].id, world["friend"].id}

    login(world["leader"])
    page = _text(client.get("/account/groups"))
    assert "이친구" in page
    assert "friend@example.kr" not in page and "Invited, no answer yet" not in page


def test_only_the_leader_sees_invited_addresses_and_may_withdraw_them(client, login, world):
    group = world["group"]
    group.members.append(ResidentGroupMember(user=world["stranger"]))
    db.session.commit()
    login(world["leader"])
    invite(client, group, "friend@example.kr")
    invitation = the_invitation()

    login(world["stranger"])  # a member, not the leader
    page = _text(client.get("/account/groups"))
    assert "friend@example.kr" not in page and "Withdraw" not in page
    url = f"/account/groups/{group.id}/invitations/{invitation.id}/cancel"
    assert client.post(url).status_code == 404
    response = invite(client, group, "someone@example.kr")
    assert "Only the group's leader can invite members." in _text(client.get(response.location))
    assert db.session.scalars(select(GroupInvitation)).all() == [invitation]


def test_the_invitee_must_accept_before_booking_for_the_group(
    client, login, world, factories, api_token
):
    org = factories.org()
    space = factories.space(owner=org, hours=ALWAYS_OPEN, booking_mode="instant")
    db.session.commit()
    start = next_weekday(2, 10, weeks=1)
    local = start.astimezone(space.zone)
    form = {
        "date": local.date().isoformat(), "start_time": local.strftime("%H:%M"),
        "end_time": (local + timedelta(hours=1)).strftime("%H:%M"), "attendees": 5,
        "purpose": "연습", "purpose_category": "culture", "group_id": str(world["group"].id),
        "send": "1",
    }  # fmt: skip
    login(world["leader"])
    invite(client, world["group"], "friend@example.kr")

    login(world["friend"])
    response = client.post(f"/spaces/{space.id}/book", data=form)
    assert response.status_code == 422
    assert "You can only book for a group you belong to." in _text(response)
    # The JSON API applies the same membership.
    headers = api_token(world["friend"])
    payload = {"space_id": space.id, "start": start.isoformat(),
               "end": (start + timedelta(hours=1)).isoformat(), "purpose": "연습",
               "attendees": 5, "group_id": world["group"].id}
    response = client.post("/api/v1/bookings", json=payload, headers=headers)
    assert response.status_code == 422
    assert "You can only book for a group you belong to." in response.get_json()["error"]["message"]

    client.post(f"/account/groups/invitations/{the_invitation().id}/accept")
    assert client.post(f"/spaces/{space.id}/book", data=form).status_code == 302


# --------------------------------------------------------------------------- answering
def test_declining_leaves_the_group_unchanged_and_the_leader_is_not_told(client, login, world):
    login(world["leader"])
    invite(client, world["group"], "friend@example.kr")
    client.get("/account/groups")  # shows the messages
    before = _text(client.get("/account/groups"))
    link = link_of(emails_to("friend@example.kr")[0])

    login(world["friend"])
    page = _text(client.get(link))
    assert "Accept" in page and "Decline" in page
    response = client.post(f"/account/groups/invitations/{the_invitation().id}/decline")
    page = _text(client.get(response.location))
    assert "You declined the invitation to 수유동 배드민턴 동호회." in page
    assert "invited you" not in page  # no longer waiting for an answer
    assert members_of(world["group"]) == {world["leader"].id}
    assert "You declined this invitation." in _text(client.get(link))
    response = client.post(f"/account/groups/invitations/{the_invitation().id}/accept")
    assert "You declined this invitation." in _text(client.get(response.location))
    assert members_of(world["group"]) == {world["leader"].id}

    # To the leader a declined invitation looks like one not answered yet (declining needs an
    # account, so telling would say the address has one).
    login(world["leader"])
    client.get("/account/groups")
    assert _text(client.get("/account/groups")) == before


def test_a_withdrawn_invitation_cannot_be_accepted(client, login, world):
    login(world["leader"])
    invite(client, world["group"], "friend@example.kr")
    invitation = the_invitation()
    link = link_of(emails_to("friend@example.kr")[0])
    response = client.post(
        f"/account/groups/{world['group'].id}/invitations/{invitation.id}/cancel"
    )
    page = _text(client.get(response.location))
    assert "The invitation to friend@example.kr was withdrawn." in page
    assert "Invited, no answer yet" not in page

    login(world["friend"])
    assert "invited you" not in _text(client.get("/account/groups"))
    assert "The group's leader withdrew this invitation." in _text(client.get(link))
    response = client.post(f"/account/groups/invitations/{invitation.id}/accept")
    assert "withdrew this invitation" in _text(client.get(response.location))
    assert members_of(world["group"]) == {world["leader"].id}


def test_an_invitation_expires_after_fourteen_days(client, login, world, frozen):
    login(world["leader"])
    invite(client, world["group"], "friend@example.kr")
    invitation = the_invitation()
    assert invitation.expires_at == NOW + timedelta(days=14)
    link = link_of(emails_to("friend@example.kr")[0])

    frozen.move_to(NOW + timedelta(days=14, seconds=1), tick=False)
    assert "Invited, no answer yet" not in _text(client.get("/account/groups"))
    login(world["friend"])
    assert "invited you" not in _text(client.get("/account/groups"))
    assert "This invitation has expired." in _text(client.get(link))
    response = client.post(f"/account/groups/invitations/{invitation.id}/accept")
    assert "This invitation has expired." in _text(client.get(response.location))
    assert members_of(world["group"]) == {world["leader"].id}
    client.post("/logout")
    assert "This invitation has expired." in _text(client.get(link))


def test_someone_signed_in_with_another_address_learns_nothing(client, login, world):
    login(world["leader"])
    invite(client, world["group"], "friend@example.kr")
    invitation = the_invitation()
    link = link_of(emails_to("friend@example.kr")[0])

    login(world["stranger"])
    response = client.get(link)
    assert response.status_code == 403
    page = _text(response)
    assert "This invitation was sent to another email address" in page
    for secret in ("수유동 배드민턴 동호회", "김대표", "friend@example.kr", "Accept"):
        assert secret not in page
    for action in ("accept", "decline"):
        url = f"/account/groups/invitations/{invitation.id}/{action}"
        assert client.post(url).status_code == 404
    assert "invited you" not in _text(client.get("/account/groups"))
    assert members_of(world["group"]) == {world["leader"].id}
    assert the_invitation().declined_at is None


def test_a_used_link_says_so_and_accepting_twice_changes_nothing(client, login, world):
    login(world["leader"])
    invite(client, world["group"], "friend@example.kr")
    link = link_of(emails_to("friend@example.kr")[0])
    login(world["friend"])
    invitation = the_invitation()
    client.post(f"/account/groups/invitations/{invitation.id}/accept")
    page = _text(client.get(link))
    assert "You have already accepted this invitation." in page and "Decline" not in page
    response = client.post(f"/account/groups/invitations/{invitation.id}/accept")
    assert "You have already accepted this invitation." in _text(client.get(response.location))
    response = client.post(f"/account/groups/invitations/{invitation.id}/decline")
    assert "You have already accepted this invitation." in _text(client.get(response.location))
    assert members_of(world["group"]) == {world["leader"].id, world["friend"].id}
    # Unknown and mangled tokens are not found, for everyone.
    for url in (link[:-3] + "xyz", "/groups/invitations/" + "a" * 500):
        response = client.get(url)
        assert response.status_code == 404
        assert "This invitation link does not work." in _text(response)


def test_a_visitor_is_asked_to_log_in_or_register_and_comes_back(client, login, world):
    login(world["leader"])
    invite(client, world["group"], "new@example.kr")
    [mail] = emails_to("new@example.kr")
    link = link_of(mail)
    # An address without an account is told to register with it first; the footer says why
    # the email came (there are no notification settings to change).
    assert "create a Gonggan account with the address this email was sent to " \
           "(new@example.kr)" in mail.body_text
    assert "김대표 invited you to join the resident group 수유동 배드민턴 동호회" in mail.body_text
    assert "김대표 invited this address" in mail.body_text
    assert "/account/notifications" not in mail.body_text
    client.post("/logout")

    response = client.get(link)
    assert response.status_code == 200
    page = _text(response)
    assert "log in with the email address it was sent to" in page
    assert "수유동 배드민턴 동호회" not in page and "김대표" not in page
    assert f'href="/login?next={link}"' in page and f'href="/register?next={link}"' in page
    response = client.post(f"/register?next={link}", data={
        "name": "최새내", "email": "New@example.kr", "password": "password123",
        "confirm": "password123", "locale": "en", "district": "0", "consent_booking": "y",
    })
    # Sign-up never signs in: the address is confirmed from the email first, then the person
    # logs in from the page, which keeps where they were going.
    assert response.status_code == 200
    assert f'href="/login?next={link}"' in _text(response)
    [confirm] = [m for m in emails_to("new@example.kr") if m.kind == "email_verification"]
    assert client.get(re.search(r"http://gonggan\.test(/verify-email/\S+)",
                                confirm.body_text).group(1)).status_code == 302
    response = client.post(f"/login?next={link}", data={"email": "new@example.kr",
                                                         "password": "password123"})
    assert response.status_code == 302 and response.location == link
    page = _text(client.get(link))
    assert "김대표 invited you to join 수유동 배드민턴 동호회." in page
    client.post(f"/account/groups/invitations/{the_invitation().id}/accept")
    assert len(members_of(world["group"])) == 2

    # Logging in comes back too.
    client.post("/logout")
    response = client.post("/login", data={"email": "friend@example.kr",
                                           "password": "password123", "next": link})
    assert response.location == link


def test_an_account_holder_is_told_in_the_inbox_and_by_email(client, login, world):
    login(world["leader"])
    invite(client, world["group"], "friend@example.kr")
    [mail] = emails_to("friend@example.kr")
    link = link_of(mail)
    assert mail.subject == "김대표 invited you to join 수유동 배드민턴 동호회"
    assert "Accept or decline on the invitation's page." in mail.body_text
    assert "/account/notifications" in mail.body_text  # their settings decide
    [note] = db.session.scalars(
        select(Notification).where(Notification.user_id == world["friend"].id)
    ).all()
    assert note.kind == "group_invitation"
    # No token is stored anywhere: only its hash, on the invitation.
    token = link.rsplit("/", 1)[1]
    assert token not in str(note.params) and token not in str(mail.params)
    assert the_invitation().token_hash == GroupInvitation.hash(token)

    login(world["friend"])
    response = client.get(f"/notifications/{note.id}/open")
    assert response.location.endswith("/account/groups")
    assert "김대표 invited you to join 수유동 배드민턴 동호회." in _text(client.get(link))


# --------------------------------------------------------------------------- inviting again
def test_inviting_again_renews_the_invitation_and_the_old_link_stops_working(
    client, login, world, frozen
):
    login(world["leader"])
    invite(client, world["group"], "friend@example.kr")
    first = link_of(emails_to("friend@example.kr")[0])
    frozen.move_to(NOW + timedelta(days=10), tick=False)
    login(world["leader"])  # ten days on, yesterday's log-in has ended
    invite(client, world["group"], "FRIEND@example.kr")
    invitation = the_invitation()  # still one
    assert invitation.expires_at == NOW + timedelta(days=24)
    mails = emails_to("friend@example.kr")
    assert len(mails) == 2
    second = link_of(mails[1])
    assert second != first

    login(world["friend"])
    assert client.get(first).status_code == 404
    assert "Accept" in _text(client.get(second))
    # Declining, then being invited again: a new chance to answer.
    client.post(f"/account/groups/invitations/{invitation.id}/decline")
    login(world["leader"])
    invite(client, world["group"], "friend@example.kr")
    login(world["friend"])
    third = link_of(emails_to("friend@example.kr")[2])
    assert "Accept" in _text(client.get(third))


def test_a_group_has_a_bounded_number_of_invitations_waiting(client, login, world, monkeypatch):
    from app.accounts import groups

    monkeypatch.setattr(groups, "MAX_PENDING_INVITATIONS", 2)
    login(world["leader"])
    for address in ("a@example.kr", "b@example.kr"):
        invite(client, world["group"], address)
    response = invite(client, world["group"], "c@example.kr")
    assert "at most 2 invitations waiting" in _text(client.get(response.location))
    # Renewing one that waits is not one more.
    response = invite(client, world["group"], "a@example.kr")
    assert "An invitation was sent to a@example.kr." in _text(client.get(response.location))
    assert len(db.session.scalars(select(GroupInvitation)).all()) == 2
    assert emails_to("c@example.kr") == []


def test_bad_addresses_get_a_message_and_change_nothing(client, login, world):
    login(world["leader"])
    for bad in ("", "not an address", "a@b@c", "x" * 300 + "@example.kr"):
        response = invite(client, world["group"], bad)
        assert response.status_code == 302
        assert "Please enter a valid email address." in _text(client.get(response.location))
    assert db.session.scalars(select(GroupInvitation)).all() == []
    assert db.session.scalars(select(EmailDelivery)).all() == []


def test_inviting_is_rate_limited(app, client, login, world, monkeypatch):
    monkeypatch.setitem(app.config, "RATELIMIT_INVITATION_PER_ACCOUNT", "2 per minute")
    login(world["leader"])
    assert invite(client, world["group"], "a@example.kr").status_code == 302
    assert invite(client, world["group"], "b@example.kr").status_code == 302
    assert invite(client, world["group"], "c@example.kr").status_code == 429
    assert emails_to("c@example.kr") == []


def test_the_last_member_leaving_takes_the_invitations_along(client, login, world):
    login(world["leader"])
    invite(client, world["group"], "friend@example.kr")
    link = link_of(emails_to("friend@example.kr")[0])
    client.post(f"/account/groups/{world['group'].id}/members/{world['leader'].id}/remove")
    db.session.expire_all()
    assert db.session.scalars(select(ResidentGroup)).all() == []
    assert db.session.scalars(select(GroupInvitation)).all() == []
    login(world["friend"])
    assert client.get(link).status_code == 404
