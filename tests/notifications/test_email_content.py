"""What each notification email says, in Korean and in English: subject, plain text and HTML
(snapshots, read by a person when they change), the link to the right page, the calendar file,
escaping, reasons, amounts and deadlines in the space's local time.

Params are fixed (as `announce`/`periodic` capture them), so the snapshots never depend on
"now"."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from icalendar import Calendar

from app.notifications import render
from app.notifications.kinds import KINDS
from app.notifications.models import Notification
from app.notifications.templating import span, when

BASE = "http://gonggan.test"
BOOKING_ID = 41
HANGUL = re.compile(r"[\uac00-\ud7a3]")

# The same booking, as a Korean and as an English user would have written it.
WORDS = {
    "ko": {
        "space": "마루홀 & 스튜디오",
        "owner": "마포중앙도서관",
        "address": "서울 마포구 월드컵로 12",
        "purpose": "독서 모임",
        "resident": "김주민",
        "who": "시설 담당자 (마포중앙도서관)",
        "who2": "마포구청 담당자",
        "reason": "행사 소음이 규정보다 큽니다.",
        "by": "박담당",
        "closure": "보일러 교체 공사",
        "jurisdiction": "마포구",
        "top": ["마루홀 & 스튜디오", "세미나실 2"],
        "comment": "의자 배치를 확인했습니다.",
        "change": "참석 인원을 정확히 적어 주세요.",
        "group": "망원동 독서회 & 친구들",
        "inviter": "이초대",
    },
    "en": {
        "space": "Maru Hall & Studio",
        "owner": "Mapo Central Library",
        "address": "12 World Cup-ro, Mapo-gu, Seoul",
        "purpose": "Book club",
        "resident": "Kim Jumin",
        "who": "Facility managers (Mapo Central Library)",
        "who2": "Officers of Mapo-gu",
        "reason": "The event is louder than the rules allow.",
        "by": "Park Damdang",
        "closure": "Boiler replacement",
        "jurisdiction": "Mapo-gu",
        "top": ["Maru Hall & Studio", "Seminar room 2"],
        "comment": "Chair layout checked.",
        "change": "Please give the exact number of attendees.",
        "group": "Mangwon Readers & Friends",
        "inviter": "Lee Chodae",
    },
}

START, END = "2026-11-25T10:00:00+00:00", "2026-11-25T12:00:00+00:00"  # 19:00–21:00 in Seoul
DUE = "2026-11-22T14:59:00+00:00"  # 23:59 in Seoul


def booking(lang: str, **changes) -> dict:
    w = WORDS[lang]
    b = {
        "space": w["space"], "space_id": 5, "owner": w["owner"], "address": w["address"],
        "start": START, "end": END, "tz": "Asia/Seoul", "purpose": w["purpose"],
        "attendees": 12, "amount": 15000, "currency": "KRW", "status": "requested",
        "resident": w["resident"], "series_id": None,
    }
    b.update(changes)
    return b


def stage(lang: str, position=1, count=2, **more) -> dict:
    w = WORDS[lang]
    return {"position": position, "count": count, "who": w["who"] if position == 1 else w["who2"],
            "due": "2026-11-20T09:00:00+00:00", "reason": None, **more}


def params_for(case: str, lang: str) -> dict:
    """Params for each case, as announce.py / periodic.py write them."""
    w = WORDS[lang]
    b = {"booking": booking(lang)}
    moved = {"reason": None, "from_status": None, "to_status": "requested"}
    cases = {
        "booking_received": {**b, **moved, "next": stage(lang)},
        "booking_received-lottery": {
            **b, **moved, "to_status": "entered", "draw_at": "2026-11-10T01:00:00+00:00",
        },
        "stage_decided": {
            **b, "stage": stage(lang, reason=w["comment"]), "next": stage(lang, position=2),
        },
        "booking_returned": {
            **b, **moved, "from_status": "requested", "to_status": "returned",
            "reason": w["change"], "answer_by": "2026-11-21T09:00:00+00:00",
        },
        "booking_approved": {
            "booking": booking(lang, status="approved", amount=0), **moved,
            "to_status": "approved", "from_status": "requested", "paid": False,
        },
        "booking_approved-confirmed": {
            "booking": booking(lang, status="confirmed"), **moved, "to_status": "confirmed",
            "from_status": "awaiting_payment", "paid": True,
        },
        "booking_rejected": {
            **b, **moved, "to_status": "rejected", "reason": w["reason"],
            "stage": stage(lang, reason=w["reason"]),
        },
        "booking_cancelled": {
            **b, **moved, "to_status": "cancelled", "reason": w["closure"], "by": w["by"],
        },
        "booking_cancelled-refund": {
            **b, **moved, "to_status": "cancelled", "reason": w["closure"], "by": w["by"],
            "refund": {"percent": 100, "amount": 15000, "card": True},
        },
        "cancellation_confirmed": {
            **b, **moved, "to_status": "cancelled", "reason": None,
            "refund": {"percent": 50, "amount": 7500, "card": True},
        },
        "cancellation_confirmed-offline": {
            **b, **moved, "to_status": "cancelled", "reason": None,
            "refund": {"percent": 100, "amount": 15000, "card": False},
        },
        "cancellation_confirmed-nothing": {
            **b, **moved, "to_status": "cancelled", "reason": None,
            "refund": {"percent": 0, "amount": 0, "card": True},
        },
        "booking_expired": {**b, **moved, "to_status": "expired", "was": "requested"},
        "booking_expired-unpaid": {**b, **moved, "to_status": "expired", "was": "approved"},
        "payment_due": {
            "booking": booking(lang, status="approved"), **moved, "to_status": "approved",
            "approved": True, "due": DUE, "amount": 15000,
        },
        "payment_due-reminder": {"booking": booking(lang, status="approved"), "due": DUE,
                                 "amount": 15000},
        "payment_received": {
            **b, "paid": 15000, "currency": "KRW", "method": "card",
            "reference": "pi_3Q0TEST", "card_last4": "4242",
        },
        "payment_refunded": {
            **b, "refunded": 15000, "currency": "KRW", "method": "bank_transfer",
            "reason": w["closure"], "reference": "RF-2026-0042",
        },
        "refund_failed": {
            **b, "refunded": 15000, "currency": "KRW", "method": "kakao_pay",
            "reason": "expired_or_canceled_card",
        },
        "booking_paid": {
            **b, "paid": 15000, "currency": "KRW", "method": "card",
            "reference": "pi_3Q0TEST", "card_last4": "4242",
        },
        "refund_failed_owner": {
            **b, "refunded": 15000, "currency": "KRW", "method": "card",
            "reason": "expired_or_canceled_card",
        },
        "dispute_closed": {**b, "paid": 15000, "currency": "KRW", "method": "card",
                           "outcome": "won"},
        "dispute_closed-lost": {**b, "paid": 15000, "currency": "KRW", "method": "naver_pay",
                                "outcome": "lost"},
        "booking_reminder": {"booking": booking(lang, status="confirmed", series_id=3),
                             "hours": 24},
        "lottery_result": {**b, **moved, "won": True, "next": stage(lang)},
        "lottery_result-approved": {**b, **moved, "to_status": "approved", "won": True,
                                    "approved": True},
        "lottery_result-lost": {**b, **moved, "to_status": "lost", "won": False},
        "closure_conflict": {
            **b, "closure": {"start": "2026-11-24T15:00:00+00:00",
                             "end": "2026-11-26T15:00:00+00:00", "reason": w["closure"]},
        },
        "booking_affected": {
            **b, "change": {"kind": "hours", "from": "2026-11-24T15:00:00+00:00", "note": None},
        },
        "approval_requested": {**b, "stage": stage(lang)},
        "approval_notice": {**b, "stage": stage(lang, position=2)},
        "approval_deadline": {**b, "stage": {**stage(lang), "on_deadline": "escalate"}},
        "approval_escalated": {**b, "stage": stage(lang, position=2)},
        "weekly_summary": {
            "jurisdiction": w["jurisdiction"], "week": "2026-W47",
            "from": "2026-11-15T15:00:00+00:00", "to": "2026-11-22T14:59:59+00:00",
            "requests": 18, "approved": 12, "rejected": 2, "cancelled": 1, "expired": 1,
            "no_show": 0, "hours": 41.5, "waiting": 4, "overdue": 1,
            "top_spaces": [{"name": w["top"][0], "bookings": 7},
                           {"name": w["top"][1], "bookings": 1}],
        },
        "email_verification": {"email": "reader@example.org", "token": "TOKEN"},
        "signup_attempt": {"email": "reader@example.org"},
        "account_retention": {"email": "reader@example.org", "deadline": "2026-12-31"},
        "verification_decided": {"kind": "residency", "category": None,
                                 "district": w["jurisdiction"], "verified": True, "reason": ""},
        "verification_received": {"kind": "residency", "category": None,
                                  "district": w["jurisdiction"]},
        "verification_received-waiver": {"kind": "waiver", "category": "senior",
                                         "district": w["jurisdiction"]},
        "verification_decided-rejected": {"kind": "waiver", "category": "senior",
                                          "district": w["jurisdiction"], "verified": False,
                                          "reason": w["reason"]},
        # No such invitation in the database: the link falls back to the groups page.
        "group_invitation": {
            "invitation": 7, "group": w["group"], "inviter": w["inviter"],
            "email": "reader@example.org", "expires": "2026-12-09T03:00:00+00:00",
        },
        "settlement_issued": {
            "org": 3, "owner": w["owner"], "statement": 12, "month": "2026-11",
            "net": 43650, "currency": "KRW", "status": "issued", "gross": 50000, "lines": 3,
        },
        "settlement_issued-carried": {
            "org": 3, "owner": w["owner"], "statement": 12, "month": "2026-11",
            "net": -19400, "currency": "KRW", "status": "carried", "gross": 0, "lines": 1,
        },
        "owner_suspended": {**b, "org": 3, "name": w["owner"], "suspended": True},
        "org_invitation": {
            "token": "TOKEN", "org": 3, "name": w["owner"], "inviter": w["inviter"],
            "role": "staff", "email": "reader@example.org",
            "expires": "2026-12-09T03:00:00+00:00",
        },
        "org_application_received": {"org": 3, "name": w["owner"]},
        "org_application_decided": {"org": 3, "name": w["owner"], "decision": "approve",
                                    "reason": ""},
        "org_application_decided-reject": {"org": 3, "name": w["owner"], "decision": "reject",
                                           "reason": w["reason"]},
        "org_application_decided-info": {"org": 3, "name": w["owner"],
                                         "decision": "request_info", "reason": w["change"]},
        "org_suspended": {"org": 3, "name": w["owner"], "suspended": True},
        "org_suspended-reinstated": {"org": 3, "name": w["owner"], "suspended": False},
        "settlement_paid": {
            "org": 3, "owner": w["owner"], "statement": 12, "month": "2026-11",
            "net": 43650, "currency": "KRW", "status": "paid", "gross": 50000, "lines": 3,
            "paid_on": "2026-12-03", "last4": "9012",
            "reference": "IBK-20261203-0001",
        },
    }
    return cases[case]


CASES = [
    "booking_received", "booking_received-lottery", "stage_decided", "booking_returned",
    "booking_approved", "booking_approved-confirmed", "booking_rejected", "booking_cancelled",
    "booking_expired", "booking_expired-unpaid", "payment_due", "payment_due-reminder",
    "payment_received", "payment_refunded", "refund_failed", "refund_failed_owner",
    "dispute_closed", "dispute_closed-lost", "booking_reminder", "lottery_result",
    "lottery_result-approved", "lottery_result-lost", "closure_conflict", "approval_requested",
    "approval_notice", "approval_deadline", "approval_escalated", "weekly_summary",
    "email_verification", "signup_attempt", "account_retention", "group_invitation",
    "settlement_issued",
    "settlement_issued-carried", "settlement_paid", "owner_suspended", "org_invitation",
    "org_application_received", "org_application_decided", "org_application_decided-reject",
    "org_application_decided-info", "org_suspended", "org_suspended-reinstated",
    "verification_decided",
    "verification_decided-rejected", "verification_received", "verification_received-waiver",
    "booking_affected",

    "booking_paid",

    "booking_cancelled-refund", "cancellation_confirmed", "cancellation_confirmed-offline",
    "cancellation_confirmed-nothing",
]
# Messages about an organisation: its page, or the review queue.
ORG_LINKS = {
    "org_invitation": f"{BASE}/organisations/3",
    "org_application_received": f"{BASE}/organisations/review",
    "org_application_decided": f"{BASE}/organisations/3",
    "org_suspended": f"{BASE}/organisations/3",
}
# Messages about the account, not a booking: where their button leads.
ACCOUNT_LINKS = {
    "email_verification": f"{BASE}/verify-email/TOKEN",
    "signup_attempt": f"{BASE}/account",
    "account_retention": f"{BASE}/account",
}

# A word the Korean subject must have (the kind in Korean) and its English counterpart.
KIND_WORDS = {
    "booking_received": ("신청 접수", "Request received"),
    "booking_received-lottery": ("추첨 응모 접수", "Lottery entry received"),
    "stage_decided": ("승인", "approved"),
    "booking_returned": ("보완", "Changes needed"),
    "booking_approved": ("예약 승인", "Booking approved"),
    "booking_approved-confirmed": ("예약 확정", "Booking confirmed"),
    "booking_rejected": ("반려", "rejected"),
    "booking_cancelled": ("예약 취소", "Booking cancelled"),
    "booking_cancelled-refund": ("예약 취소", "Booking cancelled"),
    "cancellation_confirmed": ("취소", "You cancelled"),
    "cancellation_confirmed-offline": ("취소", "You cancelled"),
    "cancellation_confirmed-nothing": ("취소", "You cancelled"),
    "booking_expired": ("신청 만료", "Request expired"),
    "booking_expired-unpaid": ("예약 만료", "Booking expired"),
    "payment_due": ("승인", "Approved"),
    "payment_due-reminder": ("결제 기한", "Payment due"),
    "payment_received": ("결제 완료", "Payment received"),
    "payment_refunded": ("환불", "Refund"),
    "refund_failed": ("환불", "refund"),
    "refund_failed_owner": ("환불 실패", "Refund failed"),
    "dispute_closed": ("분쟁", "Dispute won"),
    "dispute_closed-lost": ("분쟁", "Dispute lost"),
    "booking_reminder": ("예약", "Reminder"),
    "lottery_result": ("추첨 결과", "Lottery result"),
    "lottery_result-approved": ("당첨", "drawn"),
    "lottery_result-lost": ("미당첨", "not drawn"),
    "closure_conflict": ("휴관", "Closure"),
    "booking_affected": ("운영 시간", "Changed hours"),
    "approval_requested": ("승인 요청", "Decision needed"),
    "approval_notice": ("참고", "For your information"),
    "approval_deadline": ("기한", "Decision due"),
    "approval_escalated": ("이관", "passed on to you"),
    "weekly_summary": ("주간 요약", "Weekly summary"),
    "email_verification": ("이메일 주소 확인", "Confirm your email address"),
    "signup_attempt": ("이미", "already"),
    "account_retention": ("익명 처리", "anonymised"),
    "group_invitation": ("초대", "invited you"),
    "settlement_issued": ("정산서", "Settlement statement"),
    "settlement_issued-carried": ("정산서", "Settlement statement"),
    "settlement_paid": ("이체", "Settlement transferred"),
    "owner_suspended": ("정지", "suspended"),
    "org_invitation": ("초대", "invited you"),
    "org_application_received": ("심사", "Application to review"),
    "org_application_decided": ("승인", "is approved"),
    "org_application_decided-reject": ("반려", "rejected"),
    "org_application_decided-info": ("보완", "needs more information"),
    "org_suspended": ("정지", "is suspended"),
    "org_suspended-reinstated": ("복구", "is reinstated"),
    "verification_decided": ("거주 확인 완료", "Residency verified"),
    "verification_decided-rejected": ("감면 확인 불가", "Fee waiver not verified"),
    "verification_received": ("거주 확인 요청", "Residency claim to check"),
    "verification_received-waiver": ("감면 확인 요청", "Fee-waiver claim to check"),
    "digest": ("알림", "Daily digest"),
    "booking_paid": ("결제", "Paid"),
}

QUEUE_KINDS = {k for k, spec in KINDS.items() if spec.opens == "queue"}


@pytest.fixture
def reader(factories):
    return factories.user(email="reader@example.org", name="김주민")


def kind_of(case: str) -> str:
    return case.split("-")[0]


def note_for(case: str, lang: str, reader, **kw) -> Notification:
    kind = kind_of(case)
    no_booking = ("weekly_summary", "group_invitation", "settlement_issued", "settlement_paid",
                  "verification_decided", "verification_received", *ACCOUNT_LINKS,
                  *ORG_LINKS)
    booking_id = None if kind in no_booking else BOOKING_ID
    return Notification(kind=kind, params=params_for(case, lang), user=reader,
                        booking_id=booking_id, **kw)


def email(case: str, lang: str, reader):
    with render.email_context(lang):
        return render.render_email(note_for(case, lang, reader), user=reader)


def digest(lang: str, reader):
    notes = [note_for(c, lang, reader) for c in ("approval_requested", "approval_notice")]
    with render.email_context(lang):
        return render.render_digest(notes, user=reader)


def html_body(html: str) -> str:
    """The HTML body without the layout and the inlined styles (they would drown the words)."""
    found = re.search(r'<div class="content"[^>]*>(.*?)</div>\s*<div class="button-row"', html,
                      re.S)
    assert found, html
    return re.sub(r' style="[^"]*"', "", found.group(1)).strip()


def body_of(text: str) -> str:
    """The plain text above the signature (which names 공간 Gonggan in both languages)."""
    return text.split("\n-- \n")[0]


# --------------------------------------------------------------------------- snapshots
@pytest.mark.parametrize("lang", ["ko", "en"])
@pytest.mark.parametrize("case", CASES)
def test_each_email_reads_well(case, lang, reader, snapshot):
    got = email(case, lang, reader)
    assert {"subject": got.subject, "text": got.text, "html": html_body(got.html)} == snapshot
    korean, english = KIND_WORDS[case]
    if lang == "ko":
        assert korean in got.subject
        assert HANGUL.search(body_of(got.text))
    else:
        assert english in got.subject
        assert not HANGUL.search(got.subject) and not HANGUL.search(body_of(got.text)), got.text
        assert not HANGUL.search(html_body(got.html))
    # One line, with the "&" of the space name as it is written.
    assert "\n" not in got.subject and "&amp;" not in got.subject
    assert "&amp;" not in got.text
    # The inbox shows the same title.
    with render.email_context(lang):
        assert render.subject_of(note_for(case, lang, reader), reader) == got.subject


@pytest.mark.parametrize("lang", ["ko", "en"])
def test_the_digest_lists_each_notification_with_its_link(lang, reader, snapshot):
    got = digest(lang, reader)
    assert {"subject": got.subject, "text": got.text, "html": html_body(got.html)} == snapshot
    korean, english = KIND_WORDS["digest"]
    assert (korean if lang == "ko" else english) in got.subject
    assert f"{BASE}/manage/queue" in got.text and f"{BASE}/bookings/{BOOKING_ID}" in got.text
    assert f'href="{BASE}/bookings/{BOOKING_ID}"' in got.html
    assert "2" in got.subject


def test_every_kind_has_a_case():
    assert {kind_of(c) for c in CASES} | set(ADDRESS_ONLY) == set(KINDS)


# --------------------------------------------------------------------------- links
@pytest.mark.parametrize("case", CASES)
def test_the_link_is_absolute_and_opens_the_right_page(case, reader):
    kind = kind_of(case)
    if kind in QUEUE_KINDS:
        expected = f"{BASE}/manage/queue"
    elif kind == "weekly_summary":
        expected = f"{BASE}/oversight/"
    elif kind in ACCOUNT_LINKS:
        expected = ACCOUNT_LINKS[kind]
    elif kind == "group_invitation":
        expected = f"{BASE}/account/groups"
    elif kind == "verification_decided":
        expected = f"{BASE}/account/verification"
    elif kind == "verification_received":
        expected = f"{BASE}/oversight/verifications"
    elif kind.startswith("settlement_"):
        expected = f"{BASE}/manage/organisations/3/statements/12"
    elif kind in ORG_LINKS:
        expected = ORG_LINKS[kind]
    elif kind == "closure_conflict":  # the booking page at its note about the closure
        expected = f"{BASE}/bookings/{BOOKING_ID}#closure-note"

    elif kind == "booking_paid":
        expected = f"{BASE}/manage/bookings/{BOOKING_ID}"
    else:
        expected = f"{BASE}/bookings/{BOOKING_ID}"
    for lang in ("ko", "en"):
        got = email(case, lang, reader)
        assert f": {expected}\n" in got.text
        assert f'class="button" href="{expected}"' in got.html
        if kind in ACCOUNT_LINKS:
            # About the account itself: no setting turns it off, so the footer says why it came.
            assert f"{BASE}/account/notifications" not in got.text
            assert "reader@example.org" in got.text.split("\n-- \n")[1]
            continue
        if kind in ("org_application_decided", "org_suspended"):
            # Mandatory messages about the organisation: the footer says why they came.
            assert f"{BASE}/account/notifications" not in got.text
            continue
        # The footer says how to change what arrives by email.
        assert f"{BASE}/account/notifications" in got.text
        assert f'href="{BASE}/account/notifications"' in got.html


# --------------------------------------------------------------------------- calendar file
@pytest.fixture
def approved_booking(factories):
    space = factories.space(name="체육관")
    resident = factories.user(email="kim@example.org", name="김주민")
    return factories.booking(
        space, resident, start=datetime(2026, 11, 25, 10, tzinfo=UTC),
        end=datetime(2026, 11, 25, 12, tzinfo=UTC), status="approved",
        now=datetime(2026, 11, 1, tzinfo=UTC),
    )


@pytest.mark.parametrize("case", ["booking_approved", "booking_approved-confirmed",
                                  "payment_due"])
def test_an_approval_carries_the_calendar_file(case, approved_booking):
    b = approved_booking
    for lang in ("ko", "en"):
        note = Notification(kind=kind_of(case), params=params_for(case, lang), user=b.user,
                            booking=b, booking_id=b.id)
        with render.email_context(lang):
            got = render.render_email(note, user=b.user)
        assert [a.filename for a in got.attachments] == [f"booking-{b.id}.ics"]
        assert got.attachments[0].content_type.startswith("text/calendar")
        cal = Calendar.from_ical(got.attachments[0].data)
        events = [c for c in cal.walk("VEVENT")]
        assert len(events) == 1
        assert events[0].decoded("dtstart") == datetime(2026, 11, 25, 10, tzinfo=UTC)
        # And the words say a calendar file is attached.
        assert "캘린더" in got.text if lang == "ko" else "calendar file" in got.text


def test_a_payment_reminder_without_approval_carries_no_calendar_file(approved_booking):
    b = approved_booking
    note = Notification(kind="payment_due", params=params_for("payment_due-reminder", "en"),
                        user=b.user, booking=b, booking_id=b.id)
    with render.email_context("en"):
        got = render.render_email(note, user=b.user)
    assert got.attachments == []
    assert "calendar" not in got.text


# --------------------------------------------------------------------------- what a reader sees
def test_a_space_name_with_markup_is_escaped_in_html_and_plain_in_text(reader):
    params = params_for("booking_rejected", "en")
    params["booking"]["space"] = '<script>alert("x")</script> Hall & Co'
    for lang in ("ko", "en"):
        note = Notification(kind="booking_rejected", params=params, user=reader,
                            booking_id=BOOKING_ID)
        with render.email_context(lang):
            got = render.render_email(note, user=reader)
        assert '<script>alert("x")</script> Hall & Co' in got.subject
        assert '<script>alert("x")</script> Hall & Co' in got.text
        assert "<script" not in got.html
        assert "&lt;script&gt;" in got.html
        assert "Hall &amp; Co" in got.html


@pytest.mark.parametrize("lang", ["ko", "en"])
def test_a_rejection_says_why_and_who(lang, reader):
    got = email("booking_rejected", lang, reader)
    reason, who = WORDS[lang]["reason"], WORDS[lang]["who"]
    assert reason in got.text and who in got.text
    assert reason in got.html
    label = "사유" if lang == "ko" else "Reason"
    assert f"{label}: {reason}" in got.text


def test_a_rejection_without_a_reason_says_none_was_given(reader):
    params = params_for("booking_rejected", "en")
    params["reason"] = None
    params["stage"] = None
    note = Notification(kind="booking_rejected", params=params, user=reader,
                        booking_id=BOOKING_ID)
    with render.email_context("en"):
        got = render.render_email(note, user=reader)
    assert "No reason was given." in got.text


@pytest.mark.parametrize("lang", ["ko", "en"])
def test_payment_due_shows_the_amount_and_the_deadline_in_the_spaces_time(lang, reader):
    got = email("payment_due", lang, reader)
    deadline = "2026-11-22 (일) 23:59" if lang == "ko" else "2026-11-22 (Sun) 23:59"
    assert "₩15,000" in got.subject and deadline in got.subject
    assert "₩15,000" in got.text and deadline in got.text
    assert "₩15,000" in got.html and deadline in got.html
    assert "14:59" not in got.text  # never the UTC clock
    assert ("승인" if lang == "ko" else "approved") in got.text


def test_times_follow_the_zone_of_the_space(reader):
    params = params_for("payment_due", "en")
    params["booking"]["tz"] = "Europe/London"
    note = Notification(kind="payment_due", params=params, user=reader, booking_id=BOOKING_ID)
    with render.email_context("en"):
        got = render.render_email(note, user=reader)
    assert "2026-11-22 (Sun) 14:59" in got.text
    assert "When: 2026-11-25 (Wed) 10:00–12:00 (Europe/London)" in got.text


@pytest.mark.parametrize("case", CASES)
def test_missing_params_never_break_an_email(case, reader):
    for lang in ("ko", "en"):
        for params in ({}, {"booking": None}, {"booking": {}, "stage": None, "next": None}):
            note = Notification(kind=kind_of(case), params=params, user=reader)
            with render.email_context(lang):
                got = render.render_email(note, user=None)
            assert got.subject and got.text.strip() and "<h1" in got.html


def test_spans_cross_midnight_and_end_at_midnight(app):
    with render.email_context("ko"):
        assert span(START, END, "Asia/Seoul") == "2026-11-25 (수) 19:00–21:00"
        assert (span("2026-11-25T13:00:00+00:00", "2026-11-25T16:00:00+00:00", "Asia/Seoul")
                == "2026-11-25 (수) 22:00 – 2026-11-26 (목) 01:00")
        assert (span("2026-11-25T13:00:00+00:00", "2026-11-25T15:00:00+00:00", "Asia/Seoul")
                == "2026-11-25 (수) 22:00–24:00")
        assert when("2026-11-25T10:00:00", "Asia/Seoul") == "2026-11-25 (수) 19:00"  # naive: UTC
        assert when(None) == "" and span(None, None) == "" and when("garbage") == ""
        assert when(START, "No/Such_Zone") == "2026-11-25 (수) 19:00"
    with render.email_context("en"):
        assert when(START, "Asia/Seoul", "date") == "2026-11-25 (Wed)"


# --------------------------------------------------------------------------- to an address
@pytest.mark.parametrize("lang", ["ko", "en"])
def test_an_invitation_to_an_address_without_an_account_reads_well(lang, factories, snapshot):
    from app.accounts.group_models import GroupInvitation, ResidentGroup
    from app.extensions import db
    from app.notifications.models import EmailDelivery

    w = WORDS[lang]
    group = ResidentGroup(name=w["group"])
    db.session.add(group)
    db.session.flush()
    invitation = GroupInvitation(group_id=group.id, email="new@example.org")
    invitation.renew(datetime(2026, 11, 25, 3, tzinfo=UTC))
    db.session.add(invitation)
    db.session.flush()
    row = EmailDelivery(kind="group_invitation", to_address="new@example.org", params={
        "invitation": invitation.id, "group": w["group"], "inviter": w["inviter"],
        "email": "new@example.org", "expires": invitation.expires_at.isoformat(),
        "to_address": True,
    })
    with render.email_context(lang):
        got = render.render_to_address(row)
    link = f"{BASE}/groups/invitations/{invitation.link_token()}"
    assert f": {link}\n" in got.text and f'class="button" href="{link}"' in got.html
    # Not a notification: no account, so no settings to point to.
    assert "/account/notifications" not in got.text + got.html
    assert "new@example.org" in got.text
    text, html = (s.replace(invitation.link_token(), "TOKEN") for s in (got.text, got.html))
    assert {"subject": got.subject, "text": text, "html": html_body(html)} == snapshot


# --------------------------------------------------------------------------- account emails
# Written only to an address (never to an inbox): password resets and address changes. Their
# words and links; the pages that send them are tested in tests/accounts.
ADDRESS_ONLY = {
    "password_reset": ("비밀번호", "Reset your Gonggan password"),
    "password_reset_unknown": ("계정이 없", "no active account"),
    "email_change_confirm": ("새 이메일 주소", "Confirm your new email address"),
    "email_change_notice": ("이메일 주소", "email address"),
}


def _to_address(kind: str, params: dict, lang: str):
    from app.notifications.models import EmailDelivery

    row = EmailDelivery(kind=kind, to_address="reader@example.org",
                        params={**params, "to_address": True})
    with render.email_context(lang):
        return render.render_to_address(row)


@pytest.mark.parametrize("lang", ["ko", "en"])
@pytest.mark.parametrize("kind", sorted(ADDRESS_ONLY))
def test_account_emails_to_an_address_read_well(kind, lang, factories, db):
    from app.accounts import resets

    reader = factories.user(email="reader@example.org", name="김주민", locale=lang)
    params: dict = {"email": "reader@example.org"}
    expected_link = f"{BASE}/password/forgot"
    if kind == "password_reset":
        resets.request_reset("reader@example.org")
        reset = reader_reset(db, reader)
        params["reset"] = reset.id
        expected_link = f"{BASE}/password/reset/{reset.link_token()}"
    elif kind == "email_change_confirm":
        params["token"] = "TOKEN"
        expected_link = f"{BASE}/account/email/TOKEN"
    elif kind == "email_change_notice":
        params.update(new="new@example.org", done=True)
    got = _to_address(kind, params, lang)
    korean, english = ADDRESS_ONLY[kind]
    if lang == "ko":
        assert korean in got.subject + got.text and HANGUL.search(body_of(got.text))
    else:
        assert english in got.subject + got.text
        assert not HANGUL.search(got.subject) and not HANGUL.search(body_of(got.text))
    assert "\n" not in got.subject
    assert expected_link in got.text and f'href="{expected_link}"' in got.html
    # About the account itself: no notification settings to point to.
    assert "/account/notifications" not in got.text + got.html


def reader_reset(db, user):
    from sqlalchemy import select

    from app.accounts.models import PasswordReset

    return db.session.scalars(select(PasswordReset).where(PasswordReset.user_id == user.id)).one()


def test_a_used_reset_link_in_a_late_email_leads_to_asking_again(factories, db):
    from app.accounts import resets

    reader = factories.user(email="reader@example.org")
    resets.request_reset("reader@example.org")
    reset = reader_reset(db, reader)
    resets.reset_password(reset.link_token(), "a-new-password-1")
    got = _to_address("password_reset", {"email": reader.email, "reset": reset.id}, "en")
    assert f"{BASE}/password/forgot" in got.text and reset.link_token() not in got.text
