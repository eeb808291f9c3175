"""Residents send residency and fee-waiver claims with evidence; the officers of the district
verify or reject them in their queue. Evidence is checked by content, seen only by those
officers and deleted once decided; every decision is audited and the person is told."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import select

from app.accounts import services as account_services
from app.accounts import verification as claims
from app.accounts.verification_models import Verification, VerificationKind, VerificationState
from app.extensions import db
from app.notifications.models import EmailDelivery, Notification
from app.rules.schema import WAIVER_CATEGORIES
from app.security.models import SecurityEvent
from tests.verification import pdf_bytes, png_bytes, town

pytestmark = pytest.mark.usefixtures("english", "media")


def send(client, data: bytes | None, kind="residency", category="", name="scan.png"):
    form = {"kind": kind, "category": category}
    if data is not None:
        form["evidence"] = (io.BytesIO(data), name)
    return client.post("/account/verification", data=form,
                       content_type="multipart/form-data")


def only_claim() -> Verification:
    return db.session.scalars(select(Verification)).one()


def test_a_picture_is_re_encoded_and_kept_privately(factories, login, client, media):
    t = town(factories)
    person = t.person()
    db.session.commit()
    login(person)
    response = send(client, png_bytes())
    assert response.status_code == 302
    claim = only_claim()
    assert (claim.kind, claim.state, claim.jurisdiction_id) == (
        VerificationKind.RESIDENCY, VerificationState.PENDING, t.gangbuk.id)
    assert claim.evidence_key.startswith("evidence/") and claim.evidence_key.endswith(".jpg")
    stored = b"".join(media.get(claim.evidence_key).chunks)
    assert stored.startswith(b"\xff\xd8") and stored != png_bytes()
    # Never reachable through the public media route.
    assert client.get(f"/media/{claim.evidence_key}").status_code == 404
    page = client.get("/account/verification").get_data(as_text=True)
    assert "Waiting for an officer" in page


def test_a_pdf_is_parsed_and_written_anew(factories, login, client, media):
    t = town(factories)
    person = t.person()
    db.session.commit()
    login(person)
    assert send(client, pdf_bytes(), name="등본.pdf").status_code == 302
    claim = only_claim()
    assert claim.evidence_key.endswith(".pdf")
    assert b"".join(media.get(claim.evidence_key).chunks).startswith(b"%PDF-")


@pytest.mark.parametrize(("data", "message"), [
    (b"%PDF-1.7 this is not really a pdf", "not a PDF, JPEG or PNG we can read"),
    (b"hello, I am a text file", "not a PDF, JPEG or PNG we can read"),
    (b"\x89PNG" + b"0" * (10 * 1024 * 1024), "larger than 10 MB"),
])
def test_a_file_that_is_not_evidence_is_refused_and_nothing_is_kept(
    factories, login, client, media, data, message
):
    t = town(factories)
    person = t.person()
    db.session.commit()
    login(person)
    response = send(client, data, name="scan.pdf")
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert db.session.scalars(select(Verification)).all() == []


def test_without_a_home_district_there_is_nothing_to_verify(factories, login, client):
    person = factories.user(locale="en")
    db.session.commit()
    login(person)
    response = send(client, None)
    assert response.status_code == 422
    assert "Choose your home district on your profile first." in response.get_data(as_text=True)


def _claim(t, person, media, kind=VerificationKind.RESIDENCY, category=None):
    row = claims.submit(person, kind, category=category, data=png_bytes(),
                        categories=WAIVER_CATEGORIES)
    db.session.commit()
    assert media.get(row.evidence_key) is not None
    return row


def test_the_officer_of_the_district_verifies_and_the_evidence_goes(
    factories, login, client, media
):
    t = town(factories)
    person = t.person("홍길동")
    claim = _claim(t, person, media)
    key = claim.evidence_key
    login(t.officer)
    queue = client.get("/oversight/verifications").get_data(as_text=True)
    assert "홍길동" in queue
    evidence = client.get(f"/oversight/verifications/{claim.id}/evidence")
    assert evidence.status_code == 200
    assert evidence.headers["Cache-Control"] == "private, no-store"
    assert evidence.data.startswith(b"\xff\xd8")
    response = client.post(f"/oversight/verifications/{claim.id}/decide",
                           data={"action": "verify"})
    assert response.status_code == 302
    db.session.expire_all()
    claim = db.session.get(Verification, claim.id)
    assert claim.state == VerificationState.VERIFIED and claim.decided_by_id == t.officer.id
    assert claim.evidence_key is None and media.get(key) is None
    assert claim.user.verified_home_district_id == t.gangbuk.id
    event = db.session.scalars(select(SecurityEvent)
                               .where(SecurityEvent.kind == "residency_verified")).one()
    assert event.user_id == t.officer.id and event.detail["target_id"] == person.id
    note = db.session.scalars(select(Notification).where(
        Notification.user_id == person.id, Notification.kind == "verification_decided")).one()
    assert note.params["verified"] is True
    assert db.session.scalars(select(EmailDelivery)
                              .where(EmailDelivery.notification_id == note.id)).one()
    assert f'data-claim="{claim.id}"' not in client.get("/oversight/verifications").get_data(
        as_text=True)


def test_a_rejection_needs_a_reason_and_is_told_with_it(factories, login, client, media):
    t = town(factories)
    person = t.person()
    claim = _claim(t, person, media, VerificationKind.WAIVER, "senior")
    key = claim.evidence_key
    login(t.seoul_officer)  # an officer of the city above the district decides too
    client.post(f"/oversight/verifications/{claim.id}/decide", data={"action": "reject"})
    db.session.expire_all()
    claim = db.session.get(Verification, claim.id)
    assert claim.state == VerificationState.PENDING and media.get(key) is not None
    client.post(f"/oversight/verifications/{claim.id}/decide",
                data={"action": "reject", "reason": "기초연금 수급 확인이 안 됩니다."})
    db.session.expire_all()
    claim = db.session.get(Verification, claim.id)
    assert claim.state == VerificationState.REJECTED and claim.evidence_key is None
    assert media.get(key) is None
    assert claims.verified_waivers(person) == frozenset()
    note = db.session.scalars(select(Notification).where(
        Notification.user_id == person.id, Notification.kind == "verification_decided")).one()
    assert (note.params["verified"], note.params["reason"]) == (
        False, "기초연금 수급 확인이 안 됩니다.")
    assert db.session.scalars(select(SecurityEvent)
                              .where(SecurityEvent.kind == "waiver_rejected")).one()


def test_a_verified_waiver_is_on_the_profile(factories, media):
    t = town(factories)
    person = t.person()
    claim = _claim(t, person, media, VerificationKind.WAIVER, "senior")
    claims.decide(claim, t.officer, verify=True)
    assert claims.verified_waivers(person) == {"senior"}
    assert person.verified_home_district_id is None  # a waiver says nothing about residency


def test_officers_of_other_districts_and_admins_never_see_a_claim(
    factories, login, client, media
):
    t = town(factories)
    person = t.person("홍길동")
    claim = _claim(t, person, media)
    admin = factories.user(is_admin=True, locale="en")
    db.session.commit()
    for who, queue_status in ((t.other_officer, 200), (admin, 403), (t.manager, 403)):
        c = client.application.test_client()
        c.post("/login", data={"email": who.email, "password": "password123"})
        queue = c.get("/oversight/verifications")
        assert queue.status_code == queue_status
        assert "홍길동" not in queue.get_data(as_text=True)
        for url in (f"/oversight/verifications/{claim.id}",
                    f"/oversight/verifications/{claim.id}/evidence"):
            assert c.get(url).status_code == 404
        assert c.post(f"/oversight/verifications/{claim.id}/decide",
                      data={"action": "verify"}).status_code == 404
    db.session.expire_all()
    assert db.session.get(Verification, claim.id).state == VerificationState.PENDING


def test_an_officer_does_not_verify_their_own_claim(factories, login, client, media):
    t = town(factories)
    t.officer.home_district_id = t.gangbuk.id
    claim = _claim(t, t.officer, media)
    login(t.officer)
    assert client.get(f"/oversight/verifications/{claim.id}").status_code == 404
    assert f'data-claim="{claim.id}"' not in client.get("/oversight/verifications").get_data(
        as_text=True)


def test_moving_house_withdraws_the_pending_claim_and_deletes_its_evidence(factories, media):
    t = town(factories)
    person = t.person()
    claim = _claim(t, person, media)
    key = claim.evidence_key
    account_services.update_profile(person, name=person.name, locale="en",
                                    home_district=t.dobong)
    assert claim.state == VerificationState.WITHDRAWN and claim.evidence_key is None
    assert media.get(key) is None


def test_deleting_the_account_withdraws_its_claims_and_deletes_the_evidence(factories, media):
    from app.privacy import erasure

    t = town(factories)
    person = t.person()
    claim = _claim(t, person, media)
    key = claim.evidence_key
    erasure.erase(person, how=erasure.BY_OWNER)
    db.session.commit()
    assert claim.state == VerificationState.WITHDRAWN and claim.evidence_key is None
    assert media.get(key) is None
    assert db.session.scalars(claims.pending_for(t.officer)).all() == []


def test_the_queue_runs_the_same_queries_for_2_and_12_claims(
    factories, login, client, media, queries_of_get
):
    t = town(factories)
    login(t.officer)
    counts = []
    for n in (2, 10):
        for i in range(n):
            person = t.person(f"주민{i}")
            claims.submit(person, VerificationKind.RESIDENCY)
        db.session.commit()
        counts.append(queries_of_get("/oversight/verifications"))
    assert counts[0] == counts[1]
    assert counts[0] <= 8


def test_the_officers_of_the_district_are_told_of_a_new_claim(factories, login, client, media):
    from app.notifications.models import NotificationPreference

    t = town(factories)
    person = t.person("홍길동")
    # The Seoul officer oversees 강북구 too, but wants this kind in the inbox only.
    db.session.add(NotificationPreference(user_id=t.seoul_officer.id,
                                          kind="verification_received", channel="in_app"))
    db.session.commit()
    login(person)
    assert send(client, png_bytes(), kind="waiver", category="senior").status_code == 302
    db.session.expire_all()
    notes = {n.user_id: n for n in db.session.scalars(select(Notification).where(
        Notification.kind == "verification_received"))}
    # Those who may decide it (the district's officer and the city's above it), nobody else:
    # not the other district's officer, not the manager, not the claimant.
    assert set(notes) == {t.officer.id, t.seoul_officer.id}
    assert notes[t.officer.id].params == {"kind": "waiver", "category": "senior",
                                          "district": "강북구"}
    emails = db.session.scalars(select(EmailDelivery).where(
        EmailDelivery.notification_id.in_([n.id for n in notes.values()]))).all()
    assert [e.user_id for e in emails] == [t.officer.id]
    assert "Fee-waiver claim to check" in emails[0].subject
    assert "/oversight/verifications" in emails[0].body_text
    # The link opens the queue, where the claim waits.
    login(t.officer)
    assert "홍길동" in client.get("/oversight/verifications").get_data(as_text=True)


def test_an_officer_claiming_in_their_own_district_is_not_told(factories, login, client, media):
    t = town(factories)
    t.officer.home_district_id = t.gangbuk.id
    db.session.commit()
    login(t.officer)
    assert send(client, png_bytes()).status_code == 302
    told = set(db.session.scalars(select(Notification.user_id).where(
        Notification.kind == "verification_received")))
    assert told == {t.seoul_officer.id}
