"""The application services: applying, review, suspension; what each step tells whom and what
the audit trail keeps."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from app.bookings import search as space_search
from app.bookings import services as booking_services
from app.errors import NotAllowed, ValidationFailed
from app.media.storage import valid_key, valid_private_key
from app.notifications.models import EmailDelivery, Notification
from app.orgs import applications
from app.orgs.models import OrgMembership
from app.orgs.states import OrgStatus
from app.security.models import ORG_APPLIED, ORG_APPROVED, ORG_REJECTED, SecurityEvent
from app.spaces import services as space_services
from tests.conftest import next_weekday
from tests.orgs.conftest import COMPANY, pdf_bytes, png_bytes

pytestmark = pytest.mark.usefixtures("request_ctx")


def _apply(place, **changes):
    return applications.apply(place["applicant"], {**COMPANY, **changes}, evidence=pdf_bytes(),
                              filename="사업자등록증.pdf")


def _kinds(user) -> list[str]:
    from app.extensions import db

    return list(db.session.scalars(
        select(Notification.kind).where(Notification.user_id == user.id)))


def test_an_application_is_pending_geocoded_and_under_its_district(place, geocoder, db):
    org = _apply(place)
    db.session.commit()
    assert org.status == OrgStatus.PENDING
    assert (org.latitude, org.longitude) == pytest.approx((37.6397, 127.0256))
    assert [j.slug for j in org.jurisdictions] == ["gangbuk"]
    assert org.registration_number == "1248100998"
    assert valid_private_key(org.evidence_key) and not valid_key(org.evidence_key)
    assert org.evidence_type == "application/pdf"
    # Its reviewers hear of it: the district's officer and the administrator, not the others.
    assert "org_application_received" in _kinds(place["officer"])
    assert "org_application_received" in _kinds(place["admin"])
    assert "org_application_received" not in _kinds(place["other_officer"])
    assert db.session.scalar(select(SecurityEvent.kind).where(SecurityEvent.kind == ORG_APPLIED))


def test_a_school_falls_under_its_education_office_too(place, db):
    org = _apply(place, kind="school", registration_number="")
    assert {j.slug for j in org.jurisdictions} == {"gangbuk", "seoul-edu"}
    assert org.registration_number is None


def test_the_applicant_corrects_the_jurisdictions(place, db):
    org = _apply(place, jurisdiction_ids=[place["jongno"].id])
    assert [j.slug for j in org.jurisdictions] == ["jongno"]


@pytest.mark.parametrize(("changes", "field"), [
    ({"registration_number": "124-81-00997"}, "registration_number"),
    ({"registration_number": ""}, "registration_number"),
    ({"contact_email": "not-an-address"}, "contact_email"),
    ({"kind": "spaceship"}, "kind"),
    ({"name": ""}, "name"),
    ({"address": "달나라 1번지"}, "jurisdiction_ids"),
])
def test_bad_fields_are_named_and_nothing_is_made(place, db, changes, field):
    with pytest.raises(ValidationFailed) as caught:
        _apply(place, **changes)
    assert field in caught.value.errors
    db.session.rollback()
    from app.orgs.models import Organisation
    assert db.session.scalar(select(Organisation.id)) is None


@pytest.mark.parametrize("data", [b"", b"%PDF-1.4 broken", b"GIF89a......", b"x" * 100])
def test_evidence_is_judged_by_its_content(place, db, data):
    with pytest.raises(ValidationFailed) as caught:
        applications.apply(place["applicant"], COMPANY, evidence=data, filename="a.pdf")
    assert "evidence" in caught.value.errors


def test_a_document_over_ten_megabytes_is_refused(place, db):
    with pytest.raises(ValidationFailed) as caught:
        applications.apply(place["applicant"], COMPANY,
                           evidence=b"%PDF-1.4\n" + b"0" * (10 * 1024 * 1024), filename="big.pdf")
    assert "10 MB" in caught.value.errors["evidence"][0] or "10MB" in \
        caught.value.errors["evidence"][0]


def test_a_picture_is_re_encoded(place, db):
    org = applications.apply(place["applicant"], COMPANY, evidence=png_bytes(),
                             filename="scan.png")
    assert org.evidence_type == "image/png" and org.evidence_key.endswith(".png")


def test_a_pdf_is_written_anew_without_its_scripts_and_metadata(place, db, media):
    import io

    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    writer.add_js("app.alert('hello');")
    writer.add_metadata({"/Author": "secret-author"})
    sent = io.BytesIO()
    writer.write(sent)
    org = applications.apply(place["applicant"], COMPANY, evidence=sent.getvalue(),
                             filename="사업자등록증.pdf")
    stored = b"".join(media.get(org.evidence_key).chunks)
    assert org.evidence_type == "application/pdf" and stored.startswith(b"%PDF-")
    assert b"JavaScript" not in stored and b"secret-author" not in stored


def test_approval_makes_the_applicant_its_manager(place, db):
    org = _apply(place)
    with pytest.raises(NotAllowed):
        applications.decide(org, place["other_officer"], "approve")
    with pytest.raises(NotAllowed):
        applications.decide(org, place["applicant"], "approve")
    applications.decide(org, place["officer"], "approve")
    db.session.commit()
    assert org.status == OrgStatus.ACTIVE
    member = db.session.scalar(select(OrgMembership).where(OrgMembership.organisation_id == org.id))
    assert (member.user_id, member.role) == (place["applicant"].id, "manager")
    assert "org_application_decided" in _kinds(place["applicant"])
    approver = select(SecurityEvent.user_id).where(SecurityEvent.kind == ORG_APPROVED)
    assert db.session.scalar(approver) == place["officer"].id
    with pytest.raises(ValidationFailed):
        applications.decide(org, place["admin"], "reject", "두 번째 결정")


def test_an_officer_cannot_approve_their_own_application(place, db):
    org = applications.apply(place["officer"], {**COMPANY}, evidence=pdf_bytes(),
                             filename="사업자등록증.pdf")
    db.session.commit()
    assert org.can_review(place["officer"])  # it falls under their own district
    with pytest.raises(NotAllowed):
        applications.decide(org, place["officer"], "approve")
    assert org.status == OrgStatus.PENDING
    assert not db.session.scalar(select(OrgMembership.id))
    applications.decide(org, place["admin"], "approve")
    assert org.status == OrgStatus.ACTIVE


def test_rejection_needs_a_reason_and_is_audited(place, db):
    org = _apply(place)
    with pytest.raises(ValidationFailed) as caught:
        applications.decide(org, place["admin"], "reject", "")
    assert "reason" in caught.value.errors
    applications.decide(org, place["admin"], "reject", "증빙 서류의 상호가 다릅니다.")
    db.session.commit()
    assert org.status == OrgStatus.REJECTED and org.review_note == "증빙 서류의 상호가 다릅니다."
    event = db.session.scalar(select(SecurityEvent).where(SecurityEvent.kind == ORG_REJECTED))
    assert event.detail["reason"] == "증빙 서류의 상호가 다릅니다."
    assert not db.session.scalar(select(OrgMembership.id))


def test_asking_for_more_then_resubmitting(place, db):
    org = _apply(place)
    with pytest.raises(NotAllowed):
        applications.resubmit(org, place["applicant"], COMPANY)  # not asked yet
    applications.decide(org, place["officer"], "request_info", "대표자 이름을 확인해 주세요.")
    assert org.status == OrgStatus.INFO_REQUESTED
    with pytest.raises(NotAllowed):
        applications.resubmit(org, place["stranger"], COMPANY)
    applications.resubmit(org, place["applicant"], {**COMPANY, "representative": "박대표"})
    db.session.commit()
    assert org.status == OrgStatus.PENDING and org.representative == "박대표"
    assert org.evidence_key  # the first document stays


def test_suspension_hides_spaces_refuses_requests_and_tells_residents(place, factories, db):
    org = _apply(place)
    applications.decide(org, place["admin"], "approve")
    manager = place["applicant"]
    manager.__dict__.pop("org_roles", None)
    space = space_services.create_space(manager, org, name="옥상정원", type="rooftop",
                                        capacity=30, published=True,
                                        jurisdiction_ids=[place["gangbuk"].id])
    space_services.set_opening_hours(space, manager, [(d, 9 * 60, 22 * 60) for d in range(7)])
    space_id = space.id
    start = next_weekday(2, 10)
    resident = factories.user(email="resident@example.kr")
    booking = factories.booking(space, resident, start=start, end=start + timedelta(hours=2))
    db.session.commit()
    assert space_id in _found()

    with pytest.raises(NotAllowed):
        applications.suspend(org, place["officer"])
    applications.suspend(org, place["admin"], "민원 조사 중")
    db.session.commit()
    assert space_id not in _found()
    assert "owner_suspended" in _kinds(resident)
    assert "org_suspended" in _kinds(manager)
    with pytest.raises(NotAllowed) as caught:
        booking_services.create_booking(space, resident, start=start + timedelta(days=7),
                                        end=start + timedelta(days=7, hours=1),
                                        purpose="모임", attendees=3)
    assert "옥상정원 공유" in caught.value.message  # names the owner
    with pytest.raises(NotAllowed):
        space_services.create_space(manager, org, name="두 번째", type="rooftop", capacity=5)
    assert booking.status == "requested"  # nothing is cancelled or deleted

    applications.reinstate(org, place["admin"])
    db.session.commit()
    assert space_id in _found()
    space_services.create_space(manager, org, name="두 번째", type="rooftop", capacity=5)


def test_a_pending_organisation_cannot_list_spaces(place, factories, db):
    org = _apply(place)
    with pytest.raises(NotAllowed):
        space_services.create_space(place["admin"], org, name="x", type="rooftop", capacity=5)


def _found() -> list[int]:
    return [s.id for s in space_search.search_spaces(space_search.SearchParams()).items]


def test_review_queue_scope(place, db):
    gangbuk = _apply(place)
    jongno = _apply(place, address="서울 종로구 대학로 2")
    db.session.commit()
    ids = lambda user: [o.id for o in db.session.scalars(applications.review_query(user))]  # noqa: E731
    assert ids(place["officer"]) == [gangbuk.id]
    assert ids(place["other_officer"]) == [jongno.id]
    assert ids(place["admin"]) == [gangbuk.id, jongno.id]


def test_emails_go_out(place, db):
    _apply(place)
    db.session.commit()
    assert db.session.scalar(select(EmailDelivery.id).where(
        EmailDelivery.to_address == place["officer"].email))

