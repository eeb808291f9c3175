"""What the API answers: the marshmallow schemas that serialise every answer and the error
envelope of `app.error_pages`; the OpenAPI document is generated from them. Every field of an
answer is always present (`required`); `allow_none` ones may be null."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, TypedDict
from zoneinfo import ZoneInfo

import marshmallow as ma
from flask import url_for
from marshmallow import fields, missing

from app.api.parsing import (
    Document,
)
from app.api.schemas.dumping import (
    ComputedBoolean,
    ComputedInteger,
    ComputedList,
    ComputedNested,
    ComputedString,
    Dump,
    DumpContext,
    Instant,
    dump_context,
    iso,
)
from app.bookings.approvals import STAGE_STATE_LABELS, stage_who
from app.bookings.models import PAYMENT_STATES, STATUS_LABELS, Booking, BookingStage
from app.bookings.states import UNDECIDED, DrawOutcome, StageState, WaiverState
from app.notifications import render
from app.notifications.kinds import AUDIENCE_LABELS, KINDS, REMINDER_CHOICES
from app.notifications.models import CHANNELS, Notification
from app.orgs.models import ORG_KINDS, ORG_ROLES
from app.orgs.states import OrgStatus
from app.payments import services as payment_services
from app.payments.models import (
    OFFLINE_METHODS,
    PAYMENT_STATUS_LABELS,
    REFUND_STATUS_LABELS,
    Payment,
    Refund,
)
from app.payments.states import WALLET_LABELS, PaymentStatus
from app.rules.engine import Source
from app.rules.messages import quote_dict, reason_dict
from app.rules.models import RuleSet
from app.rules.schema import (
    ALLOCATION_MODES,
    APPROVERS,
    FEE_CATEGORIES,
    ON_DEADLINE,
    PURPOSES,
    STAGE_MODES,
    WAIVER_CATEGORIES,
)
from app.spaces.models import (
    ACCESSIBILITY,
    AMENITIES,
    BOOKING_MODES,
    CHALLENGE_MODES,
    SPACE_TYPES,
    Closure,
    OpeningHours,
    Space,
    SpacePhoto,
)

INSTANT_EXAMPLE = "2026-12-01T18:00:00+09:00"


def _out(field_class, *args, nullable: bool = False, attribute: str | None = None, **metadata):
    return field_class(
        *args, required=True, allow_none=nullable, attribute=attribute, metadata=metadata
    )



class ErrorDetailSchema(ma.Schema):
    code = fields.String(
        required=True,
        metadata={
            "description": "Stable and machine-readable.",
            "examples": [
                "unauthorized",
                "forbidden",
                "not_found",
                "invalid",
                "slot_taken",
                "invalid_transition",
                "bad_request",
                "rule_violation",
                "payments_unavailable",
                "payment_provider_error",
            ],
        },
    )
    message = fields.String(
        required=True,
        metadata={
            "description": "For people, in the language of Accept-Language (Korean by default, "
            "or English)."
        },
    )
    details = fields.Dict(
        keys=fields.String(),
        values=fields.List(fields.String()),
        metadata={
            "description": "With `invalid`: messages per input field (`_` for the request as a "
            "whole)."
        },
    )
    reasons = fields.List(
        fields.Nested("RuleReasonSchema"),
        metadata={
            "description": "With `rule_violation`: every rule the request breaks, citing the "
            "rule set it comes from."
        },
    )
    retry_after = fields.Integer(
        metadata={"description": "With `rate_limited`: seconds to wait before trying again."}
    )


class ErrorSchema(ma.Schema):
    """Every error: `{"error": {"code", "message", "details"?, "reasons"?}}` (`app.error_pages`)."""

    error = fields.Nested(ErrorDetailSchema, required=True)


def _kind_label(note: Notification) -> str:
    spec = KINDS.get(note.kind)
    return str(spec.label) if spec else note.kind


def _title(note: Notification) -> str:
    """As the viewer's inbox shows it."""
    return render.subject_of(note, _viewer()) if note.kind in KINDS else note.kind


class NotificationSchema(ma.Schema):
    """A `Notification` of the viewer, its times in the context's zone."""

    id = _out(fields.Integer)
    kind = _out(fields.String, enum=list(KINDS))
    kind_label = _out(ComputedString, _kind_label)
    title = _out(ComputedString, _title)
    created_at = _out(Instant, format="date-time")
    read = _out(ComputedBoolean, lambda note: note.read_at is not None)
    read_at = _out(Instant, nullable=True, format="date-time")
    url = _out(
        ComputedString,
        lambda note: render.link_for(note, external=True),
        format="uri",
        description="The page the notification opens.",
    )
    booking_id = _out(fields.Integer, nullable=True)


class NotificationPageSchema(ma.Schema):
    items = _out(fields.List, fields.Nested(NotificationSchema))
    page = _out(fields.Integer, minimum=1)
    per_page = _out(fields.Integer, minimum=1)
    total = _out(fields.Integer, minimum=0)
    unread = _out(fields.Integer, minimum=0, description="All your unread notifications.")


class MarkedReadSchema(ma.Schema):
    marked = _out(fields.Integer, minimum=0)
    unread = _out(fields.Integer, minimum=0)


class NotificationKindSchema(ma.Schema):
    kind = _out(fields.String, enum=list(KINDS))
    label = _out(fields.String)
    audience = _out(fields.String, enum=list(AUDIENCE_LABELS))
    channel = _out(fields.String, enum=list(CHANNELS))
    choices = _out(fields.List, fields.String(metadata={"enum": list(CHANNELS)}))
    mandatory = _out(fields.Boolean)


class NotificationPreferencesSchema(ma.Schema):
    kinds = _out(fields.List, fields.Nested(NotificationKindSchema))
    reminder_hours = _out(fields.Integer, enum=list(REMINDER_CHOICES))
    reminder_choices = _out(fields.List, fields.Integer())


class _Format(TypedDict, total=False):
    """Field metadata for a string's format in the document."""

    format: str
    examples: list[str]


INSTANT: _Format = {"format": "date-time", "examples": [INSTANT_EXAMPLE]}


class RefSchema(ma.Schema):
    """`{"id", "name"}` of a user, an organisation or a space."""

    id = _out(fields.Integer)
    name = _out(fields.String)


class MoneySchema(ma.Schema):
    """Integer minor units; KRW has none, so 15000 is ₩15,000."""

    amount = _out(fields.Integer, minimum=0)
    currency = _out(fields.String, examples=["KRW"])


class SpanSchema(ma.Schema):
    """A `Span` in the context's zone."""

    start = _out(Instant, **INSTANT)
    end = _out(Instant, **INSTANT)


class JurisdictionRefSchema(ma.Schema):
    slug = _out(fields.String)
    name = fields.String(attribute="display_name", required=True)


class PriceOf(fields.Nested):
    """An amount of the object's currency as a `MoneySchema`."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(MoneySchema, required=True, **kwargs)

    def get_value(self, obj: Any, attr: str, accessor: Any = None, default: Any = missing) -> Any:
        return {"amount": getattr(obj, self.attribute or attr), "currency": obj.currency}


class DistanceKm(fields.Float):
    """A searched space's distance from the point the search was near, from the context."""

    def get_value(self, obj: Any, attr: str, accessor: Any = None, default: Any = missing) -> Any:
        return DumpContext.get(Dump()).get("distances", {}).get(obj.id, missing)


def _file_url(key: str) -> str:
    return url_for("media.file", key=key, _external=True)


def photo_json(photo: SpacePhoto) -> dict:
    """A photo with the address of each stored file (`urls.webp["480"]`, ...)."""
    renditions = photo.renditions()
    return {
        "id": photo.id,
        "alt": photo.alt,
        "position": photo.position,
        "cover": photo.is_cover,
        "width": photo.width,
        "height": photo.height,
        "urls": {
            "webp": {str(w): _file_url(webp) for w, _h, webp, _jpg in renditions},
            "jpeg": {str(w): _file_url(jpg) for w, _h, _webp, jpg in renditions},
        },
    }


def cover_json(photos: list[SpacePhoto]) -> dict | None:
    """The cover among `photos` as the pages show it: the JPEG of middle width (the <img>
    fallback of `_photos.html`), or None for a space without photos."""
    cover = next((p for p in photos if p.is_cover), None)
    if cover is None:
        return None
    renditions = cover.renditions()
    fallback = renditions[1] if len(renditions) > 1 else renditions[0]
    return {"id": cover.id, "url": _file_url(fallback[3]), "alt": cover.alt}


def closure_json(closure: Closure, affected_booking_ids: list[int]) -> dict:
    zone = closure.space.zone
    return {
        "id": closure.id,
        "start": iso(closure.start_at, zone),
        "end": iso(closure.end_at, zone),
        "reason": closure.reason,
        "affected_booking_ids": affected_booking_ids,
    }


class PhotoUrlsSchema(ma.Schema):
    """Width in pixels (as text) -> the file's address, for each format."""

    webp = _out(fields.Dict, keys=fields.String(), values=fields.String())
    jpeg = _out(fields.Dict, keys=fields.String(), values=fields.String())


class PhotoSchema(ma.Schema):
    id = _out(fields.Integer)
    alt = _out(fields.String, description="The description for people who cannot see it.")
    position = _out(fields.Integer, minimum=0, description="0 is shown first.")
    cover = _out(fields.Boolean, description="The photo search results show.")
    width = _out(fields.Integer, minimum=1, description="Of the largest file.")
    height = _out(fields.Integer, minimum=1, description="Of the largest file.")
    urls = _out(
        fields.Nested,
        PhotoUrlsSchema,
        description="Every stored width as WebP and as JPEG (smaller pictures are never "
        "enlarged); the files never change, so they may be cached for ever.",
    )


class PhotoListSchema(ma.Schema):
    photos = _out(fields.List, fields.Nested(PhotoSchema), description="In their order.")


class CoverPhotoSchema(ma.Schema):
    id = _out(fields.Integer)
    url = _out(fields.String, format="uri", description="A JPEG of middle width.")
    alt = _out(fields.String)


class SpaceSchema(ma.Schema):
    """A `Space`. Needs `owner`, `jurisdictions` and `amenity_rows` loaded."""

    id = _out(fields.Integer)
    name = _out(fields.String)
    type = _out(fields.String, enum=list(SPACE_TYPES))
    owner = _out(fields.Nested, RefSchema)
    capacity = _out(fields.Integer)
    price_per_hour = PriceOf()
    address = _out(fields.String)
    latitude = _out(fields.Float, nullable=True)
    longitude = _out(fields.Float, nullable=True)
    timezone = _out(fields.String, examples=["Asia/Seoul"])
    booking_mode = _out(fields.String, enum=list(BOOKING_MODES))
    amenities = _out(fields.List, fields.String(metadata={"enum": list(AMENITIES)}))
    accessibility = _out(
        fields.List,
        fields.String(metadata={"enum": list(ACCESSIBILITY)}),
        description="Accessibility features.",
    )
    cover_photo = _out(
        ComputedNested, lambda space: cover_json(space.photos), CoverPhotoSchema, nullable=True
    )
    photos = _out(
        ComputedList,
        lambda space: [photo_json(p) for p in space.photos],
        fields.Nested(PhotoSchema),
        description="In their order.",
    )
    jurisdictions = _out(fields.List, fields.Nested(JurisdictionRefSchema))
    distance_km = DistanceKm(metadata={"description": "Only when the search gave `near`."})
    url = ComputedString(
        lambda space: url_for("spaces.detail", space_id=space.id, _external=True),
        required=True,
        metadata={"format": "uri", "description": "The space's page."},
    )


class OpeningHoursSchema(ma.Schema):
    weekday = _out(fields.Integer, minimum=0, maximum=6, description="Monday = 0")
    open = ComputedString(
        lambda h: OpeningHours.fmt(h.open_minute), required=True, metadata={"examples": ["09:00"]}
    )
    close = ComputedString(
        lambda h: OpeningHours.fmt(h.close_minute),
        required=True,
        metadata={"examples": ["22:00", "24:00"]},
    )


class SpaceDetailSchema(SpaceSchema):
    """Also needs `opening_hours` loaded."""

    description = _out(fields.String)
    published = _out(fields.Boolean)
    min_minutes = _out(fields.Integer)
    max_minutes = _out(fields.Integer)
    buffer_minutes = _out(fields.Integer, description="Minutes kept free between two bookings.")
    challenge_mode = _out(fields.String, enum=list(CHALLENGE_MODES))
    opening_hours = _out(
        fields.List,
        fields.Nested(OpeningHoursSchema),
        description="Local wall-clock hours; a weekday without an entry is closed.",
    )


class ClosureSchema(ma.Schema):
    id = _out(fields.Integer)
    start = _out(fields.String, **INSTANT)
    end = _out(fields.String, **INSTANT)
    reason = _out(fields.String)
    affected_booking_ids = _out(
        fields.List,
        fields.Integer(),
        description="Active bookings in this time. They are not cancelled: contact the "
        "residents, or cancel them.",
    )


class SpacePageSchema(ma.Schema):
    items = _out(fields.List, fields.Nested(SpaceSchema))
    page = _out(fields.Integer, minimum=1)
    per_page = _out(fields.Integer, minimum=1)
    total = _out(fields.Integer, minimum=0)


class AvailabilitySchema(ma.Schema):
    space_id = _out(fields.Integer)
    timezone = _out(fields.String)
    first = fields.String(
        attribute="from", data_key="from", required=True, metadata={"format": "date"}
    )
    last = fields.String(attribute="to", data_key="to", required=True, metadata={"format": "date"})
    open = _out(fields.List, fields.Nested(SpanSchema), description="Opening hours minus closures.")
    free = _out(
        fields.List, fields.Nested(SpanSchema), description="Open, not taken, not past: bookable."
    )
    busy = _out(
        fields.List,
        fields.Nested(SpanSchema),
        description="Closures and bookings, widened by the buffer.",
    )


# --- Bookings ------------------------------------------------------------------------------

NULLABLE_INSTANT: _Format = {"format": "date-time"}


class BookingSpaceSchema(ma.Schema):
    id = _out(fields.Integer)
    name = _out(fields.String)
    timezone = _out(fields.String)


def _booking_zone(booking: Booking) -> ZoneInfo:
    return booking.space.zone


def _zone_of_booking(obj: Any) -> ZoneInfo:
    """The zone of the booking a transition, stage or payment belongs to."""
    return obj.booking.space.zone


def _viewer() -> Any:
    return dump_context()["viewer"]


class TransitionSchema(ma.Schema):
    """A `BookingTransition`."""

    from_ = fields.String(
        attribute="from_status", data_key="from", required=True, allow_none=True
    )
    to = _out(fields.String, attribute="to_status")
    at = _out(Instant, _zone_of_booking, **INSTANT)
    actor = _out(fields.Nested, RefSchema, nullable=True)
    reason = _out(fields.String, nullable=True)


class PriceLineSchema(ma.Schema):
    code = _out(fields.String, enum=["base", "weekend", "night", "waiver"])
    amount = _out(fields.Integer, description="Minor units; waivers are negative.")
    params = _out(fields.Dict)


class PriceBreakdownSchema(ma.Schema):
    currency = _out(fields.String)
    category = _out(fields.String, enum=list(FEE_CATEGORIES))
    rate_per_hour = _out(fields.Integer)
    source = _out(
        fields.String,
        nullable=True,
        description="The rule set whose fees apply (null: the space's price).",
    )
    lines = _out(fields.List, fields.Nested(PriceLineSchema))
    total = _out(fields.Integer)


class ApprovalStageSchema(ma.Schema):
    """A `BookingStage`. Needs its `jurisdiction` loaded."""

    position = _out(
        ComputedInteger,
        lambda s: s.position + 1,
        minimum=1,
        description="1 for the first stage, as in `stage`.",
    )
    approver = _out(fields.String, enum=list(APPROVERS))
    who = _out(ComputedString, stage_who, description="Who decides, in words.")
    mode = _out(fields.String, enum=list(STAGE_MODES))
    state = _out(fields.String, enum=list(STAGE_STATE_LABELS))
    state_label = _out(ComputedString, lambda s: str(STAGE_STATE_LABELS.get(s.state, s.state)))
    due_at = _out(Instant, _zone_of_booking, nullable=True, **NULLABLE_INSTANT)
    decided_at = _out(
        Instant,
        _zone_of_booking,
        lambda s: None if s.state in (StageState.WAITING, StageState.SKIPPED) else s.decided_at,
        nullable=True,
        **NULLABLE_INSTANT,
    )
    reason = _out(fields.String, nullable=True)


def _deciding(booking: Booking) -> BookingStage | None:
    """The stage deciding now (or waiting for the resident's answer to a returned request)."""
    return booking.current_stage if booking.status in UNDECIDED else None


def _of_deciding(get: Callable[[BookingStage], Any]) -> Callable[[Booking], Any]:
    def value(booking: Booking) -> Any:
        stage = _deciding(booking)
        return get(stage) if stage is not None else None

    return value


class ApprovalSchema(ma.Schema):
    """The approval chain, frozen when the request was made. `stage` of `of` is deciding now
    (or, for a returned request, waiting for the resident's answer); null when none is."""

    # Dumps the booking.
    stage = _out(
        ComputedInteger, _of_deciding(lambda s: s.position + 1), nullable=True, minimum=1
    )
    of = _out(ComputedInteger, lambda b: len(b.stages), minimum=0)
    who = _out(ComputedString, _of_deciding(stage_who), nullable=True)
    due_at = _out(
        Instant,
        _booking_zone,
        _of_deciding(lambda s: s.due_at),
        nullable=True,
        **NULLABLE_INSTANT,
    )
    stages = _out(fields.List, fields.Nested(ApprovalStageSchema))


def _manages(payment: Payment) -> bool:
    return payment.booking.can_decide(_viewer())


class PaymentSchema(ma.Schema):
    """A `Payment`: offline references only for the space's managers."""

    id = _out(fields.Integer)
    method = _out(fields.String, enum=["card", *OFFLINE_METHODS])
    status = _out(fields.String, enum=list(PAYMENT_STATUS_LABELS))
    amount = _out(fields.Integer, minimum=1)
    refunded_amount = _out(fields.Integer, minimum=0)
    paid_at = _out(Instant, _zone_of_booking, nullable=True, **NULLABLE_INSTANT)
    card_last4 = _out(fields.String, nullable=True,
                      description="Card payments only; a wallet payment has no card number.")
    wallet = _out(fields.String, nullable=True, enum=[*WALLET_LABELS, None],
                  description="The Korean wallet paid with (kakao_pay, naver_pay); null for a "
                  "card or an offline payment.")
    reference = _out(
        ComputedString,
        lambda p: p.reference if _manages(p) else None,
        nullable=True,
        description="Offline payments: the receipt, transfer or voucher number; only for the "
        "space's managers.",
    )
    test_mode = _out(fields.Boolean, description="A test payment: no real money moved.")


def _zone_of_refund(refund: Refund) -> ZoneInfo:
    return refund.payment.booking.space.zone


class RefundSchema(ma.Schema):
    """A `Refund`."""

    id = _out(fields.Integer)
    payment_id = _out(fields.Integer)
    amount = _out(fields.Integer, minimum=1)
    status = _out(fields.String, enum=list(REFUND_STATUS_LABELS))
    reason = _out(fields.String, nullable=True)
    created_at = _out(Instant, _zone_of_refund, **INSTANT)
    done_at = _out(Instant, _zone_of_refund, nullable=True, **NULLABLE_INSTANT)


# An open checkout is offered again while it has at least this long to run (as
# `app.payments.services.open_checkout` reuses it).
CHECKOUT_MARGIN = timedelta(minutes=1)


def open_checkout_url(booking: Booking, user, now: datetime) -> str | None:
    """The link of the booking's open Checkout Session, for its resident while the booking can
    be paid; None for everyone else."""
    if not payment_services.can_pay(booking, user, now):
        return None
    for payment in booking.payments:
        if (
            payment.status == PaymentStatus.OPEN
            and payment.checkout_url
            and payment.pending_action is None
            and payment.expires_at is not None
            and payment.expires_at > now + CHECKOUT_MARGIN
        ):
            return payment.checkout_url
    return None


def _shown_payments(booking: Booking) -> list[Payment]:
    """Payments to show: not the online attempts Stripe never answered."""
    return [p for p in booking.payments if not p.unanswered]


class BookingPaymentSchema(ma.Schema):
    """What the booking owes and how it was paid and refunded."""

    # Dumps the booking; the checkout link only for the resident who booked.
    status = _out(
        fields.String,
        attribute="payment_status",
        enum=list(PAYMENT_STATES),
        description="`none`: free; `after_approval`: payable once approved; `hold_pending`: "
        "the card is to be authorised to keep the request; `authorized`: held, charged at "
        "approval; `due`: to pay by `due_at` or the booking expires; `paid`, "
        "`partially_refunded`, `refunded`; `void`: nothing was charged and nothing will be.",
    )
    label = _out(fields.String, attribute="payment_label")
    amount = _out(fields.Integer, minimum=0, attribute="price_amount", description="The price.")
    currency = _out(fields.String, examples=["KRW"])
    due_at = _out(
        Instant,
        _booking_zone,
        nullable=True,
        attribute="payment_due_at",
        description="The payment deadline while something is due.",
        **NULLABLE_INSTANT,
    )
    payments = _out(
        ComputedList,
        _shown_payments,
        fields.Nested(PaymentSchema),
        description="Every attempt to collect the price, oldest first.",
    )
    refunds = _out(
        ComputedList,
        lambda b: [r for p in _shown_payments(b) for r in p.refunds],
        fields.Nested(RefundSchema),
        description="Refunds of all the payments, oldest first.",
    )
    checkout_url = _out(
        ComputedString,
        lambda b: open_checkout_url(b, _viewer(), dump_context()["now"]),
        nullable=True,
        format="uri",
        description="The open Checkout Session to pay on; only for the resident who booked, "
        "while the booking can be paid.",
    )


class BookingSchema(ma.Schema):
    """A `Booking` with its history, approval chain and payment, as the viewer may see it. Needs
    `space`, `user`, `transitions.actor`, `stages.jurisdiction`, `group` and
    `payments.refunds` loaded."""

    id = _out(fields.Integer)
    status = _out(fields.String, enum=list(STATUS_LABELS))
    status_label = _out(fields.String)
    space = _out(fields.Nested, BookingSpaceSchema)
    user = _out(fields.Nested, RefSchema)
    start = _out(Instant, _booking_zone, attribute="start_at", **INSTANT)
    end = _out(Instant, _booking_zone, attribute="end_at", **INSTANT)
    purpose = _out(fields.String)
    attendees = _out(fields.Integer)
    price = PriceOf(attribute="price_amount")
    created_at = _out(Instant, _booking_zone, **INSTANT)
    decided_at = _out(Instant, _booking_zone, nullable=True, **NULLABLE_INSTANT)
    reason = _out(fields.String, nullable=True)
    history = _out(fields.List, fields.Nested(TransitionSchema), attribute="transitions")
    purpose_category = _out(fields.String, enum=list(PURPOSES))
    waiver = _out(
        fields.String, nullable=True, attribute="waiver_category", enum=[*WAIVER_CATEGORIES, None]
    )
    waiver_state = _out(
        fields.String, nullable=True, enum=[*WaiverState, None],
        description="verified: verified on the person's profile and priced in; claimed: "
        "claimed on this request only, charged in full until an approver saw the evidence; "
        "confirmed: the evidence was seen and the waiver priced in; not_applied: approved "
        "without the evidence, at the full price. Null without a waiver.",
    )
    group = _out(fields.Nested, RefSchema, nullable=True)
    price_breakdown = _out(
        ComputedNested,
        lambda b: b.price_breakdown or None,
        PriceBreakdownSchema,
        nullable=True,
        description="How the price was reached (null for bookings made before rule sets).",
    )
    approval = _out(ComputedNested, lambda b: b, ApprovalSchema)
    draw_at = _out(
        Instant,
        _booking_zone,
        nullable=True,
        description="Lottery entries: when the draw is made.",
        **NULLABLE_INSTANT,
    )
    lottery_draw_id = _out(
        fields.Integer,
        nullable=True,
        description="The draw that decided this entry: `/lottery/draws/{id}`.",
    )
    payment = _out(ComputedNested, lambda b: b, BookingPaymentSchema)


class BookingPageSchema(ma.Schema):
    items = _out(fields.List, fields.Nested(BookingSchema))
    page = _out(fields.Integer, minimum=1)
    per_page = _out(fields.Integer, minimum=1)
    total = _out(fields.Integer, minimum=0)


class ApprovalPageSchema(BookingPageSchema):
    """The approval queue, oldest request first unless sorted otherwise."""


# --- Approvals, payments, rules, lottery ---------------------------------------------------


class BulkFailureSchema(ma.Schema):
    code = _out(fields.String, examples=["not_found", "forbidden", "invalid_transition"])
    message = _out(fields.String)


class BulkItemSchema(ma.Schema):
    id = _out(fields.Integer)
    ok = _out(fields.Boolean)
    status = _out(
        fields.String, nullable=True, description="The booking's status after the decision."
    )
    error = _out(fields.Nested, BulkFailureSchema, nullable=True)


class BulkResultSchema(ma.Schema):
    action = _out(fields.String, enum=["approve", "reject"])
    done = _out(fields.Integer, minimum=0)
    failed = _out(fields.Integer, minimum=0)
    results = _out(
        fields.List,
        fields.Nested(BulkItemSchema),
        description="One per id sent, in order (duplicates once).",
    )


class CheckoutLinkSchema(ma.Schema):
    checkout_url = _out(
        fields.String, format="uri", description="Send the resident here to pay (Stripe Checkout)."
    )
    expires_at = _out(Instant, description="The session closes then.", **INSTANT)
    payment_id = _out(fields.Integer)


class MoneyTotalsSchema(ma.Schema):
    gross = _out(fields.Integer)
    fee = _out(fields.Integer)
    refunded = _out(fields.Integer)
    fee_refunded = _out(fields.Integer)
    net = _out(fields.Integer)


class PayoutRowSchema(ma.Schema):
    """A `report.Row`, in the context's zone."""

    kind = _out(fields.String, enum=["payment", "refund"])
    booking_id = _out(fields.Integer)
    space = _out(fields.String)
    paid_at = _out(Instant, **INSTANT)
    method = _out(fields.String, enum=["card", *OFFLINE_METHODS])
    currency = _out(fields.String)
    gross = _out(fields.Integer)
    fee = _out(fields.Integer)
    refunded = _out(fields.Integer)
    fee_refunded = _out(fields.Integer)
    net = _out(fields.Integer)


class PayoutReportSchema(ma.Schema):
    organisation = _out(fields.Nested, RefSchema)
    first = fields.String(
        attribute="from", data_key="from", required=True, metadata={"format": "date"}
    )
    last = fields.String(attribute="to", data_key="to", required=True, metadata={"format": "date"})
    totals = _out(
        fields.Dict,
        keys=fields.String(),
        values=fields.Nested(MoneyTotalsSchema),
        description="Per currency: payments made in the period (gross), the platform's fees, "
        "refunds done in the period and the fees they gave back, and the net for the owner.",
    )
    rows = _out(
        fields.List,
        fields.Nested(PayoutRowSchema),
        description="The payments made in the period, oldest first, with their refunds so far.",
    )
    page = _out(fields.Integer, minimum=1)
    pages = _out(fields.Integer, minimum=1)
    per_page = _out(fields.Integer, minimum=1)
    total_rows = _out(fields.Integer, minimum=0)


class RuleReasonSchema(ma.Schema):
    code = _out(fields.String, examples=["purpose", "hours", "quota_hours"])
    source = _out(fields.String, description="The name of the rule set's owner.")
    source_level = _out(fields.String, enum=["jurisdiction", "owner", "space"])
    message = _out(fields.String)


def _space() -> Space:
    return dump_context()["space"]


class PlannedStageSchema(ma.Schema):
    """A `PlannedStage` at the context's space."""

    approver = _out(fields.String, enum=list(APPROVERS), attribute="stage.approver")
    label = _out(fields.String, nullable=True, attribute="stage.label")
    who = _out(ComputedString, lambda p: p.stage.label or str(APPROVERS[p.stage.approver]))
    # The default stage (no rule set names one) is decided by the owner's managers.
    source = _out(
        ComputedString,
        lambda p: p.source.name if p.source is not None else _space().owner.name,
    )
    mode = _out(fields.String, enum=list(STAGE_MODES), attribute="stage.mode")
    deadline_days = _out(
        fields.Integer,
        nullable=True,
        attribute="stage.deadline_days",
        description="Working days; null: until the booking starts.",
    )
    on_deadline = _out(fields.String, enum=list(ON_DEADLINE), attribute="stage.on_deadline")
    auto_approved = _out(fields.Boolean)


class QuoteSchema(ma.Schema):
    """A `Decision` of the rules on a request at the context's space, without making it."""

    allowed = _out(fields.Boolean)
    reasons = _out(
        ComputedList,
        lambda d: [reason_dict(r) for r in d.reasons],
        fields.Nested(RuleReasonSchema),
    )
    mode = _out(fields.String, enum=list(ALLOCATION_MODES))
    draw_at = _out(Instant, nullable=True, **NULLABLE_INSTANT)
    stages = _out(fields.List, fields.Nested(PlannedStageSchema))
    price = _out(
        ComputedNested,
        lambda d: quote_dict(d.quote, _space().currency),
        PriceBreakdownSchema,
    )


class RuleSetScopeSchema(ma.Schema):
    """`{"kind", "id", "name"}`: kind as in `/rule-sets/{kind}/{id}` (an `editing.Scope`)."""

    kind = _out(fields.String, enum=["jurisdiction", "organisation", "space"])
    id = _out(fields.Integer)
    name = _out(fields.String)


class RuleSummaryLineSchema(ma.Schema):
    source = _out(fields.String)
    text = _out(fields.String)


RULE_SET_KINDS = {"jurisdiction": "jurisdiction", "owner": "organisation", "space": "space"}


def _scope_of(found: tuple[Source, Any, RuleSet]) -> dict:
    source, _rules, rs = found
    ident = rs.jurisdiction_id or rs.organisation_id or rs.space_id
    return {"kind": RULE_SET_KINDS[rs.level], "id": ident, "name": source.name}


class ComputedDocument(Document):
    def __init__(self, compute: Callable[[Any], Any], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.compute = compute

    def get_value(self, obj: Any, attr: str, accessor: Any = None, default: Any = missing) -> Any:
        return self.compute(obj)


class RuleSetInForceSchema(ma.Schema):
    """A rule set in force: `(source, rules, rule set)` as `rule_sets_in_force` finds it."""

    id = _out(ComputedInteger, lambda f: f[2].id)
    scope = _out(ComputedNested, _scope_of, RuleSetScopeSchema)
    source_level = _out(
        ComputedString, lambda f: f[0].level, enum=["jurisdiction", "owner", "space"]
    )
    version = _out(ComputedInteger, lambda f: f[2].version, minimum=1)
    effective_from = _out(Instant, None, lambda f: f[2].effective_from, **INSTANT)
    body = _out(ComputedDocument, lambda f: f[2].body)


class SpaceRulesSchema(ma.Schema):
    space_id = _out(fields.Integer)
    at = _out(Instant, **INSTANT)
    summary = _out(
        fields.List,
        fields.Nested(RuleSummaryLineSchema),
        description="The effective rules in words, each citing its rule set.",
    )
    rule_sets = _out(
        fields.List,
        fields.Nested(RuleSetInForceSchema),
        description="The version of each rule set in force, nearest first.",
    )


class RuleSetVersionSchema(ma.Schema):
    """One stored version (a `RuleSet`), its state from the context. Needs `created_by`
    loaded."""

    id = _out(fields.Integer)
    version = _out(fields.Integer, minimum=1)
    effective_from = _out(Instant, **INSTANT)
    created_at = _out(Instant, **INSTANT)
    created_by = _out(fields.Nested, RefSchema, nullable=True)
    note = _out(ComputedString, lambda rs: rs.note or "")
    replaces_id = _out(fields.Integer, nullable=True)
    body = _out(Document)
    state = _out(
        ComputedString,
        lambda rs: dump_context()["states"][rs.id],
        enum=["in_force", "scheduled", "replaced"],
        description="In force now, taking effect later, or replaced by a later version.",
    )


class RuleSetVersionsSchema(ma.Schema):
    scope = _out(fields.Nested, RuleSetScopeSchema)
    current_version = _out(fields.Integer, nullable=True)
    versions = _out(fields.List, fields.Nested(RuleSetVersionSchema), description="Newest first.")


class SavedRuleSetSchema(RuleSetVersionSchema):
    scope = _out(ComputedNested, lambda rs: dump_context()["scope"], RuleSetScopeSchema)


class DrawOutcomeSchema(ma.Schema):
    entries = _out(fields.Integer, minimum=0)
    won = _out(fields.Integer, minimum=0)
    lost = _out(fields.Integer, minimum=0)


class DrawEntrySchema(ma.Schema):
    """A row of a draw's result (`lottery.result_rows`)."""

    rank = _out(fields.Integer, minimum=1)
    booking_id = _out(fields.Integer, attribute="booking")
    name = _out(
        fields.String,
        attribute="masked_name",
        description="Masked: the first character and two stars.",
    )
    start = _out(Instant, nullable=True, **NULLABLE_INSTANT)
    end = _out(Instant, nullable=True, **NULLABLE_INSTANT)
    tier = _out(fields.Integer, enum=[0, 1], description="0: resident priority; 1: general.")
    priority = _out(ComputedBoolean, lambda r: r.tier == 0)
    key = _out(fields.Float)
    outcome = _out(fields.String, enum=["won", "lost"])
    why = _out(fields.String, nullable=True, enum=["taken", "overlap", "cap", None])


def _outcome(draw: dict) -> dict:
    won = sum(1 for r in draw["entries"] if r.outcome == DrawOutcome.WON)
    return {"entries": len(draw["entries"]), "won": won, "lost": len(draw["entries"]) - won}


class LotteryDrawSchema(ma.Schema):
    """The public result of a draw: the seed, the ranking with names masked, and whether running
    the draw again from its stored inputs gives the same result (`verified`). Dumps
    `{"id", "space", "draw_at", "drawn_at", "seed", "algorithm", "verified", "entries"}`."""

    id = _out(fields.Integer)
    space = _out(fields.Nested, BookingSpaceSchema)
    draw_at = _out(Instant, **INSTANT)
    drawn_at = _out(Instant, **INSTANT)
    seed = _out(fields.String, description="The published seed (hex).")
    algorithm = _out(fields.String, examples=["gonggan-1"])
    verified = _out(
        fields.Boolean,
        description="Running the draw again from its stored inputs and seed gives this result.",
    )
    outcome = _out(ComputedNested, _outcome, DrawOutcomeSchema)
    entries = _out(fields.List, fields.Nested(DrawEntrySchema), description="In rank order.")


# --------------------------------------------------------------------------- one's own data
# "Download my data" (app.privacy.export): instants are ISO 8601 strings, as stored.
def _instant(nullable: bool = False):
    return _out(fields.String, nullable=nullable, format="date-time", example=INSTANT_EXAMPLE)


class ExportProfileSchema(ma.Schema):
    id = _out(fields.Integer)
    email = _out(fields.String)
    name = _out(fields.String)
    phone = _out(fields.String, nullable=True)
    locale = _out(fields.String, enum=["ko", "en"])
    home_district = _out(fields.String, nullable=True)
    email_verified_at = _instant(nullable=True)
    created_at = _instant()
    last_active_at = _instant(nullable=True)
    reminder_hours = _out(fields.Integer)


class ExportConsentSchema(ma.Schema):
    purpose = _out(fields.String, enum=["booking", "notifications", "statistics"])
    version = _out(fields.String)
    given_at = _instant()
    withdrawn_at = _instant(nullable=True)


class ExportBookingSchema(ma.Schema):
    id = _out(fields.Integer)
    space = _out(fields.String)
    start_at = _instant()
    end_at = _instant()
    status = _out(fields.String, enum=list(STATUS_LABELS))
    purpose = _out(fields.String)
    purpose_category = _out(fields.String)
    attendees = _out(fields.Integer)
    price_amount = _out(fields.Integer)
    currency = _out(fields.String)
    payment_status = _out(fields.String, enum=list(PAYMENT_STATES))
    created_at = _instant()
    decided_at = _instant(nullable=True)
    reason = _out(fields.String, nullable=True)


class ExportPaymentSchema(ma.Schema):
    id = _out(fields.Integer)
    booking_id = _out(fields.Integer)
    method = _out(fields.String)
    amount = _out(fields.Integer)
    currency = _out(fields.String)
    status = _out(fields.String, enum=list(PAYMENT_STATUS_LABELS))
    refunded_amount = _out(fields.Integer)
    card_last4 = _out(fields.String, nullable=True)
    reference = _out(fields.String, nullable=True)
    created_at = _instant()
    paid_at = _instant(nullable=True)


class ExportRefundSchema(ma.Schema):
    id = _out(fields.Integer)
    payment_id = _out(fields.Integer)
    amount = _out(fields.Integer)
    status = _out(fields.String, enum=list(REFUND_STATUS_LABELS))
    reason = _out(fields.String, nullable=True)
    created_at = _instant()


class ExportNotificationSchema(ma.Schema):
    id = _out(fields.Integer)
    kind = _out(fields.String, enum=list(KINDS))
    channel = _out(fields.String, enum=list(CHANNELS))
    booking_id = _out(fields.Integer, nullable=True)
    created_at = _instant()
    read_at = _instant(nullable=True)


class ExportGroupSchema(ma.Schema):
    id = _out(fields.Integer)
    name = _out(fields.String)
    is_leader = _out(fields.Boolean)
    created_at = _instant()


class MyDataSchema(ma.Schema):
    generated_at = _instant()
    profile = _out(fields.Nested, ExportProfileSchema)
    consents = _out(fields.List, fields.Nested(ExportConsentSchema))
    bookings = _out(fields.List, fields.Nested(ExportBookingSchema))
    payments = _out(fields.List, fields.Nested(ExportPaymentSchema))
    refunds = _out(fields.List, fields.Nested(ExportRefundSchema))
    notifications = _out(fields.List, fields.Nested(ExportNotificationSchema))
    groups = _out(fields.List, fields.Nested(ExportGroupSchema))
    truncated = _out(
        fields.List, fields.String(),
        description="Sections cut at their newest 5,000 rows (empty when nothing was cut).",
    )


class OrganisationSchema(ma.Schema):
    id = _out(fields.Integer)
    status = _out(fields.String, enum=[s.value for s in OrgStatus])
    kind = _out(fields.String, enum=list(ORG_KINDS))
    name = _out(fields.String)
    legal_name = _out(fields.String, nullable=True)
    representative = _out(fields.String, nullable=True)
    contact_email = _out(fields.String, nullable=True)
    contact_phone = _out(fields.String, nullable=True)
    address = _out(fields.String, nullable=True)
    registration_number = _out(fields.String, nullable=True)
    jurisdictions = _out(fields.List, fields.Nested(JurisdictionRefSchema))
    submitted_at = _out(fields.String, nullable=True, format="date-time")
    reviewed_at = _out(fields.String, nullable=True, format="date-time")
    review_note = _out(fields.String, nullable=True,
                       description="Why it was rejected, or what to add.")
    has_evidence = _out(fields.Boolean)
    my_role = _out(fields.String, nullable=True,
                   description="Your role in its team (manager, principal, staff), if any.")


class InvitationSchema(ma.Schema):
    id = _out(fields.Integer)
    organisation_id = _out(fields.Integer)
    email = _out(fields.String)
    role = _out(fields.String, enum=list(ORG_ROLES))
    expires_at = _out(fields.String, format="date-time")


class MembershipSchema(ma.Schema):
    organisation_id = _out(fields.Integer)
    role = _out(fields.String, enum=list(ORG_ROLES))
