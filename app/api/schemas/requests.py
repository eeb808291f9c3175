"""What the API accepts: the marshmallow schemas of request bodies (with examples) and query
strings. `app.api.parsing` reads them; a schema named `XSchema` is the component `X`."""

from __future__ import annotations

import marshmallow as ma
from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from app.api.parsing import (
    MAX_INT,
    Choice,
    Codes,
    Day,
    Document,
    Field,
    Flag,
    Ids,
    Instant,
    Integer,
    Number,
    OpeningRanges,
    QueryChoice,
    QueryDate,
    QueryField,
    QueryFlag,
    QueryInstant,
    QueryInt,
    QueryList,
    Text,
    Upload,
)
from app.bookings.models import STATUS_LABELS
from app.bookings.queue import SORTS
from app.notifications.kinds import REMINDER_CHOICES, kinds_for
from app.orgs.models import APPLICATION_KINDS
from app.payments.models import OFFLINE_METHODS
from app.payments.services import MAX_REASON, MAX_REFERENCE
from app.rules.schema import (
    APPROVERS,
    PURPOSES,
    WAIVER_CATEGORIES,
)
from app.spaces.fields import (
    MAX_ADDRESS,
    MAX_BUFFER,
    MAX_CAPACITY,
    MAX_DESCRIPTION,
    MAX_LENGTH,
    MAX_NAME,
    MAX_PRICE,
    MIN_LENGTH,
)
from app.spaces.models import (
    ACCESSIBILITY,
    AMENITIES,
    BOOKING_MODES,
    CHALLENGE_MODES,
    SPACE_TYPES,
)
from app.spaces.photos import MAX_ALT
from app.spaces.services import MAX_REASON as MAX_CLOSURE_REASON

# Bodies may hold at most this many ids (bulk decisions).
MAX_BULK = 100
# Most ids one call may mark read.
MAX_READ_IDS = 500

INSTANT_EXAMPLE = "2026-12-01T18:00:00+09:00"
WITH_OFFSET = {"description": "With a UTC offset (`Z` allowed).", "examples": [INSTANT_EXAMPLE]}

# --- Requests ------------------------------------------------------------------------------


class Body(ma.Schema):
    """A request body: fields it does not name are ignored (as they always were)."""

    class Meta:
        unknown = ma.EXCLUDE


class RequestFactsSchema(Body):
    """The rule facts of a request: purpose category, fee waiver and resident group."""

    purpose_category = Choice(
        PURPOSES,
        load_default="community",
        metadata={
            "default": "community",
            "description": "The kind of use the rules judge (community when left out).",
        },
    )
    waiver = Choice(
        WAIVER_CATEGORIES,
        metadata={"description": "A fee waiver claimed; the rules say how much it takes off."},
    )
    group_id = Integer(
        metadata={"description": "A resident group of yours to book for (group quotas)."}
    )


class BookingRequestSchema(RequestFactsSchema):
    space_id = Integer(required=True)
    start = Instant(required=True, metadata=WITH_OFFSET)
    end = Instant(required=True, metadata=WITH_OFFSET)
    purpose = Text(required=True)
    attendees = Integer(required=True)


BOOKING_REQUEST_EXAMPLE = {
    "space_id": 1,
    "start": "2026-12-01T18:00:00+09:00",
    "end": "2026-12-01T20:00:00+09:00",
    "purpose": "주민 독서 모임",
    "attendees": 12,
    "purpose_category": "community",
}


class QuoteRequestSchema(RequestFactsSchema):
    start = Instant(required=True, metadata=WITH_OFFSET)
    end = Instant(required=True, metadata=WITH_OFFSET)
    purpose = Text(metadata={"description": "Optional for a quote."})
    attendees = Integer(required=True)


QUOTE_REQUEST_EXAMPLE = {
    key: value for key, value in BOOKING_REQUEST_EXAMPLE.items() if key != "space_id"
}


class ReasonSchema(Body):
    reason = Text()


class ApproveSchema(Body):
    reason = Text()
    evidence_seen = Flag(load_default=False, metadata={
        "description": "The approver saw the evidence of a fee waiver claimed on this request "
        "(waiver_state `claimed`): the waiver is priced in. Without it, the last stage's "
        "approval keeps the full price."})


class ReturnRequestSchema(Body):
    reason = Text(required=True, metadata={"description": "What the resident should change."})


class ResubmitRequestSchema(Body):
    """A field left out keeps the request's value; `waiver` or `group_id` sent as null are
    cleared."""

    purpose = Text()
    attendees = Integer()
    purpose_category = Choice(PURPOSES)
    waiver = Choice(WAIVER_CATEGORIES)
    group_id = Integer()


class OrganisationRequestSchema(Body):
    """An application to list spaces. The evidence document is sent from the web page
    (/organisations/<id>) when a reviewer asks for it."""

    kind = Choice(APPLICATION_KINDS, required=True)
    name = Text(required=True, max_length=160, metadata={"description": "Shown to residents."})
    legal_name = Text(max_length=160,
                      metadata={"description": "As registered (the name when left out)."})
    representative = Text(required=True, max_length=80)
    contact_email = Text(required=True, max_length=254)
    contact_phone = Text(required=True, max_length=40)
    address = Text(required=True, max_length=300)
    registration_number = Text(
        max_length=20,
        metadata={"description": "사업자등록번호 (companies; optional for individuals, checked "
                  "with its check digit) or 고유번호 (nonprofits), XXX-XX-XXXXX."},
    )
    jurisdiction_ids = Ids(limit=5, metadata={
        "description": "The jurisdictions whose officers review it (found from the address "
                       "when left out)."})


ORGANISATION_REQUEST_EXAMPLE = {
    "kind": "company",
    "name": "옥상정원 공유",
    "legal_name": "(주)옥상정원",
    "representative": "김대표",
    "contact_email": "hello@rooftop.example.kr",
    "contact_phone": "02-123-4567",
    "address": "서울 강북구 도봉로 1",
    "registration_number": "124-81-00998",
}


class RejectRequestSchema(Body):
    reason = Text(required=True, max_length=2000,
                  metadata={"description": "Why; the applicant reads it."})


class InvitationRequestSchema(Body):
    email = Text(required=True, max_length=254)
    role = Choice(("manager", "principal", "staff"), required=True,
                  metadata={"description": "principal only for schools."})


class AcceptInvitationSchema(Body):
    token = Text(required=True, max_length=100,
                 metadata={"description": "The token of the emailed link."})


class EmptySchema(Body):
    """No fields; a body that is not a JSON object is still refused."""


class BulkRequestSchema(Body):
    action = Choice(("approve", "reject"), required=True)
    ids = Ids(limit=MAX_BULK, required=True)
    reason = Text(metadata={"description": "Required to reject; a note when approving."})

    @ma.validates_schema(skip_on_field_errors=False, pass_original=True)
    def _reason_to_reject(self, data, original, **kwargs):
        if data.get("action") != "reject" or (data.get("reason") or "").strip():
            return
        if "reason" in data or original.get("reason") is None:  # not when it failed already
            raise ma.ValidationError(_("Please give a reason for the rejection."), "reason")


class MarkReadSchema(Body):
    """`{"ids": [...]}` or `{"all": true}`."""

    class Meta:
        unknown = ma.RAISE

    error_messages = {"unknown": _l("Unknown field.")}
    ids = Ids(limit=MAX_READ_IDS)
    all = Field(metadata={"type": "boolean", "enum": [True]})

    @ma.validates_schema(skip_on_field_errors=False, pass_original=True)
    def _ids_or_all(self, data, original, **kwargs):
        every = original.get("all")
        if "ids" in original and every is not None:
            raise ma.ValidationError(_("Send either ids or all, not both."), "all")
        if every is not None and every is not True:
            raise ma.ValidationError(_("Send true to mark every notification read."), "all")
        if every is None and original.get("ids") is None:
            raise ma.ValidationError(_("This field is required."), "ids")


class NotificationSettingsSchema(Body):
    """Kinds left out keep their channel; the kinds and channels are those the user is offered."""

    class Meta:
        unknown = ma.RAISE

    error_messages = {"unknown": _l("Unknown field.")}
    channels = Field(
        metadata={
            "type": "object",
            "additionalProperties": {"type": "string"},
            "description": "Kind -> channel.",
        }
    )
    reminder_hours = Integer(metadata={"enum": [*REMINDER_CHOICES, None]})

    @ma.validates_schema(skip_on_field_errors=False)
    def _offered(self, data, **kwargs):
        errors: dict[str, list[str]] = {}
        channels = data.get("channels")
        offered = {spec.name: spec for spec in kinds_for(current_user.role_names)}
        if channels is not None and not isinstance(channels, dict):
            errors["channels"] = [_("Enter a JSON object of kinds and channels.")]
        for kind, channel in (channels if isinstance(channels, dict) else {}).items():
            spec = offered.get(kind)
            if spec is None:
                message = _("There is no such kind of notification.")
            elif isinstance(channel, str) and channel in spec.choices:
                continue
            elif channel == "off" and spec.mandatory:
                message = _("This notification cannot be turned off.")
            else:
                message = _("Choose one of: %(list)s.", list=", ".join(spec.choices))
            errors.setdefault(f"channels.{kind}", []).append(message)
        hours = data.get("reminder_hours")
        if hours is not None and hours not in REMINDER_CHOICES:
            errors["reminder_hours"] = [
                _("Choose one of: %(list)s.", list=", ".join(map(str, REMINDER_CHOICES)))
            ]
        if errors:
            raise ma.ValidationError(errors)


class OfflinePaymentRequestSchema(Body):
    method = Choice(OFFLINE_METHODS, required=True)
    amount = Integer(required=True)
    reference = Text(required=True, max_length=MAX_REFERENCE)


class RefundRequestSchema(Body):
    amount = Integer(required=True)
    reason = Text(required=True, max_length=MAX_REASON)
    reference = Text(max_length=MAX_REFERENCE)


class RuleSetRequestSchema(Body):
    rules = Document(required=True, metadata={"description": "The rule set document."})
    effective_from = Day(required=True)
    note = Text()


# --- Spaces of one's own organisation -----------------------------------------------------
# The fields are only read here (their JSON types); what they may hold is checked by
# `app.spaces.services` with `app.spaces.fields`, as on the manager's pages, and its messages
# come back per field. The limits below only describe them in the document.


class SpaceFieldsSchema(Body):
    """The editable fields of a space. A field this schema does not know is refused."""

    class Meta:
        unknown = ma.RAISE

    error_messages = {"unknown": _l("Unknown field.")}
    name = Text(metadata={"maxLength": MAX_NAME})
    type = Text(metadata={"enum": list(SPACE_TYPES)})
    description = Text(metadata={"maxLength": MAX_DESCRIPTION})
    capacity = Integer(metadata={"minimum": 1, "maximum": MAX_CAPACITY})
    address = Text(
        metadata={
            "maxLength": MAX_ADDRESS,
            "description": "Looked up on the map when no coordinates come with it.",
        }
    )
    latitude = Number(metadata={"minimum": -90, "maximum": 90})
    longitude = Number(metadata={"minimum": -180, "maximum": 180})
    timezone = Text(metadata={"examples": ["Asia/Seoul"], "description": "An IANA zone."})
    price_per_hour = Integer(
        metadata={
            "minimum": 0,
            "maximum": MAX_PRICE,
            "description": "Minor units (won); 0 is free, a paid space charges at least 1000.",
        }
    )
    min_minutes = Integer(metadata={"minimum": MIN_LENGTH, "maximum": MAX_LENGTH})
    max_minutes = Integer(metadata={"minimum": MIN_LENGTH, "maximum": MAX_LENGTH})
    buffer_minutes = Integer(
        metadata={"minimum": 0, "maximum": MAX_BUFFER, "description": "Kept free between bookings."}
    )
    booking_mode = Text(metadata={"enum": list(BOOKING_MODES)})
    challenge_mode = Text(
        metadata={
            "enum": list(CHALLENGE_MODES),
            "description": "When requests need a proof of work against macro programs.",
        }
    )
    published = Flag()
    amenities = Codes(metadata={"description": "Codes: " + ", ".join(AMENITIES) + "."})
    accessibility = Codes(
        metadata={"description": "Accessibility features: " + ", ".join(ACCESSIBILITY) + "."}
    )
    jurisdiction_ids = Field(
        metadata={
            "type": ["array", "null"],
            "items": {"type": "integer"},
            "description": "The jurisdictions the space lies in (their officers oversee it).",
        }
    )


class SpaceCreateSchema(SpaceFieldsSchema):
    """`organisation_id`, `name`, `type` and `capacity` are required; the others default. (Only
    `organisation_id` is required by the schema: the space's own fields are checked together,
    missing ones included, by the service.)"""

    organisation_id = Integer(
        required=True, metadata={"description": "An organisation you manage."}
    )


SPACE_CREATE_EXAMPLE = {
    "organisation_id": 1,
    "name": "번동초 다목적실",
    "type": "classroom",
    "capacity": 40,
    "address": "서울특별시 강북구 번동 123",
    "latitude": 37.6397,
    "longitude": 127.0256,
    "timezone": "Asia/Seoul",
    "price_per_hour": 10000,
    "booking_mode": "request",
    "buffer_minutes": 15,
    "min_minutes": 60,
    "max_minutes": 240,
    "amenities": ["wifi", "projector"],
    "accessibility": ["step_free_entrance", "lift"],
    "published": False,
}


class OpeningHoursRequestSchema(Body):
    hours = OpeningRanges(
        required=True,
        metadata={"description": "Every opening range of the week; a weekday without one is "
                  "closed. Ranges of a day must not overlap (touching is fine)."},
    )


class ClosureRequestSchema(Body):
    start = Instant(required=True, metadata=WITH_OFFSET)
    end = Instant(required=True, metadata=WITH_OFFSET)
    reason = Text(
        metadata={"maxLength": MAX_CLOSURE_REASON, "description": "Shown to residents."}
    )


class PhotoUploadSchema(Body):
    """A multipart form: the picture and its description."""

    file = Upload(metadata={"description": "JPEG, PNG or WebP, at most 10 MB and 40 megapixels."})
    alt = Text(
        metadata={"maxLength": MAX_ALT, "description": "For people who cannot see the photo."}
    )


class PhotoAltSchema(Body):
    alt = Text(required=True, metadata={"maxLength": MAX_ALT})


class PhotoOrderSchema(Body):
    ids = Field(
        required=True,
        metadata={
            "type": "array",
            "items": {"type": "integer"},
            "description": "Every photo of the space, once each, in the new order.",
        },
    )


# --- Query strings -------------------------------------------------------------------------


class Query(ma.Schema):
    class Meta:
        unknown = ma.EXCLUDE


class PagedQuery(Query):
    page = QueryInt(low=1, high=100000, load_default=1)
    per_page = QueryInt(
        low=1,
        high=lambda: current_app.config["API_MAX_PER_PAGE"],
        load_default=lambda: current_app.config["SEARCH_PER_PAGE"],
    )


class DatesQuery(Query):
    first = QueryDate(data_key="from", metadata={"description": "First day."})
    last = QueryDate(data_key="to", metadata={"description": "Last day (included)."})


class BookingListQuery(PagedQuery):
    scope = QueryChoice(
        ("mine", "managed"),
        load_default="mine",
        message=_l("Choose mine or managed."),
        metadata={"description": "`managed`: bookings of spaces of my organisations (managers)."},
    )
    status = QueryList(
        STATUS_LABELS,
        load_default=list,
        unknown_message=lambda names: _("Unknown status: %(name)s.", name=names),
        metadata={"examples": ["requested,approved"]},
    )


class ApprovalQuery(PagedQuery, DatesQuery):
    space = QueryInt(low=1, high=MAX_INT, metadata={"description": "Only this space."})
    approver = QueryChoice(APPROVERS, metadata={"description": "Only stages of this approver."})
    purpose = QueryChoice(PURPOSES, metadata={"description": "Only this purpose category."})
    sort = QueryChoice(SORTS, load_default="requested")
    overdue = QueryChoice(("0", "1"), metadata={"description": "1: only overdue stages."})

    @ma.validates_schema(skip_on_field_errors=False)
    def _ordered(self, data, **kwargs):
        first, last = data.get("first"), data.get("last")
        if first and last and last < first:
            raise ma.ValidationError(_("The end date must not be before the start date."), "to")


class NotificationQuery(PagedQuery):
    unread = QueryFlag(
        load_default=False, metadata={"description": "`true`: only notifications not read yet."}
    )


class PayoutQuery(DatesQuery):
    page = QueryInt(low=1, high=100000, load_default=1)



class SpaceSearchQuery(Query):
    """The search of `app.bookings.search` (shared with the search page), which reads the query
    string itself; the times must have a UTC offset here."""

    q = QueryField(
        metadata={
            "type": "string",
            "description": "Words in the name, description, address or owner.",
        }
    )
    type = QueryField(
        metadata={"type": "string", "enum": list(SPACE_TYPES), "description": "Space type."}
    )
    min_capacity = QueryField(
        metadata={"type": "integer", "minimum": 1, "description": "At least this many people."}
    )
    free_only = QueryField(
        metadata={
            "type": "boolean",
            "default": False,
            "description": "Only spaces that cost nothing to book.",
        }
    )
    amenities = QueryField(
        metadata={
            "type": "string",
            "description": "Comma-separated amenity codes; all are required. One of: "
            + ", ".join(AMENITIES)
            + ".",
        }
    )
    district = QueryField(
        metadata={
            "type": "string",
            "description": "Jurisdiction slug; includes the jurisdictions inside it.",
        }
    )
    near = QueryField(
        metadata={
            "type": "string",
            "examples": ["37.6397,127.0256"],
            "description": "latitude,longitude; results are sorted by distance.",
        }
    )
    radius_km = QueryField(
        metadata={
            "type": "number",
            "exclusiveMinimum": 0,
            "maximum": 100,
            "default": 5,
            "description": "Radius around `near`.",
        }
    )
    free_from = QueryInstant(
        metadata={
            "description": "With `free_to`: only spaces open and free for the whole time. "
            "With a UTC offset."
        }
    )
    free_to = QueryInstant(
        metadata={"description": "End of the time needed (at most 14 days after `free_from`)."}
    )
    page = QueryField(metadata={"type": "integer"})  # documented as the shared parameters
    per_page = QueryField(metadata={"type": "integer"})


