"""Space search, shared by the search page and `GET /api/v1/spaces`.

Filters that SQL answers well (text, type, capacity, amenities and accessibility features,
district, bounding box, bookings and closures in the way) run in the database; the two that
need exact geometry or wall-clock hours (great-circle distance, opening hours covering a
requested time) run in Python on the narrowed candidate list, which holds ids and coordinates
only. A page then loads its spaces with their owner, jurisdictions and amenities eagerly: a
bounded number of queries whatever the data size.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from flask_babel import gettext as _
from geopy.distance import distance as geo_distance
from sqlalchemy import and_, exists, or_, select
from sqlalchemy.orm import selectinload

from app.bookings.models import Booking
from app.bookings.query_words import Understood, dong_condition, understand
from app.bookings.states import ACTIVE
from app.db import PageLinks, utcnow
from app.errors import ValidationFailed
from app.extensions import db
from app.orgs.models import Jurisdiction, Organisation, jurisdiction_tree, with_descendants
from app.orgs.states import OrgStatus
from app.spaces.availability import WeeklyHours, is_slot_free
from app.spaces.models import (
    ACCESSIBILITY,
    AMENITIES,
    SPACE_TYPES,
    Closure,
    OpeningHours,
    Space,
    SpaceAmenity,
    space_jurisdictions,
)

MAX_RADIUS_KM = 100.0
MAX_FREE_WINDOW = timedelta(days=14)
# The amenity that accessibility features replaced (migration 0017): read as a step-free entrance.
LEGACY_WHEELCHAIR = "wheelchair_access"


@dataclass
class SearchParams:
    q: str | None = None
    type: str | None = None
    min_capacity: int | None = None
    free_only: bool = False  # free of charge (price 0)
    amenities: tuple[str, ...] = ()
    accessibility: tuple[str, ...] = ()  # every one of these accessibility features
    district: str | None = None  # jurisdiction slug; includes the jurisdictions below it
    near: tuple[float, float] | None = None
    radius_km: float = 5.0
    free_from: datetime | None = None
    free_to: datetime | None = None
    page: int = 1
    per_page: int = 20


@dataclass
class SearchResult(PageLinks):
    items: list[Space]
    total: int
    page: int
    per_page: int
    distances: dict[int, float] = field(default_factory=dict)  # km, when `near` was given
    center: tuple[float, float] | None = None  # the point searched around
    understood: Understood | None = None  # how the words were read
    place: str | None = None  # the place the words named, searched around ("미아역")
    place_failed: str | None = None  # words looked up as a place without success

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.per_page))


def _parse_datetime(value: str, field_name: str, errors, default_zone) -> datetime | None:
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        errors.setdefault(field_name, []).append(
            _("Enter a date and time such as 2026-12-01T18:00+09:00.")
        )
        return None
    if not 2000 <= parsed.year <= 2200:
        errors.setdefault(field_name, []).append(_("The time is out of range."))
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=default_zone)  # a wall-clock time in Seoul by default
    return parsed


def parse_search_args(
    args: Mapping[str, str], *, per_page_default: int = 20, per_page_max: int = 100
) -> SearchParams:
    """Turn query-string arguments into SearchParams, or raise ValidationFailed per field.

    Accepts `near=lat,lon` or `lat`/`lon`, `amenities` as a comma list or repeated argument,
    and `free_from`/`free_to` as ISO 8601 (with offset, or wall-clock time in Asia/Seoul), or
    `date` + `from_time` + `to_time` as the search form sends them.
    """
    seoul = ZoneInfo("Asia/Seoul")
    errors: dict[str | None, list[str]] = {}
    params = SearchParams(per_page=per_page_default)

    def err(name: str, message: str) -> None:
        errors.setdefault(name, []).append(message)

    params.q = (args.get("q") or "").strip()[:200] or None
    kind = (args.get("type") or "").strip()
    if kind:
        if kind not in SPACE_TYPES:
            err("type", _("Unknown space type."))
        params.type = kind
    params.district = (args.get("district") or "").strip() or None

    def integer(name: str, low: int, high: int) -> int | None:
        raw = (args.get(name) or "").strip()
        if not raw:
            return None
        try:
            value = int(raw)
        except ValueError:
            err(name, _("Enter a whole number."))
            return None
        if not low <= value <= high:
            err(name, _("Enter a number from %(low)d to %(high)d.", low=low, high=high))
            return None
        return value

    params.min_capacity = integer("min_capacity", 1, 100000)
    free_only = (args.get("free_only") or "").strip().lower()
    if free_only in ("1", "true", "yes", "on"):
        params.free_only = True
    elif free_only not in ("", "0", "false", "no", "off"):
        err("free_only", _("Free only must be true or false."))
    params.page = integer("page", 1, 100000) or 1
    params.per_page = integer("per_page", 1, per_page_max) or per_page_default

    def codes(name: str) -> list[str]:
        getlist = getattr(args, "getlist", None)
        values = getlist(name) if getlist else [args.get(name) or ""]
        return [c.strip() for value in values for c in (value or "").split(",") if c.strip()]

    raw_amenities = codes("amenities")
    raw_access = codes("accessibility")
    # Links and API clients from before accessibility had its own filter.
    if LEGACY_WHEELCHAIR in raw_amenities:
        raw_amenities.remove(LEGACY_WHEELCHAIR)
        raw_access.append("step_free_entrance")
    unknown = [a for a in raw_amenities if a not in AMENITIES]
    if unknown:
        err("amenities", _("Unknown amenity: %(name)s.", name=", ".join(unknown)))
    params.amenities = tuple(sorted(set(raw_amenities) - set(unknown)))
    unknown = [a for a in raw_access if a not in ACCESSIBILITY]
    if unknown:
        err("accessibility",
            _("Unknown accessibility feature: %(name)s.", name=", ".join(unknown)))
    params.accessibility = tuple(sorted(set(raw_access) - set(unknown)))

    near = (args.get("near") or "").strip()
    lat_raw, lon_raw = (args.get("lat") or "").strip(), (args.get("lon") or "").strip()
    if near or lat_raw or lon_raw:
        if near:
            lat_raw, _sep, lon_raw = near.partition(",")
        try:
            lat, lon = float(lat_raw), float(lon_raw)
            if not (-90 <= lat <= 90 and -180 <= lon <= 180) or math.isnan(lat + lon):
                raise ValueError
            params.near = (lat, lon)
        except ValueError:
            err("near", _("Give the point as latitude,longitude, e.g. 37.6397,127.0256."))
    radius = (args.get("radius_km") or "").strip()
    if radius:
        try:
            params.radius_km = float(radius)
            if not 0 < params.radius_km <= MAX_RADIUS_KM or math.isnan(params.radius_km):
                raise ValueError
        except ValueError:
            err("radius_km", _("The radius must be between 0 and %(n)d km.", n=MAX_RADIUS_KM))

    free_from = (args.get("free_from") or "").strip()
    free_to = (args.get("free_to") or "").strip()
    day = (args.get("date") or "").strip()
    if day and not (free_from or free_to):
        t_from = (args.get("from_time") or "").strip() or "00:00"
        t_to = (args.get("to_time") or "").strip() or "24:00"
        free_from, free_to = f"{day}T{t_from}", f"{day}T{t_to}"
        if t_to == "24:00":
            free_to = f"{day}T23:59:59"
    if free_from or free_to:
        if not (free_from and free_to):
            err("free_to", _("Give both the start and the end of the time you need."))
        else:
            start = _parse_datetime(free_from, "free_from", errors, seoul)
            end = _parse_datetime(free_to, "free_to", errors, seoul)
            if start and end:
                if end <= start:
                    err("free_to", _("The end must be after the start."))
                elif end - start > MAX_FREE_WINDOW:
                    err("free_to", _("Search at most 14 days at a time."))
                else:
                    params.free_from, params.free_to = start, end
    if errors:
        raise ValidationFailed(errors)
    return params


def _bounding_box(lat: float, lon: float, radius_km: float) -> tuple[float, float, float, float]:
    dlat = radius_km / 111.0
    dlon = radius_km / (111.320 * max(math.cos(math.radians(lat)), 0.01))
    return lat - dlat, lat + dlat, lon - dlon, lon + dlon


def _plain(word: str) -> str:
    """A word with LIKE's wildcards taken out."""
    return word.replace("%", "").replace("_", "")


def _word_conditions(understood: Understood) -> list:
    """The WHERE conditions of the words of a query (see app.bookings.query_words)."""
    conditions = []
    for word in understood.words:
        like = f"%{_plain(word)}%"
        conditions.append(
            or_(
                Space.name.ilike(like),
                Space.description.ilike(like),
                Space.address.ilike(like),
                Space.owner.has(Organisation.name.ilike(like)),
            )
        )
    if understood.types:
        # A type word also finds a space that names it ("강당 겸 체육관" under auditorium).
        conditions.append(
            or_(
                Space.type.in_(understood.types),
                *(Space.name.ilike(f"%{_plain(w)}%") for w in understood.type_names),
            )
        )
    if understood.jurisdictions:
        conditions.append(
            or_(
                exists().where(
                    space_jurisdictions.c.space_id == Space.id,
                    space_jurisdictions.c.jurisdiction_id.in_(understood.jurisdiction_ids),
                ),
                *(Space.address.like(f"%{_plain(j.name)}%") for j in understood.jurisdictions),
            )
        )
    if understood.dongs:
        conditions.append(or_(*(dong_condition(d) for d in understood.dongs)))
    return conditions


def _base_query(params: SearchParams, understood: Understood):
    # Spaces of a suspended organisation leave search until it is reinstated.
    query = select(Space.id, Space.latitude, Space.longitude).where(
        Space.published.is_(True),
        Space.owner_id.in_(select(Organisation.id).where(Organisation.status == OrgStatus.ACTIVE)),
    )
    query = query.where(*_word_conditions(understood))
    if params.type:
        query = query.where(Space.type == params.type)
    if params.min_capacity:
        query = query.where(Space.capacity >= params.min_capacity)
    if params.free_only:
        query = query.where(Space.price_per_hour == 0)
    for code in params.amenities + params.accessibility:
        query = query.where(
            exists().where(SpaceAmenity.space_id == Space.id, SpaceAmenity.code == code)
        )
    if params.district:
        root = db.session.scalars(
            select(Jurisdiction.id).where(Jurisdiction.slug == params.district)
        ).first()
        ids = with_descendants({root}, jurisdiction_tree()) if root else {-1}
        query = query.where(
            exists().where(
                space_jurisdictions.c.space_id == Space.id,
                space_jurisdictions.c.jurisdiction_id.in_(ids),
            )
        )
    if params.near:
        lat_min, lat_max, lon_min, lon_max = _bounding_box(*params.near, params.radius_km)
        query = query.where(
            Space.latitude.between(lat_min, lat_max), Space.longitude.between(lon_min, lon_max)
        )
    if params.free_from and params.free_to:
        start, end = params.free_from, params.free_to
        query = query.where(
            ~exists().where(
                Closure.space_id == Space.id, Closure.start_at < end, Closure.end_at > start
            ),
            # A wide prefilter on the hold range; the exact check with buffers follows in Python.
            ~exists().where(
                Booking.space_id == Space.id,
                Booking.status.in_(ACTIVE),
                and_(Booking.start_at < end, Booking.end_at > start),
            ),
        )
    return query


def _open_for(candidates: list[int], start: datetime, end: datetime) -> set[int]:
    """Ids among `candidates` whose opening hours cover [start, end), buffers included."""
    if not candidates:
        return set()
    rows = db.session.execute(
        select(
            OpeningHours.space_id,
            OpeningHours.weekday,
            OpeningHours.open_minute,
            OpeningHours.close_minute,
        ).where(OpeningHours.space_id.in_(candidates))
    ).all()
    meta = db.session.execute(
        select(Space.id, Space.timezone, Space.buffer_minutes).where(Space.id.in_(candidates))
    ).all()
    hours: dict[int, list[WeeklyHours]] = {}
    for r in rows:
        hours.setdefault(r.space_id, []).append(
            WeeklyHours(r.weekday, r.open_minute, r.close_minute)
        )
    # Bookings near the window, to honour each space's buffer exactly.
    near = db.session.execute(
        select(Booking.space_id, Booking.start_at, Booking.end_at).where(
            Booking.space_id.in_(candidates),
            Booking.status.in_(ACTIVE),
            Booking.hold_start < end + timedelta(days=1),
            Booking.hold_end > start - timedelta(days=1),
        )
    ).all()
    by_space: dict[int, list[tuple[datetime, datetime]]] = {}
    for b in near:
        by_space.setdefault(b.space_id, []).append((b.start_at, b.end_at))
    return {
        m.id
        for m in meta
        if is_slot_free(
            hours=hours.get(m.id, []),
            zone=ZoneInfo(m.timezone),
            start=start,
            end=end,
            bookings=by_space.get(m.id, []),
            buffer_minutes=m.buffer_minutes,
        )
    }


def search_spaces(
    params: SearchParams,
    *,
    now: datetime | None = None,
    geocode: Callable[[str], tuple[float, float] | None] | None = None,
) -> SearchResult:
    """Run a search; a bounded number of queries whatever the number of spaces.

    With `geocode`, words that name no jurisdiction or 동 may be a place ("미아역"): a station
    word is looked up at once, other words when they match no space's text; found, the search
    runs around the point, nearest first; not found (or the geocoder failing), the text
    results stand with `place_failed` set.
    """
    now = now or utcnow()
    understood = understand(params.q) if params.q else Understood()
    if geocode is None or params.near or not understood.words or understood.names_a_place:
        return _run(params, understood, now)
    result = None
    if not understood.looks_like_station:
        result = _run(params, understood, now)
        if result.total:
            return result
    text = understood.place_text
    point = geocode(text)
    if point is None:
        result = result or _run(params, understood, now)
        result.place_failed = text
        return result
    result = _run(replace(params, near=point), replace(understood, words=[]), now)
    result.place = text
    return result


def _run(params: SearchParams, understood: Understood, now: datetime) -> SearchResult:
    rows = db.session.execute(
        _base_query(params, understood).order_by(Space.name, Space.id)
    ).all()
    ids = [r.id for r in rows]
    distances: dict[int, float] = {}
    if params.near:
        for r in rows:
            if r.latitude is None or r.longitude is None:
                continue
            km = geo_distance(params.near, (r.latitude, r.longitude)).km
            if km <= params.radius_km:
                distances[r.id] = round(km, 2)
        ids = sorted(distances, key=lambda i: (distances[i], i))
    if params.free_from and params.free_to:
        if params.free_from < now:
            ids = []
        else:
            open_ids = _open_for(ids, params.free_from, params.free_to)
            ids = [i for i in ids if i in open_ids]
    total = len(ids)
    page_ids = ids[(params.page - 1) * params.per_page : params.page * params.per_page]
    items: list[Space] = []
    if page_ids:
        loaded = db.session.scalars(
            select(Space)
            .where(Space.id.in_(page_ids))
            .options(
                selectinload(Space.owner),
                selectinload(Space.jurisdictions),
                selectinload(Space.amenity_rows),
                selectinload(Space.cover),
            )
        ).all()
        order = {sid: n for n, sid in enumerate(page_ids)}
        items = sorted(loaded, key=lambda s: order[s.id])
    return SearchResult(
        items=items,
        total=total,
        page=params.page,
        per_page=params.per_page,
        distances={i: distances[i] for i in page_ids if i in distances},
        center=params.near,
        understood=understood,
    )

