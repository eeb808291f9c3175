"""Rule-set pages: the scopes I may edit, the editor with its preview, and each rule set's
history. Officers edit their jurisdictions' rules, managers their organisation's and its
spaces', admins all. A scope the user may not know about answers 404; one they may see (an
overseeing officer, an officer of a district below) but not change answers 403."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from app.bookings import affected, rule_preview
from app.db import utcnow
from app.errors import DomainError, ValidationFailed
from app.extensions import db
from app.formatting import local
from app.notifications import announce
from app.rules import describe, editing
from app.rules.messages import reason_text
from app.rules.models import RuleSet
from app.rules.schema import rules_to_doc
from app.web import affected_choice
from app.web.helpers import paginate
from app.web.rules.forms import RuleSetForm, doc_to_data

bp = Blueprint("rules", __name__)

SPACES_PER_PAGE = 50
KIND = "<any(jurisdiction, organisation, space):kind>"


@bp.before_request
@login_required
def _logged_in() -> None:
    """Every rules page needs a login."""


def _editable_scope(kind: str, scope_id: int) -> editing.Scope:
    scope = editing.load_scope(kind, scope_id)
    if scope is None:
        abort(404)
    if not editing.can_edit(current_user, scope):
        abort(403 if editing.can_see(current_user, scope) else 404)
    return scope


@bp.get("/")
def index():
    if not (current_user.is_admin or current_user.is_manager or current_user.is_officer):
        abort(403)
    scopes = editing.editable_scopes(current_user, lambda q: paginate(q, per_page=SPACES_PER_PAGE))
    spaces = [editing.Scope("space", s) for s in scopes.spaces.items]
    every = [*scopes.jurisdictions, *scopes.organisations, *spaces]
    return render_template(
        "rules/index.html",
        scopes=scopes,
        spaces=spaces,
        timelines=editing.timelines(every, utcnow()),
    )


@bp.route(f"/{KIND}/<int:scope_id>", methods=["GET", "POST"])
def edit(kind: str, scope_id: int):
    scope = _editable_scope(kind, scope_id)
    now = utcnow()
    versions = editing.versions_of(scope)
    latest = versions[0] if versions else None
    today = now.astimezone(scope.zone).date()
    if request.method == "GET":
        rules = editing.stored_rules(latest)
        doc = rules_to_doc(rules) if rules is not None else {}
        form = RuleSetForm(scope.level, data=doc_to_data(doc, today))
        form.add_spare_rows()
    else:
        form = RuleSetForm(scope.level)
    result = None
    confirm: dict | None = None
    if request.method == "POST":
        typed_ok = form.validate_on_submit()
        doc, day, note = form.to_doc(), form.effective_from.day, form.note.data or ""
        try:
            if not typed_ok:
                # Typing errors stop here, but the rules' own messages are shown with them.
                editing.check_draft(scope, doc, day, note, now=now)
            elif form.preview.data:
                result = rule_preview.preview(scope, doc, day, now=now)
            else:
                # Saving first shows the bookings the new version would refuse; the manager
                # keeps them (residents told) or cancels them, and only then is it saved.
                result = rule_preview.preview(scope, doc, day, now=now)
                hit = [b.booking for b in result.breaches]
                action, message = None, ""
                values = request.form.to_dict()
                can_cancel = all(b.can_decide(current_user) for b in hit)
                if hit and affected_choice.confirmed(values, hit):
                    action, message, choice_errors = affected_choice.read(values, hit)
                    if action == "cancel" and not can_cancel:
                        choice_errors.append(_("You may not cancel some of these bookings."))
                    if choice_errors:
                        action = None
                        form.form_errors.extend(choice_errors)
                if not hit or action is not None:
                    version = editing.save_rule_set(current_user, scope, doc, day, note, now=now)
                    if action == "cancel":
                        affected.cancel_all(hit, current_user, message, now)
                    elif hit:
                        for booking in hit:
                            announce.booking_affected(
                                booking, change="rules", effective=version.effective_from,
                                note=message,
                            )
                    db.session.commit()
                    _flash_saved(scope, version)
                    affected_choice.flash_settled(len(hit), action)
                    return redirect(url_for(".edit", kind=kind, scope_id=scope_id))
                confirm = {
                    "ids": affected_choice.ids(hit), "values": values, "can_cancel": can_cancel
                }
        except ValidationFailed as exc:
            db.session.rollback()
            form.place_errors(exc)
            result = confirm = None
        except DomainError as exc:
            db.session.rollback()
            form.form_errors.append(exc.message)
            result = confirm = None
        if "csrf_token" in form.errors:
            form.form_errors.append(_("The form had expired. Please submit it again."))
    timeline = editing.timeline(versions, now)
    by_id: dict[int | None, RuleSet] = {v.id: v for v in versions}  # looked up by replaces_id
    status = 422 if request.method == "POST" and result is None else 200
    return render_template(
        "rules/edit.html",
        scope=scope,
        form=form,
        timeline=timeline,
        in_force=describe.rule_lines(editing.stored_rules(timeline.current)),
        scheduled=[(v, describe.changes(by_id.get(v.replaces_id), v)) for v in timeline.scheduled],
        preview=result,
        confirm=confirm,
        latest=latest,
        today=today,
        reason_text=reason_text,
    ), status


def _flash_saved(scope: editing.Scope, version) -> None:
    if version.effective_from <= utcnow():
        flash(_("Version %(v)d is saved and in force now.", v=version.version), "success")
    else:
        flash(
            _(
                "Version %(v)d is saved. It takes effect on %(date)s; until then the current "
                "rules stay in force.",
                v=version.version,
                date=local(version.effective_from, scope.zone, "date"),
            ),
            "success",
        )
    for later in editing.later_versions(version):
        flash(
            _(
                "Version %(v)d, scheduled from %(date)s, will still take effect on that day and "
                "replace this one.",
                v=later.version,
                date=local(later.effective_from, scope.zone, "date"),
            ),
            "warning",
        )


@bp.get(f"/{KIND}/<int:scope_id>/history")
def history(kind: str, scope_id: int):
    scope = _editable_scope(kind, scope_id)
    versions = editing.versions_of(scope)
    by_id: dict[int | None, RuleSet] = {v.id: v for v in versions}  # looked up by replaces_id
    entries = [
        (v, by_id.get(v.replaces_id), describe.changes(by_id.get(v.replaces_id), v))
        for v in versions
    ]
    return render_template(
        "rules/history.html",
        scope=scope,
        entries=entries,
        timeline=editing.timeline(versions, utcnow()),
    )
