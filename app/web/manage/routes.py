"""Facility manager pages: my spaces, space editor, opening hours, closures, the request queue,
decisions on bookings and a space's week calendar.

Every page needs a login. Objects are checked one by one: a space or booking that the user does
not manage answers 404 (its existence is not revealed), or 403 when the user may see it anyway
(an officer overseeing the space, the resident who made the booking).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from app import access
from app.bookings import affected, conflicts
from app.bookings import services as booking_services
from app.bookings.models import Booking
from app.bookings.states import CALLED_OFF, BookingStatus, PaymentState
from app.db import db_int, utcnow
from app.errors import DomainError, NotAllowed, ValidationFailed
from app.extensions import db
from app.formatting import local
from app.orgs.models import Jurisdiction, Organisation, jurisdiction_tree
from app.orgs.states import OrgStatus
from app.spaces import services as space_services
from app.spaces import surge
from app.spaces.availability import WeeklyHours, week_window
from app.spaces.calendar import build_week_grid, default_week_day
from app.spaces.fields import parse_clock
from app.spaces.models import WEEKDAYS, Closure, OpeningHours, Space
from app.web import affected_choice
from app.web.accounts.routes import apply_errors, safe_next
from app.web.helpers import paginate, required
from app.web.manage import bp
from app.web.manage.forms import ClosureForm, SpaceForm
from app.web.spaces.forms import wall_to_instant

PER_PAGE = 20
HOUR_SLOTS = 2  # empty ranges offered per day; days with more stored ranges show them all
MAX_SLOTS = 12


@bp.before_request
@login_required
def _logged_in() -> None:
    """Every manager page needs a login."""


# --- Loading and access --------------------------------------------------------------------
def _require_manager() -> None:
    if not (current_user.is_manager or current_user.is_admin):
        abort(403)


def _scope(query):
    """Limit a query that involves Space to the spaces the current user manages."""
    if current_user.is_admin:
        return query
    return query.where(Space.owner_id.in_(current_user.managed_org_ids))


def _managed_space(space_id: int) -> Space:
    return access.load(Space, space_id, "can_manage", visible="can_oversee")


def _managed_booking(booking_id: int) -> Booking:
    return access.load(Booking, booking_id, "can_decide")


def _my_orgs() -> list[Organisation]:
    query = select(Organisation).order_by(Organisation.name, Organisation.id)
    if not current_user.is_admin:
        query = query.where(Organisation.id.in_(current_user.managed_org_ids))
    return list(db.session.scalars(query))


def _jurisdiction_choices() -> list[tuple[int, str]]:
    """Every jurisdiction, children indented under their parents (two queries)."""
    by_id = {j.id: j for j in db.session.scalars(select(Jurisdiction))}
    tree = jurisdiction_tree()

    def depth(jid: int) -> int:
        n, parent = 0, tree.get(jid)
        while parent is not None and n < 10:
            n, parent = n + 1, tree.get(parent)
        return n

    def path(jid: int | None) -> tuple:
        chain: list[str] = []
        while jid is not None and len(chain) < 10:
            chain.append(by_id[jid].display_name)
            jid = tree.get(jid)
        return tuple(reversed(chain))

    ordered = sorted(by_id, key=path)
    return [(jid, "\u00a0\u00a0" * depth(jid) + by_id[jid].display_name) for jid in ordered]


# --- My spaces -------------------------------------------------------------------------------
@bp.get("/spaces")
def spaces():
    _require_manager()
    orgs = _my_orgs()
    org_id = request.args.get("org", type=db_int)
    query = _scope(select(Space)).options(selectinload(Space.owner))
    if org_id in {o.id for o in orgs}:
        query = query.where(Space.owner_id == org_id)
    else:
        org_id = None
    page = paginate(query.order_by(Space.name, Space.id), per_page=PER_PAGE)
    ids = [s.id for s in page.items]
    pending = (
        dict(
            db.session.execute(
                select(Booking.space_id, func.count(Booking.id))
                .where(Booking.space_id.in_(ids), Booking.status == BookingStatus.REQUESTED)
                .group_by(Booking.space_id)
            ).tuples().all()
        )
        if ids
        else {}
    )
    return render_template(
        "manage/spaces.html", page=page, orgs=orgs, org_id=org_id, pending=pending
    )


def _flash_location(space: Space) -> bool:
    """Tell the manager what became of the address; True when coordinates are needed by hand."""
    outcome = getattr(space, space_services.GEOCODE_OUTCOME, None)
    if outcome == "found":
        flash(
            _(
                "The address was found on the map (%(lat).5f, %(lon).5f).",
                lat=space.latitude,
                lon=space.longitude,
            ),
            "info",
        )
    if space.address and space.latitude is None:
        flash(
            _(
                "We could not find this address on the map. The space was saved; please enter "
                "its latitude and longitude by hand so residents can find it."
            ),
            "warning",
        )
        return True
    if outcome == "not_found":
        flash(
            _(
                "We could not find the new address on the map. Please check that the latitude "
                "and longitude still match it."
            ),
            "warning",
        )
        return True
    return False


def _space_form(space: Space | None) -> SpaceForm:
    form = SpaceForm(obj=space)
    form.jurisdiction_ids.choices = _jurisdiction_choices()
    if space is None:
        form.owner_id.choices = [(o.id, o.name) for o in _my_orgs()]
    else:
        del form.owner_id
        if request.method == "GET":
            form.jurisdiction_ids.data = [j.id for j in space.jurisdictions]
    return form


@bp.route("/spaces/new", methods=["GET", "POST"])
def new_space():
    _require_manager()
    form = _space_form(None)
    org_id = request.args.get("org", type=db_int)
    if request.method == "GET" and org_id:
        form.owner_id.data = org_id
    if form.validate_on_submit():
        owner = db.get_or_404(Organisation, form.owner_id.data)
        try:
            space = space_services.create_space(current_user, owner, **form.space_fields())
        except ValidationFailed as exc:
            db.session.rollback()
            apply_errors(form, exc)
        except NotAllowed as exc:
            # A suspended (or not yet approved) owner: said on the form, nothing is made.
            db.session.rollback()
            if owner.status == OrgStatus.ACTIVE:
                raise
            form.form_errors.append(exc.message)
        else:
            db.session.commit()
            flash(_("The space was created. Now set its opening hours."), "success")
            if _flash_location(space):
                return redirect(url_for(".edit_space", space_id=space.id, _anchor="location"))
            return redirect(url_for(".hours", space_id=space.id))
    return render_template("manage/space_form.html", form=form, space=None)


@bp.route("/spaces/<int:space_id>/edit", methods=["GET", "POST"])
def edit_space(space_id: int):
    space = _managed_space(space_id)
    form = _space_form(space)
    if form.validate_on_submit():
        try:
            space_services.update_space(space, current_user, **form.space_fields())
        except ValidationFailed as exc:
            db.session.rollback()
            apply_errors(form, exc)
        else:
            db.session.commit()
            flash(_("The changes were saved."), "success")
            if _flash_location(space):
                return redirect(url_for(".edit_space", space_id=space.id, _anchor="location"))
            return redirect(url_for(".spaces"))
    return render_template("manage/space_form.html", form=form, space=space,
                           surge_until=surge.surge_until(space, utcnow()))


@bp.post("/spaces/<int:space_id>/publish")
def publish(space_id: int):
    """Publish or unpublish in one click (`value` 1 or 0), from the list or the space's page."""
    space = _managed_space(space_id)
    value = request.form.get("value") == "1"
    space_services.update_space(space, current_user, published=value)
    db.session.commit()
    if value:
        flash(_("%(name)s is published: residents can find and book it.", name=space.name),
              "success")
    else:
        flash(_("%(name)s is no longer published: residents cannot find or book it.",
                name=space.name), "success")
    return redirect(safe_next(request.form.get("next")) or url_for(".spaces"))


# --- Opening hours ---------------------------------------------------------------------------
def _parse_hours(form) -> tuple[list[tuple[int, int, int]], dict[int, list[str]]]:
    ranges: list[tuple[int, int, int]] = []
    errors: dict[int, list[str]] = {}
    for weekday in range(7):
        if form.get(f"closed_{weekday}"):
            continue
        for slot in range(MAX_SLOTS):
            if slot >= HOUR_SLOTS and f"open_{weekday}_{slot}" not in form:
                break
            opens = form.get(f"open_{weekday}_{slot}", "").strip()
            closes = form.get(f"close_{weekday}_{slot}", "").strip()
            if not opens and not closes:
                continue
            if not opens or not closes:
                message = _("Give both the opening and the closing time.")
            else:
                o, c = parse_clock(opens), parse_clock(closes)
                if o is not None and c is not None:
                    ranges.append((weekday, o, c))
                    continue
                message = _("Enter times as HH:MM, for example 09:00 or 24:00.")
            if message not in errors.get(weekday, []):
                errors.setdefault(weekday, []).append(message)
    return ranges, errors


def _hours_rows(space: Space, form=None) -> list[dict]:
    """What the editor shows per weekday: up to three ranges, the closed box and errors."""
    rows = []
    for weekday in range(7):
        if form is not None:
            slots = [
                (form.get(f"open_{weekday}_{i}", ""), form.get(f"close_{weekday}_{i}", ""))
                for i in range(MAX_SLOTS)
                if i < HOUR_SLOTS or f"open_{weekday}_{i}" in form
            ]
            closed = bool(form.get(f"closed_{weekday}"))
        else:
            day = [h for h in space.opening_hours if h.weekday == weekday]
            slots = [(h.fmt(h.open_minute), h.fmt(h.close_minute)) for h in day]
            closed = not day
        slots += [("", "")] * (HOUR_SLOTS - len(slots))
        rows.append(
            {"weekday": weekday, "label": WEEKDAYS[weekday], "slots": slots, "closed": closed}
        )
    return rows


CLOCK_STEP = 30  # minutes between the times offered in the hours editor
COPY_TARGETS = {"weekdays": range(1, 5), "all": range(1, 7)}
EFFECTIVE_HORIZON_DAYS = 730


def _clock_options(rows: list[dict]) -> list[str]:
    """00:00 to 24:00 every CLOCK_STEP minutes, plus any other time a row holds now."""
    values = {OpeningHours.fmt(m) for m in range(0, 1441, CLOCK_STEP)}
    for row in rows:
        for opens, closes in row["slots"]:
            for v in (opens, closes):
                if parse_clock(v) is not None:
                    values.add(OpeningHours.fmt(required(parse_clock(v))))
    return sorted(values)


def _copy_monday(values: dict[str, str], target: str) -> dict[str, str]:
    """The form with Monday's row copied to Tuesday–Friday ("weekdays") or every day ("all")."""
    out = {k: v for k, v in values.items()}
    monday = [
        (out.get(f"open_0_{i}", ""), out.get(f"close_0_{i}", ""))
        for i in range(MAX_SLOTS)
        if i < HOUR_SLOTS or f"open_0_{i}" in out
    ]
    for day in COPY_TARGETS[target]:
        for key in [k for k in out if k.startswith((f"open_{day}_", f"close_{day}_"))]:
            del out[key]
        out.pop(f"closed_{day}", None)
        if out.get("closed_0"):
            out[f"closed_{day}"] = "1"
        for i, (opens, closes) in enumerate(monday):
            out[f"open_{day}_{i}"], out[f"close_{day}_{i}"] = opens, closes
    return out


def _effective_day(raw: str | None, today: date) -> tuple[date | None, str | None]:
    raw = (raw or "").strip()
    if not raw:
        return today, None
    try:
        day = date.fromisoformat(raw)
    except ValueError:
        return None, _("Enter the date as YYYY-MM-DD.")
    if day < today:
        return None, _("The date from which the change applies cannot be in the past.")
    if day > today + timedelta(days=EFFECTIVE_HORIZON_DAYS):
        return None, _("Choose a date within two years.")
    return day, None


@bp.route("/spaces/<int:space_id>/hours", methods=["GET", "POST"])
def hours(space_id: int):
    space = _managed_space(space_id)
    now = utcnow()
    today = now.astimezone(space.zone).date()
    errors: dict[int, list[str]] = {}
    general: list[str] = []
    preview: list[Booking] | None = None
    values: dict[str, str] | None = None
    status = 200
    limits = affected.hour_limits(space, now)
    if request.method == "POST":
        values = request.form.to_dict()
        target = values.pop("copy", None)
        if target in COPY_TARGETS:
            values = _copy_monday(values, target)
            values.pop("confirm", None)
            flash(
                _("Monday's hours were copied to Tuesday–Friday. Nothing is saved yet: check "
                  "and save.") if target == "weekdays" else
                _("Monday's hours were copied to every day. Nothing is saved yet: check and "
                  "save."),
                "info",
            )
        else:
            ranges, errors = _parse_hours(values)
            day, day_error = _effective_day(values.get("effective_from"), today)
            if day_error:
                general.append(day_error)
            if not errors and day is not None:
                errors = affected.hours_against_limits(ranges, limits)
            if not errors and day is not None:
                since = affected.effective_instant(space, day, now)
                hit = affected.outside_hours(space, ranges, since)
                action, note = None, ""
                if hit:
                    if affected_choice.confirmed(values, hit):
                        action, note, choice_errors = affected_choice.read(values, hit)
                        general.extend(choice_errors)
                    if action is None or general:
                        preview = hit
                if preview is None and not general:
                    try:
                        space_services.set_opening_hours(space, current_user, ranges)
                        if hit:
                            affected_choice.settle(hit, required(action), note, "hours", since, now)
                    except ValidationFailed as exc:
                        db.session.rollback()
                        for key, messages in exc.errors.items():
                            if key and key.startswith("weekday_"):
                                errors.setdefault(
                                    int(key.removeprefix("weekday_")), []
                                ).extend(messages)
                            else:
                                general.extend(messages)
                    except DomainError as exc:
                        db.session.rollback()
                        general.append(exc.message)
                    else:
                        db.session.commit()
                        flash(_("The opening hours were saved."), "success")
                        affected_choice.flash_settled(len(hit), action)
                        return redirect(url_for(".hours", space_id=space.id))
            if preview is None:
                status = 422
                flash(_("Nothing was saved. Please correct the days marked below."), "error")
    rows = _hours_rows(space, values)
    return render_template(
        "manage/hours.html", space=space, rows=rows, errors=errors, general=general,
        clock_options=_clock_options(rows), preview=preview, limits=limits, today=today,
        effective_from=(values or {}).get("effective_from") or today.isoformat(),
        values=values or {}, affected_ids=affected_choice.ids(preview or []),
        can_cancel=True,
    ), status


# --- Closures --------------------------------------------------------------------------------
def _to_instant(space: Space, value: datetime | None, form_field) -> datetime | None:
    if value is None:
        return None
    if not 1900 <= value.year <= 2200:  # far outside the service's horizon; avoids overflow
        form_field.errors = [*form_field.errors, space_services.closure_horizon_message()]
        return None
    instant = wall_to_instant(value.date(), value.hour * 60 + value.minute, space.zone)
    if instant is None:
        form_field.errors = [*form_field.errors, _("That time does not exist on that day.")]
    return instant


@bp.route("/spaces/<int:space_id>/closures", methods=["GET", "POST"])
def closures(space_id: int):
    space = _managed_space(space_id)
    form = ClosureForm()
    now = utcnow()
    preview: list[Booking] | None = None
    if form.validate_on_submit():
        start = _to_instant(space, form.start.data, form.start)
        end = _to_instant(space, form.end.data, form.end)
        if start and end:
            values = request.form.to_dict()
            hit = [b for b in conflicts.active_bookings_between(space, start, end)
                   if b.end_at > now]
            action, note = None, ""
            if hit and affected_choice.confirmed(values, hit):
                action, note, choice_errors = affected_choice.read(values, hit)
                form.form_errors.extend(choice_errors)
            try:
                if hit and action is None:
                    # Checked (nothing kept) so that the preview is only shown for a valid closure.
                    trial = db.session.begin_nested()
                    try:
                        space_services.add_closure(
                            space, current_user, start, end, form.reason.data or ""
                        )
                    finally:
                        trial.rollback()
                    preview = hit
                else:
                    if hit and action == "cancel":
                        # Cancelled first, so the closure's notice goes to kept bookings only.
                        affected.cancel_all(hit, current_user, note, now)
                    space_services.add_closure(
                        space, current_user, start, end, form.reason.data or ""
                    )
            except ValidationFailed as exc:
                db.session.rollback()
                apply_errors(form, exc)
                preview = None
            except DomainError as exc:
                db.session.rollback()
                form.form_errors.append(exc.message)
                preview = None
            else:
                if preview is None:
                    db.session.commit()
                    if hit:
                        flash(_("The closure was added."), "success")
                        affected_choice.flash_settled(len(hit), action)
                    else:
                        flash(_("The closure was added. No bookings are affected."), "success")
                    return redirect(url_for(".closures", space_id=space.id))
    upcoming = list(
        db.session.scalars(
            select(Closure)
            .where(Closure.space_id == space.id, Closure.end_at > utcnow())
            .order_by(Closure.start_at, Closure.id)
        )
    )
    status = 422 if request.method == "POST" and preview is None else 200
    return render_template(
        "manage/closures.html", space=space, form=form, closures=upcoming,
        conflicts=conflicts.closure_conflicts(upcoming), preview=preview,
        values=request.form.to_dict() if preview else {},
        affected_ids=affected_choice.ids(preview or []),
    ), status


@bp.post("/spaces/<int:space_id>/closures/<int:closure_id>/delete")
def delete_closure(space_id: int, closure_id: int):
    space = _managed_space(space_id)
    closure = db.get_or_404(Closure, closure_id)
    if closure.space_id != space.id:
        abort(404)
    space_services.delete_closure(closure, current_user)
    db.session.commit()
    flash(_("The closure was removed; that time can be booked again."), "success")
    return redirect(url_for(".closures", space_id=space.id))


def _describe(booking: Booking) -> dict:
    return {
        "name": booking.user.name,
        "space": booking.space.name,
        "when": local(booking.start_at, booking.space.zone),
    }


def _decide(booking: Booking, action: Callable[[], object], done: str):
    """Run a booking service, commit, and say what happened; domain errors become messages."""
    try:
        action()
    except DomainError as exc:
        db.session.rollback()
        flash(_("Nothing was changed: %(message)s", message=exc.message), "error")
    else:
        db.session.commit()
        flash(done, "success")
    target = safe_next(request.form.get("next")) or url_for(".queue")
    return redirect(target)


@bp.post("/bookings/<int:booking_id>/cancel")
def cancel(booking_id: int):
    booking = _managed_booking(booking_id)
    reason = request.form.get("reason", "")

    return _decide(
        booking,
        lambda: booking_services.cancel(booking, current_user, reason=reason),
        _("Cancelled: %(name)s, %(space)s, %(when)s.", **_describe(booking)),
    )


@bp.post("/bookings/<int:booking_id>/attendance")
def attendance(booking_id: int):
    booking = _managed_booking(booking_id)
    outcome = request.form.get("outcome")

    def action():
        if outcome not in (BookingStatus.COMPLETED, BookingStatus.NO_SHOW):
            raise ValidationFailed.single(_("Choose whether the booking was used."), "outcome")
        showed_up = outcome == BookingStatus.COMPLETED
        booking_services.mark_attendance(booking, current_user, showed_up=showed_up)

    done = (
        _("Marked as used: %(name)s, %(space)s, %(when)s.", **_describe(booking))
        if outcome == BookingStatus.COMPLETED
        else _("Marked as no-show: %(name)s, %(space)s, %(when)s.", **_describe(booking))
    )
    return _decide(booking, action, done)


# --- A space's week --------------------------------------------------------------------------
def _week_day(raw: str | None, today: date) -> date:
    try:
        day = date.fromisoformat((raw or "").strip())
    except ValueError:
        return today
    return day if abs((day - today).days) <= 3660 else today


def _local_span(booking: Booking, zone) -> WeeklyHours:
    lo = booking.start_at.astimezone(zone)
    hi = booking.end_at.astimezone(zone)
    close = hi.hour * 60 + hi.minute if hi.date() == lo.date() else 1440
    return WeeklyHours(lo.weekday(), lo.hour * 60 + lo.minute, max(close, lo.hour * 60 + 1))


# What a booking block on the manager's calendar shows: its own colour per state, never the
# availability colours of the cells (free / taken / closed).
BLOCK_KINDS = ("pending", "unpaid", "paid", "done", "off")
_UNPAID = (
    PaymentState.DUE, PaymentState.AFTER_APPROVAL, PaymentState.HOLD_PENDING,
    PaymentState.AUTHORIZED,
)


def block_kind(booking: Booking) -> str:
    """pending (waiting for a decision), unpaid (approved, payment still due), paid (confirmed:
    paid or free), done (used or no-show), off (cancelled, rejected, expired, not drawn)."""
    status = booking.status
    if status in CALLED_OFF:
        return "off"
    if status in (BookingStatus.COMPLETED, BookingStatus.NO_SHOW):
        return "done"
    if status == BookingStatus.AWAITING_PAYMENT:
        return "unpaid"
    if status == BookingStatus.APPROVED:
        return "unpaid" if booking.payment_status in _UNPAID else "paid"
    if status == BookingStatus.CONFIRMED:
        return "paid"
    return "pending"  # requested, returned for changes, lottery entry


@bp.get("/spaces/<int:space_id>/calendar")
def calendar(space_id: int):
    space = _managed_space(space_id)
    now = utcnow()
    zone = space.zone
    day = _week_day(request.args.get("week"), default_week_day(now.astimezone(zone).date()))
    monday, start, end = week_window(day, zone)
    bookings = list(
        db.session.scalars(
            select(Booking)
            .where(Booking.space_id == space.id, Booking.start_at < end, Booking.end_at > start)
            .options(selectinload(Booking.user))
            .order_by(Booking.start_at, Booking.id)
        )
    )
    show_off = request.args.get("cancelled") != "0"
    drawn = [b for b in bookings if show_off or block_kind(b) != "off"]
    closed = list(
        db.session.scalars(
            select(Closure)
            .where(Closure.space_id == space.id, Closure.start_at < end, Closure.end_at > start)
            .order_by(Closure.start_at)
        )
    )
    hours = [WeeklyHours(h.weekday, h.open_minute, h.close_minute) for h in space.opening_hours]
    # The rows also reach bookings kept outside the opening hours (the grid only reads the
    # earliest and latest minute of these), so none drops off the manager's view.
    hours += [_local_span(b, zone) for b in drawn if b.start_at >= start and b.end_at <= end]
    grid = build_week_grid(
        monday=monday,
        zone=zone,
        availability=booking_services.space_availability(space, start, end, now=now),
        hours=hours,
        now=now,
        slot_minutes=current_app.config["CALENDAR_SLOT_MINUTES"],
        events=[(b.start_at, b.end_at, b) for b in drawn]
        + [(c.start_at, c.end_at, c) for c in closed],
    )
    return render_template(
        "manage/calendar.html",
        space=space,
        grid=grid,
        bookings=bookings,
        closures=closed,
        today=now.astimezone(zone).date(),
        week_end=monday + timedelta(days=6),
        weekday_names=WEEKDAYS,
        now=now,
        block_kind=block_kind,
        show_off=show_off,
        hidden_off=sum(1 for b in bookings if block_kind(b) == "off") if not show_off else 0,
    )
