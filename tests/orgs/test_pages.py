"""The organisation pages: applying, the application's page, the evidence behind its access
check, the review queue, deciding, and the admin console's organisations page."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import select

from app.orgs.models import Organisation
from app.orgs.states import OrgStatus
from app.security.models import ORG_SUSPENDED, SecurityEvent
from tests.orgs.conftest import COMPANY, pdf_bytes


def _post_application(client, **changes):
    data = {**COMPANY, **changes}
    data["evidence"] = (io.BytesIO(pdf_bytes()), "사업자등록증.pdf")
    return client.post("/organisations/apply", data=data, content_type="multipart/form-data")


def _application(db) -> Organisation:
    return db.session.scalars(select(Organisation)).one()


def test_apply_and_see_the_application(place, login, client, db):
    login(place["applicant"])
    page = client.get("/organisations/apply")
    assert page.status_code == 200
    assert "사업자등록번호" in page.get_data(as_text=True)
    response = _post_application(client)
    assert response.status_code == 302
    org = _application(db)
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "옥상정원 공유" in page and "124-81-00998" in page and "강북구" in page
    # The applicant does not get the document back, nor a decision form.
    assert f"/organisations/{org.id}/evidence" not in page
    assert 'name="decision"' not in page


def test_a_wrong_check_digit_is_shown_next_to_its_field(place, login, client, db):
    login(place["applicant"])
    response = _post_application(client, registration_number="124-81-00997")
    assert response.status_code == 422
    assert "check the digits" in response.get_data(as_text=True) or \
        "확인" in response.get_data(as_text=True)
    assert db.session.scalar(select(Organisation.id)) is None


def test_a_file_that_is_not_a_document_is_refused(place, login, client, db):
    login(place["applicant"])
    data = {**COMPANY, "evidence": (io.BytesIO(b"MZ\x90\x00 not a pdf"), "doc.pdf")}
    response = client.post("/organisations/apply", data=data,
                           content_type="multipart/form-data")
    assert response.status_code == 422
    assert db.session.scalar(select(Organisation.id)) is None


def test_evidence_is_for_reviewers_only(place, login, client, db, media):
    login(place["applicant"])
    _post_application(client)
    org = _application(db)
    url = f"/organisations/{org.id}/evidence"
    assert client.get(url).status_code == 403  # the applicant sees the page, not the file
    # Never from the public media route.
    assert client.get("/media/" + org.evidence_key).status_code == 404
    login(place["stranger"])
    assert client.get(url).status_code == 404
    assert client.get(f"/organisations/{org.id}").status_code == 404
    login(place["other_officer"])
    assert client.get(url).status_code == 404
    login(place["officer"])
    response = client.get(url)
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert response.data.startswith(b"%PDF-")
    assert "no-store" in response.headers["Cache-Control"]


def test_review_queue_and_decisions(place, login, client, db):
    login(place["applicant"])
    _post_application(client)
    org = _application(db)
    login(place["other_officer"])
    assert f"application-{org.id}" not in client.get("/organisations/review").get_data(True)
    login(place["stranger"])
    assert client.get("/organisations/review").status_code == 403
    login(place["officer"])
    assert f"application-{org.id}" in client.get("/organisations/review").get_data(True)
    # A request for more information needs words.
    missing = client.post(f"/organisations/{org.id}/decide", data={"decision": "request_info"})
    assert missing.status_code == 422
    response = client.post(f"/organisations/{org.id}/decide",
                           data={"decision": "request_info", "reason": "대표자 확인 필요"})
    assert response.status_code == 302
    db.session.expire_all()
    assert _application(db).status == OrgStatus.INFO_REQUESTED
    # The applicant corrects and sends again from the application's page.
    login(place["applicant"])
    page = client.get(f"/organisations/{org.id}").get_data(as_text=True)
    assert "대표자 확인 필요" in page
    data = {**COMPANY, "representative": "박대표", "jurisdiction_ids": [place["gangbuk"].id]}
    assert client.post(f"/organisations/{org.id}", data=data).status_code == 302
    db.session.expire_all()
    assert _application(db).status == OrgStatus.PENDING
    login(place["officer"])
    client.post(f"/organisations/{org.id}/decide", data={"decision": "approve"})
    db.session.expire_all()
    assert _application(db).status == OrgStatus.ACTIVE
    login(place["applicant"])
    assert client.get(f"/organisations/{org.id}/team").status_code == 200


def test_admin_console_suspends_and_reinstates(place, login, client, db, factories):
    org = factories.org(name="해방촌 코워킹", kind="company")
    manager = factories.manager(org, email="m@example.kr")
    db.session.commit()
    login(place["admin"])
    page = client.get("/admin/organisations").get_data(as_text=True)
    assert f"org-{org.id}" in page
    client.post(f"/admin/organisations/{org.id}/suspend", data={"reason": "조사 중"})
    db.session.expire_all()
    assert db.session.get(Organisation, org.id).status == OrgStatus.SUSPENDED
    assert db.session.scalar(select(SecurityEvent.id).where(SecurityEvent.kind == ORG_SUSPENDED))
    assert "조사 중" in client.get("/admin/audit").get_data(as_text=True)
    listed = client.get("/admin/organisations?status=suspended").get_data(as_text=True)
    assert f"org-{org.id}" in listed
    # The manager sees the suspension and cannot list a new space.
    login(manager)
    page = client.get(f"/organisations/{org.id}").get_data(as_text=True)
    assert "suspended" in page or "정지" in page
    login(place["admin"])
    client.post(f"/admin/organisations/{org.id}/reinstate")
    db.session.expire_all()
    assert db.session.get(Organisation, org.id).status == OrgStatus.ACTIVE


def test_review_queue_queries_are_bounded(place, factories, login, client, db, queries_of_get):
    from app.orgs import applications

    def add(n):
        with client.application.test_request_context("/"):
            for i in range(n):
                applications.apply(factories.user(), {**COMPANY, "name": f"기관 {i}"},
                                   evidence=pdf_bytes())
        db.session.commit()

    login(place["admin"])
    add(2)
    few = queries_of_get("/organisations/review")
    add(8)
    assert queries_of_get("/organisations/review") == few


@pytest.fixture(autouse=True)
def _no_limits(app, monkeypatch):
    monkeypatch.setitem(app.config, "RATELIMIT_ORG_APPLY_PER_ACCOUNT", "1000 per minute")


def test_a_suspended_owner_is_told_on_the_new_space_form(place, login, client, db, factories):
    org = factories.org(name="해방촌 코워킹", kind="company")
    manager = factories.manager(org, email="m2@example.kr")
    org.status = OrgStatus.SUSPENDED
    db.session.commit()
    login(manager)
    response = client.post("/manage/spaces/new", data={
        "owner_id": str(org.id), "name": "옥상", "type": "rooftop", "capacity": "10",
        "description": "", "address": "", "latitude": "", "longitude": "",
        "timezone": "Asia/Seoul", "price_per_hour": "0", "min_minutes": "60",
        "max_minutes": "240", "buffer_minutes": "0", "booking_mode": "request",
    })
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    assert "승인된 기관만 새 공간을 등록할 수 있습니다" in text
    from app.spaces.models import Space
    assert db.session.scalar(select(Space.id)) is None
