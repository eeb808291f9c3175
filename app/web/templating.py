"""Template filters and globals of the pages (and the emails, which share the environment):
money, local times, labels of states, rules and approval stages."""

from __future__ import annotations

from flask import Flask, current_app
from flask_babel import get_locale
from flask_login import current_user

from app.bookings import queue as booking_queue
from app.bookings.approvals import stage_who
from app.bookings.states import (
    GRANTED,
    SETTLED,
    STAGE_PASSED,
    STAGE_STATE_LABELS,
    WAIVER_STATE_LABELS,
    BookingStatus,
    DrawOutcome,
    PaymentState,
    StageState,
    WaiverState,
)
from app.formatting import josa, local, money, url_with, zone_name
from app.notifications import templating as email_templating
from app.notifications.models import DeliveryState
from app.payments.states import RefundStatus
from app.rules import messages
from app.rules import services as rule_services
from app.rules.schema import APPROVERS, WAIVER_CATEGORIES
from app.spaces.models import WEEKDAYS


def rule_facts(space, effective=None) -> list[tuple[str, str]]:
    """Price, who can book and cancellation of `space` for its rules summary (the page's
    effective rules when it has them, else those in force now)."""
    if effective is None:
        effective = rule_services.effective_rules(space)
    return messages.key_facts(effective, space)


def register(app: Flask) -> None:
    app.jinja_env.filters["money"] = money
    app.jinja_env.filters["local"] = local
    app.jinja_env.filters["josa"] = josa
    app.jinja_env.filters["zone_name"] = zone_name
    app.jinja_env.filters["weekday_name"] = lambda day: str(WEEKDAYS[day])
    app.jinja_env.globals["url_with"] = url_with
    app.jinja_env.globals.update(
        reason_text=messages.reason_text,
        quote_line_text=lambda line, currency: messages.line_text(
            line, lambda v: money(v, currency)
        ),
        stored_line_text=lambda line, currency: messages.stored_line_text(
            line, lambda v: money(v, currency)
        ),
        stage_who=stage_who,
        stage_states=STAGE_STATE_LABELS,
        fee_category_text=messages.FEE_CATEGORY_TEXT,
        approver_labels=APPROVERS,
        waiver_labels=WAIVER_CATEGORIES,
        waiver_state_labels=WAIVER_STATE_LABELS,
        WaiverState=WaiverState,
        clock=messages.clock,
        rule_facts=rule_facts,

        # (to decide, approved not paid) for the navigation: one query, once per request.
        workspace_counts=lambda: booking_queue.counts(current_user),
    )
    # States by name, so the templates compare with members rather than strings.
    app.jinja_env.globals.update(
        BookingStatus=BookingStatus,
        DrawOutcome=DrawOutcome,
        StageState=StageState,
        PaymentState=PaymentState,
        RefundStatus=RefundStatus,
        DeliveryState=DeliveryState,
        GRANTED=GRANTED,
        SETTLED=SETTLED,
        STAGE_PASSED=STAGE_PASSED,
    )

    @app.context_processor
    def _globals():
        return {
            "current_locale": str(get_locale() or "ko"),
            "current_user": current_user,
            "config": current_app.config,
        }

    email_templating.register(app)
