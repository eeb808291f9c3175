"""The team of an organisation: invitations by email (single use, 7 days, hashed), accepting
them signed in or after signing up, roles, removal, and the last manager."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from sqlalchemy import select

from app.db import utcnow
from app.notifications.models import EmailDelivery
from app.orgs import team
from app.orgs.models import OrgInvitation, OrgMembership
from app.security.models import ORG_INVITED, ORG_ROLE_CHANGED, SecurityEvent


@pytest.fixture
def org(factories, db):
    org = factories.org(name="옥상정원 공유", kind="company")
    db.session.commit()
    return org


@pytest.fixture
def manager(factories, org, db):
    user = factories.manager(org, email="boss@example.kr")
    db.session.commit()
    return user


def _invite(client, org, email="colleague@example.kr", role="staff"):
    return client.post(f"/organisations/{org.id}/team/invite", data={"email": email, "role": role})


def _token_of(db, email="colleague@example.kr") -> str:
    row = db.session.scalars(
        select(EmailDelivery).where(EmailDelivery.to_address == email,
                                    EmailDelivery.kind == "org_invitation")
        .order_by(EmailDelivery.id.desc())
    ).first()
    return row.params["token"]


def test_invite_and_accept_signed_in(org, manager, factories, login, client, db):
    colleague = factories.user(email="colleague@example.kr", name="이동료")
    db.session.commit()
    login(manager)
    response = _invite(client, org)
    assert response.status_code == 302
    token = _token_of(db)
    invitation = db.session.scalars(select(OrgInvitation)).one()
    assert invitation.token_hash == team.hash_token(token) and token not in invitation.token_hash
    assert db.session.scalar(select(SecurityEvent.id).where(SecurityEvent.kind == ORG_INVITED))

    login(colleague)
    page = client.get(f"/organisations/invitations/{token}")
    assert page.status_code == 200 and "옥상정원 공유" in page.get_data(as_text=True)
    assert client.post(f"/organisations/invitations/{token}").status_code == 302
    member = db.session.scalar(select(OrgMembership).where(OrgMembership.user_id == colleague.id))
    assert member.role == "staff"
    # Single use.
    assert client.get(f"/organisations/invitations/{token}").status_code == 404
    assert client.post(f"/organisations/invitations/{token}").status_code == 409


def test_the_answer_does_not_tell_whether_the_address_has_an_account(org, manager, factories,
                                                                    login, client, db):
    import re

    factories.user(email="known@example.kr")
    db.session.commit()
    login(manager)

    def said(email: str) -> str:
        page = client.post(f"/organisations/{org.id}/team/invite",
                           data={"email": email, "role": "staff"}, follow_redirects=True)
        assert page.status_code == 200
        flashes = re.findall(r'class="flash flash-success">(.*?)<', page.get_data(as_text=True))
        return flashes[-1].replace(email, "ADDRESS")

    assert said("known@example.kr") == said("nobody@example.kr")
    # Both got an email to the address, none a notification in an inbox.
    sent = set(db.session.scalars(select(EmailDelivery.to_address)
                                  .where(EmailDelivery.kind == "org_invitation")))
    assert sent == {"known@example.kr", "nobody@example.kr"}
    assert db.session.scalar(select(EmailDelivery.notification_id)
                             .where(EmailDelivery.kind == "org_invitation")
                             .where(EmailDelivery.notification_id.is_not(None))) is None


def test_a_visitor_is_asked_to_log_in_or_sign_up(org, manager, login, client, db, app):
    login(manager)
    _invite(client, org, email="new@example.kr")
    token = _token_of(db, "new@example.kr")
    client.post("/logout")
    page = client.get(f"/organisations/invitations/{token}").get_data(as_text=True)
    assert "/register?next=" in page and "/login?next=" in page


def test_links_expire_after_seven_days(org, manager, factories, login, client, db):
    login(manager)
    _invite(client, org)
    token = _token_of(db)
    colleague = factories.user(email="colleague@example.kr")
    db.session.commit()
    login(colleague)
    with time_machine.travel(utcnow() + timedelta(days=7, minutes=1)):
        assert client.get(f"/organisations/invitations/{token}").status_code == 404


def test_roles_and_the_last_manager(org, manager, factories, login, client, db):
    staff = factories.user(email="staff@example.kr")
    db.session.add(OrgMembership(user_id=staff.id, organisation_id=org.id, role="staff"))
    db.session.commit()
    login(manager)
    # The only manager cannot step down nor leave.
    client.post(f"/organisations/{org.id}/team/{manager.id}/role", data={"role": "staff"})
    client.post(f"/organisations/{org.id}/team/leave")
    db.session.expire_all()
    assert db.session.scalar(select(OrgMembership.role).where(
        OrgMembership.user_id == manager.id)) == "manager"
    # Principal is for schools only.
    client.post(f"/organisations/{org.id}/team/{staff.id}/role", data={"role": "principal"})
    db.session.expire_all()
    assert db.session.scalar(select(OrgMembership.role).where(
        OrgMembership.user_id == staff.id)) == "staff"
    client.post(f"/organisations/{org.id}/team/{staff.id}/role", data={"role": "manager"})
    db.session.expire_all()
    assert db.session.scalar(select(OrgMembership.role).where(
        OrgMembership.user_id == staff.id)) == "manager"
    assert db.session.scalar(select(SecurityEvent.id).where(SecurityEvent.kind == ORG_ROLE_CHANGED))
    # Now there are two: the first may leave.
    assert client.post(f"/organisations/{org.id}/team/leave").status_code == 302
    assert db.session.scalar(select(OrgMembership.id).where(
        OrgMembership.user_id == manager.id)) is None


def test_staff_cannot_change_the_team(org, manager, factories, login, client, db):
    staff = factories.user(email="staff@example.kr")
    db.session.add(OrgMembership(user_id=staff.id, organisation_id=org.id, role="staff"))
    db.session.commit()
    login(staff)
    assert client.get(f"/organisations/{org.id}/team").status_code == 200
    assert _invite(client, org).status_code == 403
    assert client.post(f"/organisations/{org.id}/team/{manager.id}/remove").status_code == 403


def test_team_page_queries_are_bounded(org, manager, factories, login, db, queries_of_get,
                                       client):
    login(manager)

    def add(n):
        for _ in range(n):
            user = factories.user()
            db.session.add(OrgMembership(user_id=user.id, organisation_id=org.id, role="staff"))
        db.session.commit()

    add(1)
    few = queries_of_get(f"/organisations/{org.id}/team")
    add(10)
    _invite(client, org, email="a@example.kr")
    _invite(client, org, email="b@example.kr")
    assert queries_of_get(f"/organisations/{org.id}/team") <= few + 0


def test_invitations_are_rate_limited(org, manager, login, client, db, app, monkeypatch):
    monkeypatch.setitem(app.config, "RATELIMIT_INVITATION_PER_ACCOUNT", "2 per minute")
    login(manager)
    assert _invite(client, org, email="a@example.kr").status_code == 302
    assert _invite(client, org, email="b@example.kr").status_code == 302
    assert _invite(client, org, email="c@example.kr").status_code == 429


def test_the_email_carries_the_link(org, manager, login, client, db, app):
    from app.notifications import render

    login(manager)
    _invite(client, org, email="new@example.kr")
    token = _token_of(db, "new@example.kr")
    row = db.session.scalars(select(EmailDelivery).where(
        EmailDelivery.kind == "org_invitation")).one()
    with render.email_context("ko"):
        got = render.render_to_address(row)
    assert f"/organisations/invitations/{token}" in got.text
    assert "옥상정원 공유" in got.subject
