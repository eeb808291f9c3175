"""Every route × every role: who may see and do what. Object-level checks included.

The matrix must list every rule in the URL map (a test fails when a new route is added without
deciding who may use it). Outcomes:
  ok     — the page or action works (2xx, or a redirect that is not to the login page)
  login  — anonymous: sent to the login page (pages) or 401 (API)
  403    — the object is visible to this user but the action is not theirs
  404    — the object is not this user's business; its existence is not revealed
"""

from __future__ import annotations

import io
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from app.accounts.group_models import GroupInvitation, ResidentGroup, ResidentGroupMember
from app.accounts.models import LoginSession, PasswordReset
from app.accounts.verification_models import Verification, VerificationKind
from app.bookings.models import BookingSeries, LotteryDraw
from app.db import utcnow
from app.extensions import db
from app.notifications.models import EmailDelivery, Notification
from app.orgs import team
from app.orgs.models import Organisation, OrgInvitation
from app.orgs.states import OrgStatus
from app.payments import services as payment_services
from app.payments.settlement_models import SettlementStatement
from app.spaces.models import SpacePhoto
from tests.conftest import next_weekday
from tests.media.pictures import picture

ROLES = ["anon", "resident", "stranger", "manager", "other_manager", "officer", "other_officer",
         "admin"]


@pytest.fixture
def world(factories, media):
    seoul = factories.jurisdiction(slug="seoul", name="서울특별시", kind="metropolitan")
    gangbuk = factories.jurisdiction(slug="gangbuk", name="강북구", parent=seoul)
    jongno = factories.jurisdiction(slug="jongno", name="종로구", parent=seoul)
    org = factories.org(slug="bundong", name="번동초등학교")
    other_org = factories.org(slug="other", name="다른 기관")
    space = factories.space(owner=org, jurisdictions=[gangbuk])
    hidden = factories.space(owner=other_org, published=False, name="비공개 공간")
    users = {
        "resident": factories.user(email="resident@example.kr"),
        "stranger": factories.user(email="stranger@example.kr"),
        "manager": factories.manager(org, email="manager@example.kr"),
        "other_manager": factories.manager(other_org, email="other-manager@example.kr"),
        "officer": factories.officer(gangbuk, email="officer@example.kr"),
        "other_officer": factories.officer(jongno, email="other-officer@example.kr"),
        "admin": factories.user(email="admin@example.kr", is_admin=True),
    }
    start = next_weekday(2, 10)
    booking = factories.booking(
        space, users["resident"], start=start, end=start + timedelta(hours=2)
    )
    closure = factories.closure(space, start + timedelta(days=1), start + timedelta(days=2))
    # A priced space of the same owner: a request of the resident's paid in cash to the manager,
    # with part of it still to be handed back.
    paid_space = factories.space(owner=org, jurisdictions=[gangbuk], name="유료 공간",
                                 price_per_hour=10_000)
    paid = factories.booking(paid_space, users["resident"], start=start + timedelta(days=3),
                             end=start + timedelta(days=3, hours=2))
    payment = payment_services.record_offline(paid, users["manager"], method="cash",
                                              amount=paid.price_amount, reference="영수증 1")
    refund = payment_services.start_refund(payment, 1_000, reason="부분 환불",
                                           actor=users["manager"], now=utcnow())
    series = BookingSeries(space=space, user=users["resident"], rrule="FREQ=WEEKLY;COUNT=1",
                           first_start=start, minutes=120, timezone="Asia/Seoul")
    db.session.add(series)
    db.session.flush()
    booking.series_id = series.id
    draw = LotteryDraw(space_id=space.id, draw_at=start, seed="0" * 32, result=[])
    hidden_draw = LotteryDraw(space_id=hidden.id, draw_at=start, seed="0" * 32, result=[])
    # A browser the resident is signed in on elsewhere (their phone, say).
    phone = LoginSession(user=users["resident"], key_hash=LoginSession.hash("phone-key"),
                         expires_at=utcnow() + timedelta(hours=1))
    group = ResidentGroup(name="배드민턴 동호회")
    group.members.append(ResidentGroupMember(user=users["resident"], is_leader=True))
    db.session.add_all([draw, hidden_draw, group, phone])
    db.session.flush()
    # The resident invited the stranger (an account of that address) to the group.
    invitation = GroupInvitation(group_id=group.id, email="stranger@example.kr",
                                 invited_by=users["resident"])
    invitation.renew(utcnow())
    db.session.add(invitation)
    # A "forgot password" link sent to the stranger (opening it changes nothing).
    reset = PasswordReset(user=users["stranger"], expires_at=utcnow() + timedelta(hours=1))
    reset.seed()
    db.session.add(reset)
    # November's settlement statement of the owner (nothing to transfer).
    statement = SettlementStatement(organisation_id=org.id, month=date(2026, 11, 1),
                                    status="carried")
    db.session.add(statement)
    db.session.commit()
    # The resident's first notification (the request received) and its email.
    note = db.session.scalars(
        select(Notification).where(Notification.user_id == users["resident"].id)
        .order_by(Notification.id)
    ).first()
    mail = db.session.scalars(
        select(EmailDelivery).where(EmailDelivery.notification_id == note.id)
    ).one()
    # A photo of the space (a row; its one file is enough for /media).
    photo = SpacePhoto(space_id=space.id, position=0, alt="강당", is_cover=True,
                       digest="ab" * 16, width=480, height=320)
    db.session.add(photo)
    db.session.flush()
    media.put(photo.renditions()[0][2], b"webp")
    # The resident claims to live in 강북구 and sent a scan for its officers to check.
    users["resident"].home_district_id = gangbuk.id
    claim = Verification(user=users["resident"], kind=VerificationKind.RESIDENCY,
                         jurisdiction_id=gangbuk.id, evidence_key="evidence/" + "cd" * 16 + ".pdf")
    db.session.add(claim)
    db.session.flush()
    media.put(claim.evidence_key, b"%PDF-1.4 scan")
    # The stranger applied to list spaces in Gangbuk (its officer reviews it), with a document;
    # the manager invited someone to the owner's team.
    application = Organisation(slug="applied", name="신청 기관", kind="company",
                               status=OrgStatus.PENDING, applicant_id=users["stranger"].id,
                               evidence_key="private/ab/" + "ab" * 16 + ".pdf",
                               evidence_type="application/pdf")
    application.jurisdictions = [gangbuk]
    db.session.add(application)
    media.put(application.evidence_key, b"%PDF-1.4\n")
    org_invitation = OrgInvitation(organisation_id=org.id, email="invited@example.kr",
                                   role="staff", token_hash=team.hash_token("matrix-token"),
                                   invited_by_id=users["manager"].id,
                                   expires_at=utcnow() + timedelta(days=7))
    db.session.add(org_invitation)
    db.session.commit()
    return {
        "claim": claim.id,
        "application": application.id,
        "org_invitation": org_invitation.id,
        "manager_id": users["manager"].id,
        "photo": photo.id,
        "photo_file": photo.renditions()[0][2],
        "note": note.id,
        "resident_mail": mail.id,
        "draw": draw.id,
        "hidden_draw": hidden_draw.id,
        "group": group.id,
        "invitation": invitation.id,
        "invitation_token": invitation.link_token(),
        "reset_token": reset.link_token(),
        "resident_session": phone.id,
        "resident_id": users["resident"].id,
        "gangbuk": gangbuk.id,
        "seoul": seoul.id,
        "space": space.id,
        "hidden": hidden.id,
        "booking": booking.id,
        "closure": closure.id,
        "org": org.id,
        "paid_booking": paid.id,
        "refund": refund.id,
        "statement": statement.id,
        "series": series.id,
        "users": users,
        "start": start,
    }


# Who may use which route. Keys are endpoint names (with a variant after "#"); each maps to
# (method, URL template, form data or None, expected outcome per role).
ALL_OK = {role: "ok" for role in ROLES}
LOGGED_IN_OK = {**ALL_OK, "anon": "login"}
# The booking belongs to "resident"; the space to "manager"'s organisation, under "officer"'s
# district. "other_*" are the same roles elsewhere; "stranger" is another resident.
BOOKING_VIEW = {
    "anon": "login", "resident": "ok", "stranger": "404", "manager": "ok",
    "other_manager": "404", "officer": "ok", "other_officer": "404", "admin": "ok",
}
BOOKING_DECIDE = {**BOOKING_VIEW, "resident": "403", "officer": "403"}
BOOKING_CANCEL = {**BOOKING_VIEW, "officer": "403"}
MANAGE_LIST = {
    "anon": "login", "resident": "403", "stranger": "403", "manager": "ok",
    "other_manager": "ok", "officer": "403", "other_officer": "403", "admin": "ok",
}
MANAGE_SPACE = {
    "anon": "login", "resident": "404", "stranger": "404", "manager": "ok",
    "other_manager": "404", "officer": "403", "other_officer": "404", "admin": "ok",
}
# The resident who made the booking may know it exists: 403, not 404.
MANAGE_DECIDE = {**MANAGE_SPACE, "resident": "403"}
# Officers decide the stages of their jurisdiction, so the queue is theirs too.
APPROVER_LIST = {**MANAGE_LIST, "officer": "ok", "other_officer": "ok"}
# Only the resident who made a request answers it; those who may see it get 403.
RESIDENT_ONLY = {**BOOKING_VIEW, "manager": "403", "officer": "403", "admin": "403"}
# The resident leads the group; no one else may know it exists.
GROUP_LEADER = {**{role: "404" for role in ROLES}, "anon": "login", "resident": "ok"}
# An invitation to the group, sent to the stranger's address: only they may answer it; no one
# else may know it exists.
INVITEE = {**{role: "404" for role in ROLES}, "anon": "login", "stranger": "ok"}
# Its page (reached by the token in the email) asks a visitor to log in or register, shows the
# invitee the invitation, and tells anyone signed in with another address only that it is for
# another address.
INVITATION_PAGE = {**{role: "403" for role in ROLES}, "anon": "ok", "stranger": "ok"}
# Rules of a space: its managers edit them; an overseeing officer may see but not edit.
RULES_EDIT = {**MANAGE_SPACE}
LOTTERY_REPORT = {
    "anon": "login", "resident": "403", "stranger": "403", "manager": "ok",
    "other_manager": "403", "officer": "ok", "other_officer": "403", "admin": "ok",
}
QUOTE = {"start": "2030-01-07T10:00:00+09:00", "end": "2030-01-07T11:00:00+09:00", "attendees": 2}
RULE_SET_BODY = {"rules": {"max_attendees": 10}, "effective_from": "2999-01-01"}
RULE_SET_API = {
    "anon": "login", "resident": "404", "stranger": "404", "manager": "ok",
    "other_manager": "404", "officer": "403", "other_officer": "404", "admin": "ok",
}
OVERSIGHT = {
    "anon": "login", "resident": "403", "stranger": "403", "manager": "403",
    "other_manager": "403", "officer": "ok", "other_officer": "ok", "admin": "ok",
}
# Residency and waiver claims: the officers of any district see their queue (others 403);
# a claim (and its evidence) only the officers of its district, not even administrators who
# are not officers, nor the person who sent it (their own page shows it).
CLAIM_QUEUE = {**OVERSIGHT, "admin": "403"}
CLAIM = {**{role: "404" for role in ROLES}, "anon": "login", "officer": "ok"}
HIDDEN_SPACE = {
    "anon": "404", "resident": "404", "stranger": "404", "manager": "404",
    "other_manager": "ok", "officer": "404", "other_officer": "404", "admin": "ok",
}
REASON = {"reason": "시설 점검으로 사용할 수 없습니다."}
# Creating a space: the organisation's managers (and admins); anyone else signed in is refused.
CREATE_SPACE = {**{role: "403" for role in ROLES}, "anon": "login", "manager": "ok",
                "admin": "ok"}
API_CLOSURE = {"start": "2030-01-01T10:00:00+09:00", "end": "2030-01-02T10:00:00+09:00"}
# Payments. A receipt exists only once something was paid.
NOTHING_PAID = {**{role: "404" for role in ROLES}, "anon": "login"}
# The payment pages of a booking answer everyone who may see it with a redirect to the booking
# and a message: the Pay button's route too, for those who are not the resident ("You are not
# allowed to do this.") and when nothing is to pay.
PAYMENT_PAGES = BOOKING_VIEW
# Payout set-up and reports: the owner's managers and principals, and the platform's admins;
# no one else may know the organisation's money exists.
PAYOUTS = {**{role: "404" for role in ROLES}, "anon": "login", "manager": "ok", "admin": "ok"}
# Settlement by bank transfer: the owner's managers enter the account, the platform's
# administrators verify it and run the settlement desk; nobody else learns it exists.
SETTLEMENT_EDIT = {**PAYOUTS, "admin": "403"}
SETTLEMENT_OPERATE = {**PAYOUTS, "manager": "403"}
SETTLEMENT_DESK = {**{role: "404" for role in ROLES}, "anon": "login", "admin": "ok"}
BANK_ACCOUNT = {"bank_code": "004", "number": "123-456-789012", "holder": "번동초등학교"}
OFFLINE_PAYMENT = {"method": "cash", "amount": "10000", "reference": "영수증 2"}
REFUND = {"amount": "1000", "reason": "냉방기 고장", "reference": "계좌 이체"}
API_OFFLINE_PAYMENT = {"method": "cash", "amount": 20_000, "reference": "영수증 2"}
API_REFUND = {"amount": 1_000, "reason": "냉방기 고장", "reference": "계좌 이체"}
# Notifications: one's own only; no one else may know another's exists. The development mail
# page (no mail server) shows admins every email, others their own.
OWN_NOTE = {**{role: "404" for role in ROLES}, "anon": "login", "resident": "ok"}
OWN_MAIL = {**OWN_NOTE, "admin": "ok"}
ADMIN_ONLY = {**{role: "403" for role in ROLES}, "anon": "login", "admin": "ok"}
# Statistics: officers, facility managers and admins, each for their own scope (a space
# outside it in the filters is a message on the form, not a refusal).
STATS = {**{role: "ok" for role in ROLES}, "anon": "login", "resident": "403", "stranger": "403"}
# A download that does not exist (unknown table, impossible month): 404 for those with a scope.
STATS_NOT_FOUND = {role: "404" if outcome == "ok" else outcome for role, outcome in STATS.items()}

MATRIX = {
    "main.index": ("GET", "/", None, ALL_OK),
    "main.set_language": ("POST", "/language", {"lang": "en", "next": "/"}, ALL_OK),
    # Probed by load balancers and monitoring: public, no personal data (tests/ops/).
    "health.healthz": ("GET", "/healthz", None, ALL_OK),
    "health.readyz": ("GET", "/readyz", None, ALL_OK),
    "accounts.login": ("GET", "/login", None, ALL_OK),
    "accounts.register": ("GET", "/register", None, ALL_OK),
    "accounts.logout": ("POST", "/logout", {}, ALL_OK),  # logging out twice is harmless
    "accounts.account": ("GET", "/account", None, LOGGED_IN_OK),
    "accounts.resend_verification": ("POST", "/account/verify-email", {}, LOGGED_IN_OK),
    "accounts.verify_email#forged": ("GET", "/verify-email/not-a-token", None,
                                     ALL_OK),  # 400 with a message
    # Forgotten passwords: public; the link's token is the credential (opening it changes
    # nothing), an unknown one is a 400 with a message and the way to ask again.
    "accounts.forgot_password": ("GET", "/password/forgot", None, ALL_OK),
    "accounts.reset_password": ("GET", "/password/reset/{reset_token}", None, ALL_OK),
    "accounts.reset_password#unknown": ("GET", "/password/reset/not-a-token", None, ALL_OK),
    # Changing one's address: one's own account (an empty form is a message); the link's
    # token is the credential.
    "accounts.change_email": ("POST", "/account/email", {}, LOGGED_IN_OK),
    "accounts.confirm_email_change#forged": ("GET", "/account/email/not-a-token", None,
                                             ALL_OK),  # 400 with a message
    "accounts.end_all_sessions": ("POST", "/account/sessions/end-all", {}, LOGGED_IN_OK),
    # One's own sessions only; no one else may know another's exist.
    "accounts.end_session": ("POST", "/account/sessions/{resident_session}/end", {},
                             GROUP_LEADER),
    "static": ("GET", "/static/css/app.css", None, ALL_OK),
    "spaces.search": ("GET", "/spaces/", None, ALL_OK),
    "spaces.detail": ("GET", "/spaces/{space}", None, ALL_OK),
    "spaces.detail#hidden": ("GET", "/spaces/{hidden}", None, HIDDEN_SPACE),
    "spaces.book": ("GET", "/spaces/{space}/book", None, LOGGED_IN_OK),
    "spaces.book#hidden": ("GET", "/spaces/{hidden}/book", None,
                           {**HIDDEN_SPACE, "anon": "login"}),
    # The proof-of-work challenge of the booking form: whoever may open the form.
    "spaces.challenge": ("GET", "/spaces/{space}/challenge", None, LOGGED_IN_OK),
    "spaces.challenge#hidden": ("GET", "/spaces/{hidden}/challenge", None,
                                {**HIDDEN_SPACE, "anon": "login"}),
    # The request form's live summary: whoever may open the form.
    "spaces.book_summary": ("GET", "/spaces/{space}/book/summary", None, LOGGED_IN_OK),
    "spaces.book_summary#hidden": ("GET", "/spaces/{hidden}/book/summary", None,
                                   {**HIDDEN_SPACE, "anon": "login"}),
    # Suspicious activity: managers, officers and admins, each within their scope.
    "security.activity": ("GET", "/security/activity", None, STATS),
    "bookings.mine": ("GET", "/bookings/", None, LOGGED_IN_OK),
    "bookings.detail": ("GET", "/bookings/{booking}", None, BOOKING_VIEW),
    "bookings.cancel": ("POST", "/bookings/{booking}/cancel", {**REASON, "confirm": "1"},
                        BOOKING_CANCEL),
    # The confirmation step before cancelling (what is refunded): whoever may cancel.
    "bookings.confirm_cancel": ("GET", "/bookings/{booking}/cancel", None, BOOKING_CANCEL),
    "bookings.resubmit": ("POST", "/bookings/{booking}/resubmit", {}, RESIDENT_ONLY),
    "accounts.groups": ("GET", "/account/groups", None, LOGGED_IN_OK),
    # Privacy: the notice is public; one's consents, data and deletion are one's own (no id in
    # the address: nobody can reach another person's). Deleting without the password changes
    # nothing (422).
    "accounts.privacy_notice": ("GET", "/privacy", None, ALL_OK),
    "accounts.privacy": ("GET", "/account/privacy", None, LOGGED_IN_OK),
    "accounts.privacy#post": ("POST", "/account/privacy", {"booking": "y"}, LOGGED_IN_OK),
    "accounts.export_json": ("GET", "/account/export.json", None, LOGGED_IN_OK),
    "accounts.export_zip": ("GET", "/account/export.zip", None, LOGGED_IN_OK),
    "accounts.delete_account": ("GET", "/account/delete", None, LOGGED_IN_OK),
    "accounts.delete_account#wrong-password": ("POST", "/account/delete",
                                               {"password": "wrong", "understood": "y"},
                                               LOGGED_IN_OK),
    "accounts.new_group": ("POST", "/account/groups", {"name": "책모임"}, LOGGED_IN_OK),
    "accounts.invite_to_group": ("POST", "/account/groups/{group}/invitations",
                                 {"email": "someone@example.kr"}, GROUP_LEADER),
    "accounts.cancel_invitation": ("POST",
                                   "/account/groups/{group}/invitations/{invitation}/cancel", {},
                                   GROUP_LEADER),
    "accounts.accept_invitation": ("POST", "/account/groups/invitations/{invitation}/accept", {},
                                   INVITEE),
    "accounts.decline_invitation": ("POST", "/account/groups/invitations/{invitation}/decline",
                                    {}, INVITEE),
    "accounts.invitation": ("GET", "/groups/invitations/{invitation_token}", None,
                            INVITATION_PAGE),
    # A token that is no invitation's (never was, or a newer email replaced it): not found.
    "accounts.invitation#unknown": ("GET", "/groups/invitations/not-a-token", None,
                                    {role: "404" for role in ROLES}),
    "accounts.remove_group_member": ("POST",
                                     "/account/groups/{group}/members/{resident_id}/remove", {},
                                     GROUP_LEADER),
    "rules.index": ("GET", "/rules/", None, APPROVER_LIST),
    "rules.edit": ("GET", "/rules/space/{space}", None, RULES_EDIT),
    "rules.edit#post": ("POST", "/rules/space/{space}", {"max_attendees": "30"}, RULES_EDIT),
    "rules.history": ("GET", "/rules/space/{space}/history", None, RULES_EDIT),
    "lottery.draw": ("GET", "/lottery/draws/{draw}", None, ALL_OK),
    "lottery.draw#hidden": ("GET", "/lottery/draws/{hidden_draw}", None, HIDDEN_SPACE),
    "lottery.draws": ("GET", "/lottery/spaces/{space}/draws", None, ALL_OK),
    "lottery.draws#hidden": ("GET", "/lottery/spaces/{hidden}/draws", None, HIDDEN_SPACE),
    "lottery.fairness": ("GET", "/lottery/spaces/{space}/fairness", None, LOTTERY_REPORT),
    "lottery.fairness#hidden": ("GET", "/lottery/spaces/{hidden}/fairness", None,
                                {**HIDDEN_SPACE, "anon": "login"}),
    "manage.queue": ("GET", "/manage/queue", None, APPROVER_LIST),
    "manage.bulk_decide": ("POST", "/manage/queue/bulk", {"action": "approve"}, APPROVER_LIST),
    "manage.unpaid": ("GET", "/manage/queue/unpaid", None, MANAGE_LIST),
    # The approver's page of a request: the space's managers and whoever decides its stage.
    "manage.request_page": ("GET", "/manage/bookings/{booking}", None, MANAGE_DECIDE),
    "manage.return_request": ("POST", "/manage/bookings/{booking}/return", REASON,
                              MANAGE_DECIDE),
    "manage.spaces": ("GET", "/manage/spaces", None, MANAGE_LIST),
    "manage.new_space": ("GET", "/manage/spaces/new", None, MANAGE_LIST),
    "manage.edit_space": ("GET", "/manage/spaces/{space}/edit", None, MANAGE_SPACE),
    "manage.publish": ("POST", "/manage/spaces/{space}/publish", {"value": "0"}, MANAGE_SPACE),
    "manage.hours": ("GET", "/manage/spaces/{space}/hours", None, MANAGE_SPACE),
    "manage.closures": ("GET", "/manage/spaces/{space}/closures", None, MANAGE_SPACE),
    "manage.calendar": ("GET", "/manage/spaces/{space}/calendar", None, MANAGE_SPACE),
    "manage.delete_closure": ("POST", "/manage/spaces/{space}/closures/{closure}/delete", {},
                              MANAGE_SPACE),
    "manage.photos": ("GET", "/manage/spaces/{space}/photos", None, MANAGE_SPACE),
    "manage.photos#upload": ("POST", "/manage/spaces/{space}/photos", {"alt": "사진"},
                             MANAGE_SPACE),
    "manage.photo_alt": ("POST", "/manage/spaces/{space}/photos/{photo}/alt", {"alt": "새 설명"},
                         MANAGE_SPACE),
    "manage.photo_move": ("POST", "/manage/spaces/{space}/photos/{photo}/move", {"to": "down"},
                          MANAGE_SPACE),
    "manage.photo_cover": ("POST", "/manage/spaces/{space}/photos/{photo}/cover", {},
                           MANAGE_SPACE),
    "manage.photo_delete": ("POST", "/manage/spaces/{space}/photos/{photo}/delete", {},
                            MANAGE_SPACE),
    # Photo files are public to whoever has their (content-hash) address.
    "media.file": ("GET", "/media/{photo_file}", None, ALL_OK),
    "manage.approve": ("POST", "/manage/bookings/{booking}/approve", {}, MANAGE_DECIDE),
    "manage.reject": ("POST", "/manage/bookings/{booking}/reject", REASON, MANAGE_DECIDE),
    "manage.cancel": ("POST", "/manage/bookings/{booking}/cancel", REASON, MANAGE_DECIDE),
    "manage.attendance": ("POST", "/manage/bookings/{booking}/attendance", {"showed_up": "1"},
                          MANAGE_DECIDE),
    "manage.confirm_waiver": ("POST", "/manage/bookings/{booking}/waiver",
                              {"evidence_seen": "1"}, BOOKING_DECIDE),
    "accounts.verification": ("GET", "/account/verification", None, LOGGED_IN_OK),
    "accounts.verification#send": ("POST", "/account/verification",
                                   {"kind": "waiver", "category": "senior"}, LOGGED_IN_OK),
    "oversight.verifications": ("GET", "/oversight/verifications", None, CLAIM_QUEUE),
    "oversight.verification": ("GET", "/oversight/verifications/{claim}", None, CLAIM),
    "oversight.evidence": ("GET", "/oversight/verifications/{claim}/evidence", None, CLAIM),
    "oversight.decide": ("POST", "/oversight/verifications/{claim}/decide",
                         {"action": "verify"}, CLAIM),
    "oversight.index": ("GET", "/oversight/", None, OVERSIGHT),
    "oversight.bookings": ("GET", "/oversight/bookings", None, OVERSIGHT),
    "api.openapi": ("GET", "/api/v1/openapi.json", None, ALL_OK),
    "api.spaces": ("GET", "/api/v1/spaces", None, ALL_OK),
    "api.space": ("GET", "/api/v1/spaces/{space}", None, ALL_OK),
    "api.space#hidden": ("GET", "/api/v1/spaces/{hidden}", None, HIDDEN_SPACE),
    "api.availability": ("GET", "/api/v1/spaces/{space}/availability", None, ALL_OK),
    # The owner's API: as the manager's pages (an overseeing officer sees but may not change).
    "api.create_space": ("POST", "/api/v1/spaces", "new-space", CREATE_SPACE),
    "api.update_space": ("PATCH", "/api/v1/spaces/{space}", {"capacity": 25}, MANAGE_SPACE),
    "api.update_space#hidden": ("PATCH", "/api/v1/spaces/{hidden}", {"capacity": 25},
                                {**HIDDEN_SPACE, "anon": "login"}),
    "api.set_hours": ("PUT", "/api/v1/spaces/{space}/hours",
                      {"hours": [{"weekday": 0, "open": "09:00", "close": "18:00"}]},
                      MANAGE_SPACE),
    "api.add_closure": ("POST", "/api/v1/spaces/{space}/closures", API_CLOSURE, MANAGE_SPACE),
    "api.delete_closure": ("DELETE", "/api/v1/spaces/{space}/closures/{closure}", None,
                           MANAGE_SPACE),
    "api.add_photo": ("POST", "/api/v1/spaces/{space}/photos", "photo-upload", MANAGE_SPACE),
    "api.describe_photo": ("PATCH", "/api/v1/spaces/{space}/photos/{photo}", {"alt": "새 설명"},
                           MANAGE_SPACE),
    "api.delete_photo": ("DELETE", "/api/v1/spaces/{space}/photos/{photo}", None,
                         MANAGE_SPACE),
    # The manager is told the list must name every photo (422: the action is theirs).
    "api.order_photos": ("PUT", "/api/v1/spaces/{space}/photos/order", {"ids": []},
                         MANAGE_SPACE),
    "api.cover_photo": ("POST", "/api/v1/spaces/{space}/photos/{photo}/cover", {},
                        MANAGE_SPACE),
    "api.bookings": ("GET", "/api/v1/bookings", None, LOGGED_IN_OK),
    "api.booking": ("GET", "/api/v1/bookings/{booking}", None, BOOKING_VIEW),
    "api.create_booking": ("POST", "/api/v1/bookings", "new-booking", LOGGED_IN_OK),
    "api.approve": ("POST", "/api/v1/bookings/{booking}/approve", {}, BOOKING_DECIDE),
    "api.reject": ("POST", "/api/v1/bookings/{booking}/reject", REASON, BOOKING_DECIDE),
    "api.cancel": ("POST", "/api/v1/bookings/{booking}/cancel", REASON, BOOKING_CANCEL),
    "api.quote": ("POST", "/api/v1/spaces/{space}/quote", QUOTE, LOGGED_IN_OK),
    "api.quote#hidden": ("POST", "/api/v1/spaces/{hidden}/quote", QUOTE,
                         {**HIDDEN_SPACE, "anon": "login"}),
    "api.space_rules": ("GET", "/api/v1/spaces/{space}/rules", None, ALL_OK),
    "api.space_rules#hidden": ("GET", "/api/v1/spaces/{hidden}/rules", None, HIDDEN_SPACE),
    "api.return_booking": ("POST", "/api/v1/bookings/{booking}/return", REASON, BOOKING_DECIDE),
    "api.resubmit": ("POST", "/api/v1/bookings/{booking}/resubmit", {}, RESIDENT_ONLY),
    "api.approvals": ("GET", "/api/v1/approvals", None, APPROVER_LIST),
    "api.bulk_decide": ("POST", "/api/v1/approvals/bulk", {"action": "approve", "ids": [1]},
                        APPROVER_LIST),
    "api.rule_set": ("GET", "/api/v1/rule-sets/space/{space}", None, RULE_SET_API),
    "api.save_rule_set": ("POST", "/api/v1/rule-sets/space/{space}", RULE_SET_BODY,
                          RULE_SET_API),
    "api.lottery_draw": ("GET", "/api/v1/lottery/draws/{draw}", None, ALL_OK),
    "api.lottery_draw#hidden": ("GET", "/api/v1/lottery/draws/{hidden_draw}", None,
                                HIDDEN_SPACE),
    "payments.pay": ("POST", "/bookings/{booking}/pay", {}, RESIDENT_ONLY),
    "payments.pay#paid": ("POST", "/bookings/{paid_booking}/pay", {}, RESIDENT_ONLY),
    "payments.checkout_return": ("GET", "/bookings/{booking}/payment/return?session_id=cs_x",
                                 None, PAYMENT_PAGES),
    "payments.checkout_cancelled": ("GET", "/bookings/{booking}/payment/cancelled", None,
                                    PAYMENT_PAGES),
    "payments.receipt": ("GET", "/bookings/{booking}/receipt", None, NOTHING_PAID),
    "payments.receipt#paid": ("GET", "/bookings/{paid_booking}/receipt", None, BOOKING_VIEW),
    "payments.offline": ("POST", "/bookings/{booking}/payments/offline", OFFLINE_PAYMENT,
                         MANAGE_DECIDE),
    "payments.refund": ("POST", "/bookings/{paid_booking}/refunds", REFUND, MANAGE_DECIDE),
    "payments.handed_back": ("POST", "/refunds/{refund}/handed-back", {"reference": "이체 1"},
                             MANAGE_DECIDE),
    "payments.org_settings": ("GET", "/manage/organisations/{org}/payments", None, PAYOUTS),
    "payments.org_settings#post": ("POST", "/manage/organisations/{org}/payments",
                                   {"card_holds": "y"}, PAYOUTS),
    "payments.onboard": ("POST", "/manage/organisations/{org}/payments/onboard", {}, PAYOUTS),
    "payments.onboard_return": ("GET", "/manage/organisations/{org}/payments/return", None,
                                PAYOUTS),
    "payments.payouts": ("GET", "/manage/organisations/{org}/payouts", None, PAYOUTS),
    "payments.payouts#csv": ("GET", "/manage/organisations/{org}/payouts?format=csv", None,
                             PAYOUTS),
    "settlement.bank_account": ("GET", "/manage/organisations/{org}/bank-account", None,
                                PAYOUTS),
    "settlement.bank_account#post": ("POST", "/manage/organisations/{org}/bank-account",
                                     BANK_ACCOUNT, SETTLEMENT_EDIT),
    "settlement.verify": ("POST", "/manage/organisations/{org}/bank-account/verify",
                          {"verify-number": "123456789012"}, SETTLEMENT_OPERATE),
    "settlement.statements": ("GET", "/manage/organisations/{org}/statements", None, PAYOUTS),
    "settlement.statement": ("GET", "/manage/organisations/{org}/statements/{statement}", None,
                             PAYOUTS),
    "settlement.statement#csv": ("GET",
                                 "/manage/organisations/{org}/statements/{statement}?format=csv",
                                 None, PAYOUTS),
    "settlement.paid": ("POST", "/admin/settlements/{statement}/paid",
                        {"reference": "IBK-1", "paid_on": "2026-12-02"}, SETTLEMENT_OPERATE),
    "settlement.desk": ("GET", "/admin/settlements", None, SETTLEMENT_DESK),
    "settlement.issue": ("POST", "/admin/settlements/issue", {"month": "2020-01"},
                         SETTLEMENT_DESK),
    "settlement.transfers": ("GET", "/admin/settlements/transfers.csv", None, SETTLEMENT_DESK),
    "settlement.transfers#xlsx": ("GET", "/admin/settlements/transfers.xlsx", None,
                                  SETTLEMENT_DESK),
    # Stripe's webhooks: public, but only signed events count (this unsigned post gets 400).
    "stripe_webhook.receive": ("POST", "/stripe/webhook", {}, ALL_OK),
    "stripe_webhook.receive_connect": ("POST", "/stripe/webhook/connect", {}, ALL_OK),
    "api.checkout": ("POST", "/api/v1/bookings/{booking}/checkout", {}, RESIDENT_ONLY),
    "api.checkout#paid": ("POST", "/api/v1/bookings/{paid_booking}/checkout", {},
                          RESIDENT_ONLY),
    "api.record_payment": ("POST", "/api/v1/bookings/{booking}/payments", API_OFFLINE_PAYMENT,
                           BOOKING_DECIDE),
    "api.refund": ("POST", "/api/v1/bookings/{paid_booking}/refunds", API_REFUND,
                   BOOKING_DECIDE),
    "api.payouts": ("GET", "/api/v1/organisations/{org}/payouts", None, PAYOUTS),
    "calendars.booking_file": ("GET", "/bookings/{booking}/calendar.ics", None, BOOKING_VIEW),
    "calendars.space_busy": ("GET", "/spaces/{space}/busy.ics", None, ALL_OK),
    # Only published spaces have a public feed, whoever asks.
    "calendars.space_busy#hidden": ("GET", "/spaces/{hidden}/busy.ics", None,
                                    {role: "404" for role in ROLES}),
    # The token is the key: an unknown one is not found, logged in or not.
    "calendars.feed": ("GET", "/calendars/not-a-token.ics", None,
                       {role: "404" for role in ROLES}),
    "calendars.settings": ("GET", "/account/calendars", None, LOGGED_IN_OK),
    "calendars.settings#post": ("POST", "/account/calendars", {"action": "create"},
                                LOGGED_IN_OK),
    "bookings.series": ("GET", "/bookings/series/{series}", None, BOOKING_VIEW),
    "bookings.decide_series": ("POST", "/bookings/series/{series}/decide",
                               {"action": "approve"}, BOOKING_DECIDE),
    "bookings.cancel_from": ("POST", "/bookings/{booking}/cancel-from", {"reason": "사정"},
                             BOOKING_CANCEL),
    # Month views: a space's month answers like its page; a resident's own calendar needs a login.
    "calendars.space_month": ("GET", "/spaces/{space}/month?month=2030-01", None, ALL_OK),
    "calendars.space_month#hidden": ("GET", "/spaces/{hidden}/month", None, HIDDEN_SPACE),
    "calendars.my_calendar": ("GET", "/bookings/calendar?month=2030-01", None, LOGGED_IN_OK),
    "calendars.my_calendar#week": ("GET", "/bookings/calendar?view=week&week=2030-01-07", None,
                                   LOGGED_IN_OK),
    # External calendars imported as closures: a space's for its managers (the POST without a
    # file or address is a 422 form error), an organisation's for its members and admins. The
    # world has no external calendar: an unknown one is not found for anyone logged in (the
    # owners' access is tested in tests/calendars/test_import_pages.py).
    "calendars.space_calendars": ("GET", "/manage/spaces/{space}/calendars", None,
                                  MANAGE_SPACE),
    "calendars.space_calendars#post": ("POST", "/manage/spaces/{space}/calendars",
                                       {"name": "학사일정"}, MANAGE_SPACE),
    "calendars.org_calendars": ("GET", "/manage/organisations/{org}/calendars", None,
                                {**{role: "404" for role in ROLES}, "anon": "login",
                                 "manager": "ok", "admin": "ok"}),
    "calendars.org_calendars#post": ("POST", "/manage/organisations/{org}/calendars",
                                     {"name": "학사일정"},
                                     {**{role: "404" for role in ROLES}, "anon": "login",
                                      "manager": "ok", "admin": "ok"}),
    "notifications.inbox": ("GET", "/notifications", None, LOGGED_IN_OK),
    "notifications.inbox#unread": ("GET", "/notifications?show=unread", None, LOGGED_IN_OK),
    "notifications.open_notification": ("GET", "/notifications/{note}/open", None, OWN_NOTE),
    "notifications.mark_read": ("POST", "/notifications/{note}/read", {}, OWN_NOTE),
    "notifications.mark_all_read": ("POST", "/notifications/read-all", {}, LOGGED_IN_OK),
    "notifications.preferences": ("GET", "/account/notifications", None, LOGGED_IN_OK),
    "notifications.preferences#post": ("POST", "/account/notifications",
                                       {"kind-booking_received": "in_app"}, LOGGED_IN_OK),
    "notifications.dev_mail": ("GET", "/dev/mail", None, LOGGED_IN_OK),
    "notifications.dev_mail_message": ("GET", "/dev/mail/{resident_mail}", None, OWN_MAIL),
    "notifications.dev_mail_html": ("GET", "/dev/mail/{resident_mail}/html", None, OWN_MAIL),
    "notifications.outbox": ("GET", "/admin/outbox", None, ADMIN_ONLY),
    "notifications.retry": ("POST", "/admin/outbox/{resident_mail}/retry", {}, ADMIN_ONLY),
    "api.my_data": ("GET", "/api/v1/me/export", None, LOGGED_IN_OK),
    "api.notifications": ("GET", "/api/v1/notifications?unread=true", None, LOGGED_IN_OK),
    "api.read_notifications": ("POST", "/api/v1/notifications/read", {"all": True},
                               LOGGED_IN_OK),
    "api.notification_preferences": ("GET", "/api/v1/notifications/preferences", None,
                                     LOGGED_IN_OK),
    "api.save_notification_preferences": ("PUT", "/api/v1/notifications/preferences",
                                          {"reminder_hours": 2}, LOGGED_IN_OK),
    "stats.dashboard": ("GET", "/stats/", None, STATS),
    "stats.dashboard#drill": ("GET", "/stats/?space={space}&from=2030-01-01&to=2030-01-31", None,
                              STATS),
    "stats.dashboard#tab": ("GET", "/stats/?tab=money&space={space}&from=2030-01-01", None,
                            STATS),
    "stats_exports.open_data#month": ("GET", "/stats/open-data?month=2025-10", None, ALL_OK),
    # Downloads: the dashboard's scope; an unknown table or a month that cannot be is 404.
    "stats_exports.export_csv": ("GET", "/stats/export/by_space.csv", None, STATS),
    "stats_exports.export_csv#unknown": ("GET", "/stats/export/nothing.csv", None,
                                         STATS_NOT_FOUND),
    "stats_exports.export_xlsx": ("GET", "/stats/export/by_district.xlsx", None, STATS),
    "stats_exports.export_all": ("GET", "/stats/export/all.xlsx?from=2030-01-01", None, STATS),
    # Open data is public: anyone, logged in or not.
    "stats_exports.open_data": ("GET", "/stats/open-data", None, ALL_OK),
    "stats_exports.open_data_csv": ("GET", "/stats/open-data/2025-10.csv", None, ALL_OK),
    "stats_exports.open_data_xlsx": ("GET", "/stats/open-data/2025-10.xlsx", None, ALL_OK),
    "stats_exports.open_data_xlsx#bad": ("GET", "/stats/open-data/1999-01.xlsx", None,
                                         {role: "404" for role in ALL_OK}),
    # The admin console: platform administrators only.
    "admin.index": ("GET", "/admin/", None, ADMIN_ONLY),
    "admin.users": ("GET", "/admin/users?q=example", None, ADMIN_ONLY),
    "admin.user": ("GET", "/admin/users/{resident_id}", None, ADMIN_ONLY),
    "admin.set_admin": ("POST", "/admin/users/{resident_id}/admin", {"value": "1"}, ADMIN_ONLY),
    # Without a jurisdiction chosen the admin gets a message (granting: tests/admin/).
    "admin.grant_officer": ("POST", "/admin/users/{resident_id}/officer", {}, ADMIN_ONLY),
    "admin.revoke_officer": ("POST", "/admin/users/{resident_id}/officer/{gangbuk}/revoke", {},
                             ADMIN_ONLY),
    "admin.deactivate": ("POST", "/admin/users/{resident_id}/deactivate", {}, ADMIN_ONLY),
    "admin.reactivate": ("POST", "/admin/users/{resident_id}/reactivate", {}, ADMIN_ONLY),
    "admin.jurisdictions": ("GET", "/admin/jurisdictions", None, ADMIN_ONLY),
    "admin.add_jurisdiction": ("POST", "/admin/jurisdictions",
                               {"name": "노원구", "slug": "nowon", "kind": "district"},
                               ADMIN_ONLY),
    "admin.rename_jurisdiction": ("POST", "/admin/jurisdictions/{gangbuk}/rename",
                                  {"name": "강북구청"}, ADMIN_ONLY),
    "admin.move_jurisdiction": ("POST", "/admin/jurisdictions/{gangbuk}/move",
                                {"parent_id": ""}, ADMIN_ONLY),
    "admin.audit": ("GET", "/admin/audit?kind=admin_granted", None, ADMIN_ONLY),
    "calendars.sync_calendar": ("POST", "/manage/external-calendars/0/sync", {},
                                {**{role: "404" for role in ROLES}, "anon": "login"}),
    "calendars.delete_calendar": ("POST", "/manage/external-calendars/0/delete", {},
                                  {**{role: "404" for role in ROLES}, "anon": "login"}),
}

# Organisations. The application (the stranger's, in the officer's district) is seen by its
# applicant and its reviewers; the owner (no jurisdiction) by its team and the administrators.
APPLICATION_VIEW = {**{role: "404" for role in ROLES}, "anon": "login", "stranger": "ok",
                    "officer": "ok", "admin": "ok"}
APPLICATION_REVIEW = {**APPLICATION_VIEW, "stranger": "403"}
APPLICATION_EDIT = {**APPLICATION_VIEW, "stranger": "403", "officer": "403", "admin": "403"}
ORG_REVIEWERS = {**{role: "403" for role in ROLES}, "anon": "login", "officer": "ok",
                 "other_officer": "ok", "admin": "ok"}
TEAM_VIEW = {**{role: "404" for role in ROLES}, "anon": "login", "manager": "ok", "admin": "ok"}
TEAM_CHANGE = {**TEAM_VIEW, "admin": "403"}
MATRIX.update({
    "orgs.index": ("GET", "/organisations/", None, LOGGED_IN_OK),
    "orgs.apply": ("GET", "/organisations/apply", None, LOGGED_IN_OK),
    "orgs.apply#post": ("POST", "/organisations/apply", {}, LOGGED_IN_OK),
    "orgs.application": ("GET", "/organisations/{application}", None, APPLICATION_VIEW),
    "orgs.application#owner": ("GET", "/organisations/{org}", None, TEAM_VIEW),
    "orgs.resubmit": ("POST", "/organisations/{application}", {}, APPLICATION_EDIT),
    "orgs.evidence": ("GET", "/organisations/{application}/evidence", None, APPLICATION_REVIEW),
    "orgs.decide": ("POST", "/organisations/{application}/decide", {}, APPLICATION_REVIEW),
    "orgs.review": ("GET", "/organisations/review", None, ORG_REVIEWERS),
    "orgs.team_page": ("GET", "/organisations/{org}/team", None, TEAM_VIEW),
    "orgs.invite": ("POST", "/organisations/{org}/team/invite", {}, TEAM_CHANGE),
    "orgs.change_role": ("POST", "/organisations/{org}/team/{manager_id}/role",
                         {"role": "manager"}, TEAM_CHANGE),
    # The manager is the only one: removing themselves is refused with a message.
    "orgs.remove_member": ("POST", "/organisations/{org}/team/{manager_id}/remove", {},
                           TEAM_CHANGE),
    "orgs.leave": ("POST", "/organisations/{org}/team/leave", {}, TEAM_CHANGE),
    "orgs.cancel_invitation": ("POST",
                               "/organisations/{org}/invitations/{org_invitation}/cancel", {},
                               TEAM_CHANGE),
    # The link is the key: whoever holds it sees the invitation (visitors are asked to log in).
    "orgs.invitation": ("GET", "/organisations/invitations/matrix-token", None, ALL_OK),
    "orgs.invitation#unknown": ("GET", "/organisations/invitations/not-a-token", None,
                                {role: "404" for role in ROLES}),
    "admin.organisations": ("GET", "/admin/organisations?status=pending", None, ADMIN_ONLY),
    "admin.approve_organisation": ("POST", "/admin/organisations/{application}/approve", {},
                                   ADMIN_ONLY),
    "admin.suspend_organisation": ("POST", "/admin/organisations/{org}/suspend", {},
                                   ADMIN_ONLY),
    "admin.reinstate_organisation": ("POST", "/admin/organisations/{org}/reinstate", {},
                                     ADMIN_ONLY),
    "api.apply_organisation": ("POST", "/api/v1/organisations", {}, LOGGED_IN_OK),
    "api.organisation": ("GET", "/api/v1/organisations/{application}", None, APPLICATION_VIEW),
    "api.approve_organisation": ("POST", "/api/v1/organisations/{application}/approve", {},
                                 APPLICATION_REVIEW),
    "api.reject_organisation": ("POST", "/api/v1/organisations/{application}/reject", REASON,
                                APPLICATION_REVIEW),
    "api.invite_to_organisation": ("POST", "/api/v1/organisations/{org}/invitations",
                                   {"email": "x@example.kr", "role": "staff"}, TEAM_CHANGE),
    "api.accept_invitation": ("POST", "/api/v1/invitations/accept", {"token": "nope"},
                              LOGGED_IN_OK),
})


def test_every_route_is_in_the_matrix(app):
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    covered = {key.split("#")[0] for key in MATRIX}
    assert endpoints - covered == set(), "decide who may use these routes"
    assert covered - endpoints == set(), "the matrix names routes that no longer exist"


# Routes answered only where online payment is set up; the key is never used by these cases.
STRIPE_ON = {"STRIPE_SECRET_KEY": "sk_test_matrix", "STRIPE_WEBHOOK_SECRET": "whsec_test",
             "STRIPE_CONNECT_WEBHOOK_SECRET": "whsec_test_connect"}
NEEDS_STRIPE = {"stripe_webhook.receive", "stripe_webhook.receive_connect"}


def test_the_stripe_webhook_refuses_unsigned_posts(app, client, login, factories, monkeypatch):
    """Public, so the matrix only shows it is not behind a login: an unsigned post is 400."""
    for name, value in STRIPE_ON.items():
        monkeypatch.setitem(app.config, name, value)
    for url in ("/stripe/webhook", "/stripe/webhook/connect"):
        assert client.post(url, json={"type": "x"}).status_code == 400
    login(factories.user())
    for url in ("/stripe/webhook", "/stripe/webhook/connect"):
        assert client.post(url, json={"type": "x"}).status_code == 400


def _outcome(response, api: bool) -> str:
    status = response.status_code
    if status == 401 or (status == 302 and "/login" in response.headers.get("Location", "")):
        return "login"
    if status in (403, 404):
        return str(status)
    # Anything else is the action being allowed: it worked, redirected onwards, or answered
    # with a validation message or a conflict about the booking itself.
    assert status < 500, response.get_data(as_text=True)[:300]
    return "ok"


CASES = [(key, role) for key in MATRIX for role in ROLES]


@pytest.mark.parametrize(("key", "role"), CASES, ids=[f"{k}-{r}" for k, r in CASES])
def test_route_access(app, world, api_token, monkeypatch, key, role):
    method, template, data, expected = MATRIX[key]
    if key.split("#")[0] in NEEDS_STRIPE:
        for name, value in STRIPE_ON.items():
            monkeypatch.setitem(app.config, name, value)
    url = template.format(**{k: v for k, v in world.items() if isinstance(v, int | str)})
    api = url.startswith("/api/")
    client = app.test_client()  # a fresh cookie jar per role
    headers = {}
    if role != "anon":
        user = world["users"][role]
        if api:
            headers = api_token(user)
        else:
            response = client.post("/login", data={"email": user.email,
                                                   "password": "password123"})
            assert response.status_code == 302
    if data == "new-booking":
        start = world["start"] + timedelta(days=7)
        data = {"space_id": world["space"], "start": start.isoformat(),
                "end": (start + timedelta(hours=1)).isoformat(), "purpose": "회의"}
    if data == "new-space":
        data = {"organisation_id": world["org"], "name": "새 공간", "type": "gym", "capacity": 10}
    if data == "photo-upload":
        response = client.post(url, headers=headers, content_type="multipart/form-data",
                               data={"file": (io.BytesIO(picture()), "p.jpg"), "alt": "사진"})
    elif method == "GET":
        response = client.get(url, headers=headers)
    elif api:
        response = client.open(url, method=method, json=data, headers=headers)
    else:
        response = client.post(url, data=data, headers=headers)
    assert _outcome(response, api) == expected[role], (
        f"{method} {url} as {role}: {response.status_code} "
        f"{response.headers.get('Location', '')}"
    )
