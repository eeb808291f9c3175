"""What the API answers: the marshmallow schemas that serialise every answer and the error
envelope of `app.error_pages`; the OpenAPI document is generated from them. Every field of an
answer is always present (`required`); `allow_none` ones may be null."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import fields

from app.api.parsing import (
    Document,
)
from app.bookings.approvals import STAGE_STATE_LABELS
from app.bookings.models import PAYMENT_STATES, STATUS_LABELS
from app.bookings.states import WaiverState
from app.notifications.kinds import AUDIENCE_LABELS, KINDS, REMINDER_CHOICES
from app.notifications.models import CHANNELS
from app.payments.models import OFFLINE_METHODS, PAYMENT_STATUS_LABELS, REFUND_STATUS_LABELS
from app.rules.schema import (
    ALLOCATION_MODES,
    APPROVERS,
    FEE_CATEGORIES,
    ON_DEADLINE,
    PURPOSES,
    STAGE_MODES,
    WAIVER_CATEGORIES,
)
from app.spaces.models import AMENITIES, BOOKING_MODES, SPACE_TYPES

# Bodies may hold at most this many ids (bulk decisions).
INSTANT_EXAMPLE = "2026-12-01T18:00:00+09:00"


def _out(field_class, *args, nullable: bool = False, **metadata):
    return field_class(*args, required=True, allow_none=nullable, metadata=metadata)



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


class NotificationSchema(ma.Schema):
    id = _out(fields.Integer)
    kind = _out(fields.String, enum=list(KINDS))
    kind_label = _out(fields.String)
    title = _out(fields.String)
    created_at = _out(fields.String, format="date-time")
    read = _out(fields.Boolean)
    read_at = _out(fields.String, nullable=True, format="date-time")
    url = _out(fields.String, format="uri", description="The page the notification opens.")
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


INSTANT = {"format": "date-time", "examples": [INSTANT_EXAMPLE]}


class RefSchema(ma.Schema):
    """`{"id", "name"}` of a user, an organisation or a space."""

    id = _out(fields.Integer)
    name = _out(fields.String)


class MoneySchema(ma.Schema):
    """Integer minor units; KRW has none, so 15000 is ₩15,000."""

    amount = _out(fields.Integer, minimum=0)
    currency = _out(fields.String, examples=["KRW"])


class SpanSchema(ma.Schema):
    start = _out(fields.String, **INSTANT)
    end = _out(fields.String, **INSTANT)


class JurisdictionRefSchema(ma.Schema):
    slug = _out(fields.String)
    name = _out(fields.String)


class SpaceSchema(ma.Schema):
    id = _out(fields.Integer)
    name = _out(fields.String)
    type = _out(fields.String, enum=list(SPACE_TYPES))
    owner = _out(fields.Nested, RefSchema)
    capacity = _out(fields.Integer)
    price_per_hour = _out(fields.Nested, MoneySchema)
    address = _out(fields.String)
    latitude = _out(fields.Float, nullable=True)
    longitude = _out(fields.Float, nullable=True)
    timezone = _out(fields.String, examples=["Asia/Seoul"])
    booking_mode = _out(fields.String, enum=list(BOOKING_MODES))
    amenities = _out(fields.List, fields.String(metadata={"enum": list(AMENITIES)}))
    jurisdictions = _out(fields.List, fields.Nested(JurisdictionRefSchema))
    distance_km = fields.Float(metadata={"description": "Only when the search gave `near`."})
    url = _out(fields.String, format="uri", description="The space's page.")


class OpeningHoursSchema(ma.Schema):
    weekday = _out(fields.Integer, minimum=0, maximum=6, description="Monday = 0")
    open = _out(fields.String, examples=["09:00"])
    close = _out(fields.String, examples=["22:00", "24:00"])


class SpaceDetailSchema(SpaceSchema):
    description = _out(fields.String)
    published = _out(fields.Boolean)
    min_minutes = _out(fields.Integer)
    max_minutes = _out(fields.Integer)
    buffer_minutes = _out(fields.Integer, description="Minutes kept free between two bookings.")
    opening_hours = _out(
        fields.List,
        fields.Nested(OpeningHoursSchema),
        description="Local wall-clock hours; a weekday without an entry is closed.",
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

NULLABLE_INSTANT = {"format": "date-time"}


class BookingSpaceSchema(ma.Schema):
    id = _out(fields.Integer)
    name = _out(fields.String)
    timezone = _out(fields.String)


class TransitionSchema(ma.Schema):
    from_ = fields.String(attribute="from", data_key="from", required=True, allow_none=True)
    to = _out(fields.String)
    at = _out(fields.String, **INSTANT)
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
    position = _out(fields.Integer, minimum=1, description="1 for the first stage, as in `stage`.")
    approver = _out(fields.String, enum=list(APPROVERS))
    who = _out(fields.String, description="Who decides, in words.")
    mode = _out(fields.String, enum=list(STAGE_MODES))
    state = _out(fields.String, enum=list(STAGE_STATE_LABELS))
    state_label = _out(fields.String)
    due_at = _out(fields.String, nullable=True, **NULLABLE_INSTANT)
    decided_at = _out(fields.String, nullable=True, **NULLABLE_INSTANT)
    reason = _out(fields.String, nullable=True)


class ApprovalSchema(ma.Schema):
    """The approval chain, frozen when the request was made. `stage` of `of` is deciding now
    (or, for a returned request, waiting for the resident's answer); null when none is."""

    stage = _out(fields.Integer, nullable=True, minimum=1)
    of = _out(fields.Integer, minimum=0)
    who = _out(fields.String, nullable=True)
    due_at = _out(fields.String, nullable=True, **NULLABLE_INSTANT)
    stages = _out(fields.List, fields.Nested(ApprovalStageSchema))


class PaymentSchema(ma.Schema):
    id = _out(fields.Integer)
    method = _out(fields.String, enum=["card", *OFFLINE_METHODS])
    status = _out(fields.String, enum=list(PAYMENT_STATUS_LABELS))
    amount = _out(fields.Integer, minimum=1)
    refunded_amount = _out(fields.Integer, minimum=0)
    paid_at = _out(fields.String, nullable=True, **NULLABLE_INSTANT)
    card_last4 = _out(fields.String, nullable=True)
    reference = _out(
        fields.String,
        nullable=True,
        description="Offline payments: the receipt, transfer or voucher number; only for the "
        "space's managers.",
    )
    test_mode = _out(fields.Boolean, description="A test payment: no real money moved.")


class RefundSchema(ma.Schema):
    id = _out(fields.Integer)
    payment_id = _out(fields.Integer)
    amount = _out(fields.Integer, minimum=1)
    status = _out(fields.String, enum=list(REFUND_STATUS_LABELS))
    reason = _out(fields.String, nullable=True)
    created_at = _out(fields.String, **INSTANT)
    done_at = _out(fields.String, nullable=True, **NULLABLE_INSTANT)


class BookingPaymentSchema(ma.Schema):
    """What the booking owes and how it was paid and refunded."""

    status = _out(
        fields.String,
        enum=list(PAYMENT_STATES),
        description="`none`: free; `after_approval`: payable once approved; `hold_pending`: "
        "the card is to be authorised to keep the request; `authorized`: held, charged at "
        "approval; `due`: to pay by `due_at` or the booking expires; `paid`, "
        "`partially_refunded`, `refunded`; `void`: nothing was charged and nothing will be.",
    )
    label = _out(fields.String)
    amount = _out(fields.Integer, minimum=0, description="The price.")
    currency = _out(fields.String, examples=["KRW"])
    due_at = _out(
        fields.String,
        nullable=True,
        description="The payment deadline while something is due.",
        **NULLABLE_INSTANT,
    )
    payments = _out(
        fields.List,
        fields.Nested(PaymentSchema),
        description="Every attempt to collect the price, oldest first.",
    )
    refunds = _out(
        fields.List,
        fields.Nested(RefundSchema),
        description="Refunds of all the payments, oldest first.",
    )
    checkout_url = _out(
        fields.String,
        nullable=True,
        format="uri",
        description="The open Checkout Session to pay on; only for the resident who booked, "
        "while the booking can be paid.",
    )


class BookingSchema(ma.Schema):
    id = _out(fields.Integer)
    status = _out(fields.String, enum=list(STATUS_LABELS))
    status_label = _out(fields.String)
    space = _out(fields.Nested, BookingSpaceSchema)
    user = _out(fields.Nested, RefSchema)
    start = _out(fields.String, **INSTANT)
    end = _out(fields.String, **INSTANT)
    purpose = _out(fields.String)
    attendees = _out(fields.Integer)
    price = _out(fields.Nested, MoneySchema)
    created_at = _out(fields.String, **INSTANT)
    decided_at = _out(fields.String, nullable=True, **NULLABLE_INSTANT)
    reason = _out(fields.String, nullable=True)
    history = _out(fields.List, fields.Nested(TransitionSchema))
    purpose_category = _out(fields.String, enum=list(PURPOSES))
    waiver = _out(fields.String, nullable=True, enum=[*WAIVER_CATEGORIES, None])
    waiver_state = _out(
        fields.String, nullable=True, enum=[*WaiverState, None],
        description="verified: verified on the person's profile and priced in; claimed: "
        "claimed on this request only, charged in full until an approver saw the evidence; "
        "confirmed: the evidence was seen and the waiver priced in; not_applied: approved "
        "without the evidence, at the full price. Null without a waiver.",
    )
    group = _out(fields.Nested, RefSchema, nullable=True)
    price_breakdown = _out(
        fields.Nested,
        PriceBreakdownSchema,
        nullable=True,
        description="How the price was reached (null for bookings made before rule sets).",
    )
    approval = _out(fields.Nested, ApprovalSchema)
    draw_at = _out(
        fields.String,
        nullable=True,
        description="Lottery entries: when the draw is made.",
        **NULLABLE_INSTANT,
    )
    lottery_draw_id = _out(
        fields.Integer,
        nullable=True,
        description="The draw that decided this entry: `/lottery/draws/{id}`.",
    )
    payment = _out(fields.Nested, BookingPaymentSchema)


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
    expires_at = _out(fields.String, description="The session closes then.", **INSTANT)
    payment_id = _out(fields.Integer)


class MoneyTotalsSchema(ma.Schema):
    gross = _out(fields.Integer)
    fee = _out(fields.Integer)
    refunded = _out(fields.Integer)
    fee_refunded = _out(fields.Integer)
    net = _out(fields.Integer)


class PayoutRowSchema(ma.Schema):
    kind = _out(fields.String, enum=["payment", "refund"])
    booking_id = _out(fields.Integer)
    space = _out(fields.String)
    paid_at = _out(fields.String, **INSTANT)
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


class PlannedStageSchema(ma.Schema):
    approver = _out(fields.String, enum=list(APPROVERS))
    label = _out(fields.String, nullable=True)
    who = _out(fields.String)
    source = _out(fields.String)
    mode = _out(fields.String, enum=list(STAGE_MODES))
    deadline_days = _out(
        fields.Integer, nullable=True, description="Working days; null: until the booking starts."
    )
    on_deadline = _out(fields.String, enum=list(ON_DEADLINE))
    auto_approved = _out(fields.Boolean)


class QuoteSchema(ma.Schema):
    allowed = _out(fields.Boolean)
    reasons = _out(fields.List, fields.Nested(RuleReasonSchema))
    mode = _out(fields.String, enum=list(ALLOCATION_MODES))
    draw_at = _out(fields.String, nullable=True, **NULLABLE_INSTANT)
    stages = _out(fields.List, fields.Nested(PlannedStageSchema))
    price = _out(fields.Nested, PriceBreakdownSchema)


class RuleSetScopeSchema(ma.Schema):
    kind = _out(fields.String, enum=["jurisdiction", "organisation", "space"])
    id = _out(fields.Integer)
    name = _out(fields.String)


class RuleSummaryLineSchema(ma.Schema):
    source = _out(fields.String)
    text = _out(fields.String)


class RuleSetInForceSchema(ma.Schema):
    id = _out(fields.Integer)
    scope = _out(fields.Nested, RuleSetScopeSchema)
    source_level = _out(fields.String, enum=["jurisdiction", "owner", "space"])
    version = _out(fields.Integer, minimum=1)
    effective_from = _out(fields.String, **INSTANT)
    body = _out(Document)


class SpaceRulesSchema(ma.Schema):
    space_id = _out(fields.Integer)
    at = _out(fields.String, **INSTANT)
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
    id = _out(fields.Integer)
    version = _out(fields.Integer, minimum=1)
    effective_from = _out(fields.String, **INSTANT)
    created_at = _out(fields.String, **INSTANT)
    created_by = _out(fields.Nested, RefSchema, nullable=True)
    note = _out(fields.String)
    replaces_id = _out(fields.Integer, nullable=True)
    body = _out(Document)
    state = _out(
        fields.String,
        enum=["in_force", "scheduled", "replaced"],
        description="In force now, taking effect later, or replaced by a later version.",
    )


class RuleSetVersionsSchema(ma.Schema):
    scope = _out(fields.Nested, RuleSetScopeSchema)
    current_version = _out(fields.Integer, nullable=True)
    versions = _out(fields.List, fields.Nested(RuleSetVersionSchema), description="Newest first.")


class SavedRuleSetSchema(RuleSetVersionSchema):
    scope = _out(fields.Nested, RuleSetScopeSchema)


class DrawOutcomeSchema(ma.Schema):
    entries = _out(fields.Integer, minimum=0)
    won = _out(fields.Integer, minimum=0)
    lost = _out(fields.Integer, minimum=0)


class DrawEntrySchema(ma.Schema):
    rank = _out(fields.Integer, minimum=1)
    booking_id = _out(fields.Integer)
    name = _out(fields.String, description="Masked: the first character and two stars.")
    start = _out(fields.String, nullable=True, **NULLABLE_INSTANT)
    end = _out(fields.String, nullable=True, **NULLABLE_INSTANT)
    tier = _out(fields.Integer, enum=[0, 1], description="0: resident priority; 1: general.")
    priority = _out(fields.Boolean)
    key = _out(fields.Float)
    outcome = _out(fields.String, enum=["won", "lost"])
    why = _out(fields.String, nullable=True, enum=["taken", "overlap", "cap", None])


class LotteryDrawSchema(ma.Schema):
    id = _out(fields.Integer)
    space = _out(fields.Nested, BookingSpaceSchema)
    draw_at = _out(fields.String, **INSTANT)
    drawn_at = _out(fields.String, **INSTANT)
    seed = _out(fields.String, description="The published seed (hex).")
    algorithm = _out(fields.String, examples=["gonggan-1"])
    verified = _out(
        fields.Boolean,
        description="Running the draw again from its stored inputs and seed gives this result.",
    )
    outcome = _out(fields.Nested, DrawOutcomeSchema)
    entries = _out(fields.List, fields.Nested(DrawEntrySchema), description="In rank order.")
