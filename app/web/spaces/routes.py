"""Resident pages of spaces: search, the space page with its week calendar, the request form."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_babel import LazyString, ngettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm import selectinload

# A module reference, not names: the booking models import this package (through
# app.spaces.models), so app.bookings.services may still be loading when this module runs.
from app import access
from app.accounts.groups import user_groups
from app.accounts.services import unverified_message
from app.bookings import judging, waivers
from app.bookings import series as series_services
from app.bookings import services as booking_services
from app.bookings.search import parse_search_args, search_spaces
from app.bookings.slots import Problem, SlotJudge, SlotVerdict
from app.bookings.states import BookingStatus
from app.db import utcnow
from app.errors import (
    DomainError,
    EmailUnverified,
    NotAllowed,
    RuleViolation,
    SlotTaken,
    ValidationFailed,
)
from app.extensions import db
from app.geo import cached_place, geocode_place
from app.orgs.models import Jurisdiction
from app.payments import gateway
from app.rules import services as rule_services
from app.rules.messages import summary as rule_summary
from app.security import challenge, limits
from app.spaces import surge
from app.spaces.availability import WeeklyHours, local_instant, week_window
from app.spaces.calendar import WeekGrid, build_week_grid, default_week_day
from app.spaces.fields import parse_clock
from app.spaces.models import (
    ACCESSIBILITY,
    AMENITIES,
    BOOKING_MODES,
    SPACE_TYPES,
    WEEKDAYS,
    Closure,
    Space,
)
from app.web.helpers import required
from app.web.payments.routes import start_checkout
from app.web.spaces import bp
from app.web.spaces.forms import BookingRequestForm
from app.web.spaces.summary import booking_summary

# How far from today the calendar may be moved; farther weeks fall back to this week.
CALENDAR_RANGE = timedelta(days=2 * 366)
UPCOMING_CLOSURES = 10


def load_space(space_id: int) -> Space:
    """The space with what its pages show, or 404 if it does not exist or is not visible."""
    return access.load(Space, space_id, "can_view", visible=None, options=(
        selectinload(Space.owner),
        selectinload(Space.jurisdictions),
        selectinload(Space.amenity_rows),
        selectinload(Space.opening_hours),
    ))


def jurisdiction_options() -> list[tuple[str, str]]:
    """(slug, label) of every jurisdiction, each followed by the ones nested below it."""
    rows = db.session.scalars(select(Jurisdiction).order_by(Jurisdiction.name)).all()
    children: dict[int | None, list[Jurisdiction]] = {}
    for j in rows:
        children.setdefault(j.parent_id, []).append(j)
    known = {j.id for j in rows}
    options: list[tuple[str, str]] = []

    def walk(parent_id: int | None, depth: int) -> None:
        for j in children.get(parent_id, []):
            options.append((j.slug, "\u00a0\u00a0" * depth + j.display_name))
            walk(j.id, depth + 1)

    walk(None, 0)
    for j in rows:  # orphans of a broken tree still get listed
        if j.parent_id is not None and j.parent_id not in known:
            options.append((j.slug, j.display_name))
    return options


@bp.get("/", strict_slashes=False)
def search():
    # Imported here for the same reason as booking_services: search needs the booking models.

    errors: dict[str | None, list[str]] = {}
    result = params = None
    args = request.args
    try:
        params = parse_search_args(args, per_page_default=current_app.config["SEARCH_PER_PAGE"])
    except ValidationFailed as exc:
        errors = exc.errors
    else:
        if (args.get("from_time") or args.get("to_time")) and not args.get("date"):
            errors = {"date": [_("Choose the date of the time you need.")]}
        else:
            geocoding = current_app.config.get("GEOCODER", "none") != "none"
            result = search_spaces(params, geocode=_geocode_place if geocoding else None)
    view = "map" if args.get("view") == "map" else "list"
    verdicts, links = _searched_time(result, params)
    return render_template(
        "spaces/search.html",
        result=result,
        verdicts=verdicts,
        result_links=links,
        errors=errors,
        view=view,
        types=SPACE_TYPES,
        amenities=AMENITIES,
        access_labels=ACCESSIBILITY,
        jurisdictions=jurisdiction_options(),
        map_data=_map_data(result, params, links)
        if result is not None and view == "map"
        else None,
        filters_used=_used(args, FILTERS),
        more_used=_used(args, MORE_FILTERS),
    )


# The search form's filters folded under "Filters" (and "More filters"), counted on the toggle.
MORE_FILTERS = ("amenities", "radius_km", "date", "from_time", "to_time")
FILTERS = ("type", "min_capacity", "free_only", "district", "accessibility", *MORE_FILTERS)


def _used(args, names: tuple[str, ...]) -> int:
    return sum(1 for name in names if any(v.strip() for v in args.getlist(name)))


def _geocode_place(text: str) -> tuple[float, float] | None:
    """A place named in a search, through the configured geocoder, within the rate limit."""
    known, point = cached_place(text)
    if known:
        return point
    if not limits.allow_geocoding():
        return None
    return geocode_place(text)


def _searched_time(result, params) -> tuple[dict[int, SlotVerdict], dict[int, dict]]:
    """For a search with a time: each result's verdict on that time for the viewer (as the
    space's calendar would judge it), and the arguments that carry the date, the times and the
    headcount into the space's page. Two queries whatever the number of results: the tree and
    the rule sets of the page's spaces. Quota usage is left to the space's page and the form."""
    if result is None or params is None or not (params.free_from and params.free_to):
        return {}, {}
    now = utcnow()
    tree = rule_services.jurisdictions_by_id()
    found = rule_services.rule_sets_in_force_for_spaces(result.items, now, tree=tree)
    verdicts, links = {}, {}
    for space in result.items:
        judge = SlotJudge(space, current_user, now=now, attendees=params.min_capacity or 1,
                          max_days_ahead=booking_services.MAX_DAYS_AHEAD, tree=tree,
                          found=found[space.id], usage=False)
        # The search returns only spaces free for the whole time: the rules decide the rest.
        verdicts[space.id] = judge.judge(params.free_from, params.free_to)
        start = params.free_from.astimezone(space.zone)
        links[space.id] = Wanted(start.date(), params.free_from, params.free_to,
                                 params.min_capacity).link_args(space.zone)
    return verdicts, links


def _map_data(result, params, links: dict[int, dict] | None = None) -> dict:
    markers = [
        {
            "lat": s.latitude,
            "lon": s.longitude,
            "name": s.name,
            "url": url_for("spaces.detail", space_id=s.id, **(links or {}).get(s.id, {})),
            "meta": f"{s.type_label} · {s.owner.name}",
            "image": cover_image(s),
        }
        for s in result.items
        if s.latitude is not None and s.longitude is not None
    ]
    data = _tile_config()
    data["markers"] = markers
    if result.center:
        data["center"] = list(result.center)
        data["radius_km"] = params.radius_km
    return data


def cover_image(space: Space) -> dict:
    """The attributes of the <img> a map popup shows: the space's cover (JPEG, which every
    browser reads, at each stored width) or the placeholder of its type."""
    photo = space.cover
    if photo is None:
        return {
            "src": url_for("static", filename=f"img/placeholders/{space.type}.svg"),
            "width": 480,
            "height": 320,
            "alt": "",
        }
    jpegs = [(w, jpg) for w, _h, _webp, jpg in photo.renditions()]
    return {
        "src": url_for("media.file", key=jpegs[0][1]),
        "srcset": ", ".join(f"{url_for('media.file', key=key)} {w}w" for w, key in jpegs),
        "sizes": "12rem",
        "width": photo.width,
        "height": photo.height,
        "alt": photo.alt,
    }


def _tile_config() -> dict:
    return {
        "tile_url": current_app.config.get("MAP_TILE_URL") or "",
        "attribution": current_app.config.get("MAP_TILE_ATTRIBUTION") or "",
    }


def _week_day(value: str | None, today: date) -> date:
    """The date a `?week=` argument names, or today for anything unusable."""
    try:
        day = date.fromisoformat((value or "").strip())
    except ValueError:
        return today
    if abs(day - today) > CALENDAR_RANGE:
        return today
    return day


def calendar_rows(
    grid: WeekGrid,
    space: Space,
    judge: SlotJudge | None = None,
    *,
    closures: Sequence[Closure] = (),
    manages: bool = False,
    chosen: tuple[datetime, datetime] | None = None,
    people: int | None = None,
) -> list[dict]:
    """The grid as template rows: local ISO times for the cells, request links for free ones.

    With a `judge`, every free cell is judged by the rules for the viewer: one the rules refuse
    becomes "refused" with the reason, one in a lottery window is marked as such. Cells inside a
    closure say so (with the reason the viewer may read); cells inside `chosen` are preselected.

    A row whose wall-clock time does not exist on a day (the hour the clocks skip) is shown
    as closed on that day, without times: the grid maps it onto the next hour's instants.
    """
    zone = space.zone
    length = (
        judge.slot_length(grid.slot_minutes)
        if judge is not None
        else timedelta(minutes=max(space.min_minutes, grid.slot_minutes))
    )
    rows = []
    for row in grid.rows:
        cells = []
        for cell in row.cells:
            local_start = cell.start.astimezone(zone)
            if f"{local_start:%H:%M}" != row.label:
                cells.append({"state": "closed", "skipped": True})
                continue
            state = cell.state
            start_iso = local_start.isoformat()
            link = reason = short = None
            lottery = False
            closure = next(
                (c for c in closures if c.start_at < cell.end and cell.start < c.end_at), None
            )
            if closure is not None and state in ("busy", "closed"):
                state = "closure"
                short = _("Closed")
                reason = closure.reason_for(manages) or None
            if state == "free":
                slot_end = cell.start.astimezone(UTC) + length
                verdict = judge.judge(cell.start, slot_end) if judge is not None else None
                if verdict is not None and not verdict.ok:
                    state, short, reason = "refused", verdict.short, verdict.text
                else:
                    lottery = bool(verdict and verdict.lottery)
                    link = url_for(
                        "spaces.book",
                        space_id=space.id,
                        start=start_iso,
                        end=slot_end.astimezone(zone).isoformat(),
                        people=people,
                    )
            cells.append(
                {
                    "state": state,
                    "start": start_iso,
                    "end": cell.end.astimezone(zone).isoformat(),
                    "day": local_start.date().isoformat(),
                    "link": link,
                    "lottery": lottery,
                    "short": short,
                    "reason": reason,
                    "chosen": chosen is not None
                    and chosen[0] <= cell.start
                    and cell.end <= chosen[1],
                }
            )
        rows.append({"label": row.label, "cells": cells})
    return rows


def weekly_hours(space: Space) -> list[tuple[str, list[str]]]:
    """(weekday name, ["09:00–12:00", ...]) for Monday to Sunday; an empty list means closed."""
    by_day: dict[int, list[str]] = {d: [] for d in range(7)}
    for h in space.opening_hours:
        by_day[h.weekday].append(h.label)
    return [(str(WEEKDAYS[d]), by_day[d]) for d in range(7)]


def _chosen_photo(photos: list, photo_id: int | None):
    """The photo the gallery shows large: the one asked for (the thumbnails are links, so the
    gallery works without JavaScript), else the cover."""
    for photo in photos:
        if photo.id == photo_id:
            return photo
    return next((p for p in photos if p.is_cover), photos[0] if photos else None)


@dataclass(frozen=True)
class Wanted:
    """The date, time and headcount a search carried to the space's page (all optional)."""

    day: date | None = None
    start: datetime | None = None
    end: datetime | None = None
    people: int | None = None

    def link_args(self, zone: ZoneInfo) -> dict:
        """The same values as query arguments, for links that carry them on."""
        out: dict = {}
        if self.day is not None:
            out["date"] = self.day.isoformat()
        if self.start is not None and self.end is not None:
            out["start"] = f"{self.start.astimezone(zone):%H:%M}"
            end = self.end.astimezone(zone)
            out["end"] = "24:00" if end.date() != self.start.astimezone(zone).date() else (
                f"{end:%H:%M}")
        if self.people is not None:
            out["people"] = self.people
        return out


def wanted_from(args, zone: ZoneInfo, today: date) -> Wanted:
    """`date`, `start`, `end` (HH:MM) and `people` from a search; anything unusable is dropped."""
    day = _week_day(args.get("date"), today) if args.get("date") else None
    if day is not None and day.isoformat() != (args.get("date") or "").strip():
        day = None  # unusable, or too far: not the date asked for
    start = end = None
    if day is not None:
        lo, hi = parse_clock(args.get("start")), parse_clock(args.get("end"))
        if lo is not None and hi is not None and (hi or 24 * 60) > lo:
            start = local_instant(day, lo, zone)
            end = local_instant(day, hi or 24 * 60, zone)
    people = args.get("people", type=int)
    if people is not None and not 1 <= people <= MAX_PEOPLE:
        people = None
    return Wanted(day, start, end, people)


MAX_PEOPLE = 100000


def slot_judge(space: Space, now: datetime, people: int | None = None) -> SlotJudge:
    return SlotJudge(space, current_user, now=now, attendees=people or 1,
                     max_days_ahead=booking_services.MAX_DAYS_AHEAD)


@bp.get("/<int:space_id>")
def detail(space_id: int):
    space = load_space(space_id)
    now = utcnow()
    zone = space.zone
    today = now.astimezone(zone).date()
    wanted = wanted_from(request.args, zone, today)
    week_arg = request.args.get("week") or (wanted.day.isoformat() if wanted.day else None)
    monday, week_start, week_end = week_window(_week_day(week_arg, default_week_day(today)), zone)
    hours = [WeeklyHours(h.weekday, h.open_minute, h.close_minute) for h in space.opening_hours]
    availability = booking_services.space_availability(space, week_start, week_end, now=now)
    grid = build_week_grid(
        monday=monday,
        zone=zone,
        availability=availability,
        hours=hours,
        now=now,
        slot_minutes=current_app.config["CALENDAR_SLOT_MINUTES"],
    )
    closures = db.session.scalars(
        select(Closure)
        .where(Closure.space_id == space.id, Closure.end_at > now)
        .order_by(Closure.start_at)
        .limit(UPCOMING_CLOSURES)
    ).all()
    week_closures = db.session.scalars(
        select(Closure).where(
            Closure.space_id == space.id,
            Closure.start_at < week_end,
            Closure.end_at > week_start,
        )
    ).all()
    map_data = None
    if space.latitude is not None and space.longitude is not None:
        map_data = _tile_config() | {
            "zoom": 16,
            "markers": [{"lat": space.latitude, "lon": space.longitude, "name": space.name}],
        }
    judge = slot_judge(space, now, wanted.people)
    effective = judge.effective
    manages = space.can_manage(current_user)
    chosen = (wanted.start, wanted.end) if wanted.start and wanted.end else None
    chosen_verdict = None
    if chosen is not None:
        # The chosen day lies in the week shown, so the week's availability answers for it.
        chosen_verdict = _verdict_for(space, judge, chosen[0], chosen[1], now,
                                      availability if week_start <= chosen[0] < week_end else None)
    photos = space.photos
    shown = _chosen_photo(photos, request.args.get("photo", type=int))
    return render_template(
        "spaces/detail.html",
        space=space,
        photos=photos,
        shown=shown,
        effective=effective,
        rules_summary=rule_summary(effective),
        grid=grid,
        rows=calendar_rows(grid, space, judge, closures=week_closures, manages=manages,
                           chosen=chosen, people=wanted.people),
        day_names=[str(WEEKDAYS[d.weekday()]) for d in grid.days],
        today=today,
        this_week=monday <= today < monday + timedelta(days=7),
        closures=closures,
        manages=manages,
        weekly_hours=weekly_hours(space),
        amenity_labels=AMENITIES,
        access_labels=ACCESSIBILITY,
        booking_modes=BOOKING_MODES,
        map_data=map_data,
        personal=judge.personal,
        wanted=wanted,
        carry=wanted.link_args(zone),
        chosen_verdict=chosen_verdict,
        chosen_link=url_for(
            "spaces.book", space_id=space.id, start=chosen[0].astimezone(zone).isoformat(),
            end=chosen[1].astimezone(zone).isoformat(), people=wanted.people,
        ) if chosen is not None else None,
    )


def _verdict_for(space: Space, judge: SlotJudge, start: datetime, end: datetime,
                 now: datetime, availability=None) -> SlotVerdict:
    """The verdict on a whole chosen time: the rules, plus whether it is open and free."""
    verdict = judge.judge(start, end)
    if availability is None:
        availability = booking_services.space_availability(space, start, end, now=now)
    if not availability.is_free(start, end):
        taken = Problem("taken", _("Not free"), _("The space is not free for the whole time."))
        verdict = SlotVerdict((taken, *verdict.problems), verdict.mode, verdict.draw_at,
                              verdict.total)
    return verdict


@bp.route("/<int:space_id>/book", methods=["GET", "POST"])
@login_required
@limits.booking_per_account
@limits.booking_per_ip
def book(space_id: int):
    space = load_space(space_id)
    zone = space.zone
    form = BookingRequestForm()
    form.set_groups(user_groups(current_user))
    form.weekdays.choices = [(i, str(WEEKDAYS[i])) for i in range(7)]
    if request.method == "GET":
        form.prefill(request.args.get("start"), request.args.get("end"), zone)
        people = request.args.get("people", type=int)
        if people is not None and 1 <= people <= MAX_PEOPLE:
            form.attendees.data = people
    start = end = None
    status = 200
    slot_taken = False
    series_plan = None
    checking = "check" in request.form
    if form.is_submitted():
        fields_ok = form.validate()
        start, end = form.instants(zone)
        status = 200 if checking and fields_ok else 422
        if not checking and current_user.email_verified_at is None:
            # Nothing is sent; the page says why, with the button for a new link.
            form.form_errors.append(unverified_message())
            fields_ok, status = False, 403
        elif not checking and _refused_before_sending(space, form):
            fields_ok = False  # nothing is sent
        if fields_ok and form.repeat.data and start is not None and end is not None:
            outcome = _series_request(space, form, checking)
            if not isinstance(outcome, tuple):
                return outcome  # sent: on to the series page
            series_plan, status = outcome
        elif fields_ok and start is not None and end is not None:
            # The check and the send run the same checks (check_request); only the send stores.
            request_kw = {
                "start": start,
                "end": end,
                "purpose": form.purpose.data or "",
                "attendees": form.attendees.data or 0,
                "purpose_category": form.purpose_category.data,
                "waiver": form.waiver.data or None,
                "group_id": form.chosen_group_id,
            }
            try:
                if checking:
                    booking_services.check_request(space, current_user, **request_kw)
                    booking = None
                else:
                    booking = booking_services.create_booking(space, current_user, **request_kw)
            except RuleViolation as exc:
                db.session.rollback()
                if not checking:
                    _show_errors(form, exc)
                    status = 422
                # When checking, the rules' reasons are shown with the price below: the check
                # itself worked and its answer is no.
            except ValidationFailed as exc:
                db.session.rollback()
                _show_errors(form, exc)
                status = 422
            except SlotTaken as exc:
                db.session.rollback()
                form.form_errors.append(exc.message)
                slot_taken, status = True, 409
            except EmailUnverified:
                db.session.rollback()
                form.form_errors.append(unverified_message())
                status = 403
            except NotAllowed as exc:
                db.session.rollback()
                form.form_errors.append(exc.message)
                status = 403
            else:
                if booking is not None:
                    db.session.commit()
                    flash(SENT_MESSAGES[booking.status], "success")
                    if booking.status == BookingStatus.AWAITING_PAYMENT and gateway.configured():
                        return _to_checkout(booking)
                    return redirect(url_for("bookings.detail", booking_id=booking.id))
    else:
        start, end = _instants_quietly(form, zone)
    judgement = None
    if start is not None and end is not None and start < end:
        judgement = judging.judge(
            space,
            current_user,
            start=start,
            end=end,
            purpose=form.purpose_category.data or "community",
            attendees=form.attendees.data or 1,
            # The price shown is the one charged: a waiver not verified on the profile is not
            # in it until an approver saw the evidence.
            waiver=waivers.priced_waiver(current_user, form.waiver.data or None)[0],
            group_id=form.chosen_group_id,
        )
    return (
        render_template(
            "spaces/book.html",
            space=space,
            form=form,
            judgement=judgement,
            # A check that found problems never reads as "the rules allow this request".
            blocked=bool(form.form_errors or any(f.errors for f in form)),
            rules_summary=rule_summary(rule_services.effective_rules(space)),
            slot_taken=slot_taken,
            series_plan=series_plan,
            week=form.date.data.isoformat() if form.date.data else None,
            weekly_hours=weekly_hours(space),
            booking_modes=BOOKING_MODES,
            challenge=surge.challenge_required(space, utcnow()),
            summary=booking_summary(space, judgement, start=start, end=end,
                                    attendees=form.attendees.data or 1, now=utcnow()),
        ),
        status,
    )


def _refused_before_sending(space: Space, form: BookingRequestForm) -> bool:
    """Log the request and check its proof of work when the space asks for one; committed at
    once, so neither is undone when the booking itself is refused."""
    refusal = surge.check_request(space, current_user, request.form.get("altcha"), now=utcnow())
    db.session.commit()
    if refusal is not None:
        form.form_errors.append(str(challenge.REFUSALS[refusal]))
    return refusal is not None


def _series_request(space: Space, form: BookingRequestForm, checking: bool):
    """Check or send a repeating request. Returns a redirect when sent, else (plan, status)."""

    # Called once the form validated: the date and the times are there.
    day = required(form.date.data)
    start_minute = required(parse_clock(form.start_time.data))
    end_minute = parse_clock(form.end_time.data) or 24 * 60
    request_kw = {
        "purpose": form.purpose.data or "", "attendees": form.attendees.data or 0,
        "purpose_category": form.purpose_category.data, "waiver": form.waiver.data or None,
        "group_id": form.chosen_group_id,
    }
    try:
        rule = form.repeat_rule()
        times = series_services.occurrences(rule, day, start_minute,
                                            end_minute - start_minute, space.zone)
    except ValidationFailed as exc:
        _show_errors(form, exc)
        return None, 422
    if checking:
        return series_services.preview(space, current_user, times, request_kw), 200
    series, plan = series_services.create_series(
        space, current_user, rule, day, start_minute, end_minute - start_minute,
        request_kw, skip_conflicts=bool(form.skip_conflicts.data))
    if series is None:
        db.session.rollback()
        form.form_errors.append(
            _("Some dates cannot be booked (listed below). Tick “Skip the dates that cannot be "
              "booked” or change the series.") if plan.conflicts and len(plan.conflicts) <
            len(plan.outcomes) else _("None of the dates can be booked.")
        )
        return plan, 409
    db.session.commit()
    sent = len(plan.outcomes) - len(plan.conflicts)
    flash(ngettext("Your repeating request was sent: %(num)d date.",
                   "Your repeating request was sent: %(num)d dates.", sent), "success")
    return redirect(url_for("bookings.series", series_id=series.id))


def _to_checkout(booking):
    """Straight on to Stripe Checkout for a booking that is paid (or its card authorised)
    before it is confirmed or sent; if Stripe cannot be reached, the booking page offers it."""

    try:
        payment = start_checkout(booking)
    except DomainError as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return redirect(url_for("bookings.detail", booking_id=booking.id))
    db.session.commit()
    return redirect(payment.checkout_url, code=303)


SENT_MESSAGES: dict[str, LazyString] = {
    BookingStatus.AWAITING_PAYMENT: _l("The time is held for you while you pay."),
    BookingStatus.CONFIRMED: _l("Booked and confirmed."),
    BookingStatus.APPROVED: _l("Your request was approved automatically by the rules."),
    BookingStatus.REQUESTED: _l(
        "Your request was sent; it goes through the approval stages shown below."
    ),
    BookingStatus.ENTERED: _l("You are in the lottery. You will see the result after the draw."),
}


def _instants_quietly(form: BookingRequestForm, zone: ZoneInfo):
    """Start and end of a prefilled form, for the price quote; errors are not shown yet."""
    start, end = form.instants(zone)
    form.start_time.errors = []
    form.end_time.errors = []
    return start, end


FIELD_OF = {
    "start": "start_time",
    "end": "end_time",
    "attendees": "attendees",
    "purpose": "purpose",
    "purpose_category": "purpose_category",
    "waiver": "waiver",
    "group_id": "group_id",
}


def _show_errors(form: BookingRequestForm, exc: ValidationFailed) -> None:
    for key, messages in exc.errors.items():
        field = form._fields.get(FIELD_OF.get(key or "", ""))
        if field is not None:
            field.errors = [*field.errors, *messages]
        else:
            form.form_errors.extend(messages)
