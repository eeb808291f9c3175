"""Every kind of notification: who gets it, how by default, and whether it may be turned off.

Each kind has a template `notifications/kinds/<name>.html` with the blocks `subject` (one line:
the email's subject and the inbox title), `text` (the plain-text body) and `html` (the HTML
body); the template sees the notification's `params`, `link` (absolute URL of the page to open)
and `user` (the recipient).
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l

RESIDENT, APPROVER, OFFICER = "resident", "approver", "officer"
# The owner's managers and head: what the platform settles with their organisation.
OWNER = "owner"
# Messages about the account itself: always sent, never on the preferences page.
ACCOUNT = "account"

AUDIENCE_LABELS = {
    RESIDENT: _l("Your bookings"),
    APPROVER: _l("Requests you decide"),
    OFFICER: _l("Your jurisdiction"),
    OWNER: _l("Your organisation's settlements"),
}

CHANNEL_LABELS = {
    "email": _l("Email and inbox"),
    "digest": _l("Daily digest email and inbox"),
    "in_app": _l("Inbox only"),
    "off": _l("Off"),
}


@dataclass(frozen=True)
class Kind:
    name: str
    audience: str
    label: object  # lazy string
    default: str = "email"
    # Mandatory kinds reach the inbox whatever the user says; they can only choose whether an
    # email goes out too.
    mandatory: bool = False
    digest: bool = False  # may be gathered into the daily digest
    # The page the notification opens: "booking" (the booking), "queue", "oversight", "groups",
    # "statement" (a settlement statement), "org_application" (an organisation's application
    # page), "org_review" (the review queue), "verification" (one's residency and waivers),
    # "verification_queue" (the officers' queue of claims), "manage_booking" (the approver's page of
    # the booking).
    opens: str = "booking"
    # May also be emailed to an address without an account (services.email_address): the
    # template then renders with no `user` and may give a `reason` block for the footer.
    to_addresses: bool = False

    @property
    def choices(self) -> tuple[str, ...]:
        out = ["email"]
        if self.digest:
            out.append("digest")
        out.append("in_app")
        if not self.mandatory:
            out.append("off")
        return tuple(out)

    @property
    def template(self) -> str:
        return f"notifications/kinds/{self.name}.html"


KINDS: dict[str, Kind] = {
    k.name: k
    for k in (
        # --- residents
        Kind("booking_received", RESIDENT, _l("Request received")),
        Kind("stage_decided", RESIDENT, _l("A stage of your request was decided")),
        Kind("booking_returned", RESIDENT, _l("Request returned for changes"), mandatory=True),
        Kind("booking_approved", RESIDENT, _l("Booking approved (with calendar file)")),
        Kind("booking_rejected", RESIDENT, _l("Request rejected")),
        Kind("booking_cancelled", RESIDENT, _l("Booking cancelled by the owner"),
             mandatory=True),
        Kind("cancellation_confirmed", RESIDENT, _l("You cancelled a booking (with the refund)"),
             mandatory=True),
        Kind("booking_expired", RESIDENT, _l("Request or booking expired")),
        Kind("payment_due", RESIDENT, _l("Payment due"), mandatory=True),
        Kind("payment_received", RESIDENT, _l("Payment received")),
        Kind("payment_refunded", RESIDENT, _l("Refund made")),
        Kind("refund_failed", RESIDENT, _l("A refund could not be made"), mandatory=True),
        Kind("booking_reminder", RESIDENT, _l("Reminder before your booking")),
        Kind("lottery_result", RESIDENT, _l("Lottery result")),
        Kind("closure_conflict", RESIDENT, _l("A closure affects your booking"),
             mandatory=True),
        # New opening hours or rules that a kept booking no longer fits (manager's preview).
        Kind("booking_affected", RESIDENT, _l("New hours or rules affect your booking"),
             mandatory=True),
        Kind("verification_decided", RESIDENT,
             _l("Your residency or fee-waiver claim was decided"), mandatory=True,
             opens="verification"),
        Kind("group_invitation", RESIDENT, _l("Invitation to join a resident group"),
             opens="groups", to_addresses=True),
        Kind("owner_suspended", RESIDENT, _l("The owner of a space you booked is suspended"),
             mandatory=True),
        Kind("org_invitation", ACCOUNT, _l("Invitation to join an organisation's team"),
             mandatory=True, opens="org_team", to_addresses=True),
        # --- approvers (facility managers, principals, officers deciding a stage)
        Kind("approval_requested", APPROVER, _l("A new request waits for your decision"),
             digest=True, opens="queue"),
        Kind("approval_notice", APPROVER, _l("A request you are told about (no decision)"),
             default="in_app", digest=True),
        Kind("approval_deadline", APPROVER, _l("A decision deadline is about to pass"),
             opens="queue"),
        Kind("approval_escalated", APPROVER, _l("A request passed on to you after a deadline"),
             opens="queue"),
        Kind("booking_paid", APPROVER, _l("A resident paid for an approved booking"),
             opens="manage_booking"),
        # --- owners settled by bank transfer
        Kind("settlement_issued", OWNER, _l("Monthly settlement statement issued"),
             opens="statement"),
        Kind("settlement_paid", OWNER, _l("Settlement transferred to your account"),
             opens="statement"),
        Kind("refund_failed_owner", OWNER, _l("A refund to a resident failed"),
             mandatory=True),
        Kind("dispute_closed", OWNER, _l("A card dispute was closed"), mandatory=True),
        # --- organisations: the applicant, the team, the reviewers
        Kind("org_application_decided", ACCOUNT, _l("Your organisation's application decided"),
             mandatory=True, opens="org_application"),
        Kind("org_suspended", ACCOUNT, _l("Your organisation suspended or reinstated"),
             mandatory=True, opens="org_application"),
        Kind("org_application_received", OFFICER, _l("An organisation applied to list spaces"),
             opens="org_review"),
        Kind("verification_received", OFFICER,
             _l("A residency or fee-waiver claim waits for checking"),
             opens="verification_queue"),
        # --- the account itself
        Kind("email_verification", ACCOUNT, _l("Confirm your email address"), mandatory=True,
             opens="verify"),
        Kind("signup_attempt", ACCOUNT, _l("Someone signed up with your address"),
             mandatory=True, opens="account"),
        Kind("account_retention", ACCOUNT, _l("Your inactive account will be anonymised"),
             mandatory=True, opens="account"),
        # Written to an address, not an account's inbox: a reset link has no place there.
        Kind("password_reset", ACCOUNT, _l("Reset your password"), mandatory=True,
             opens="account", to_addresses=True),
        Kind("password_reset_unknown", ACCOUNT, _l("Password reset for an address without an "
             "account"), mandatory=True, opens="account", to_addresses=True),
        Kind("email_change_confirm", ACCOUNT, _l("Confirm your new email address"),
             mandatory=True, opens="account", to_addresses=True),
        Kind("email_change_notice", ACCOUNT, _l("Your email address is being changed"),
             mandatory=True, opens="account", to_addresses=True),
        # --- officers
        Kind("weekly_summary", OFFICER, _l("Weekly summary of your jurisdiction"),
             default="off", opens="oversight"),
    )
}

# The daily digest is an email of its own (not a kind users choose).
DIGEST_TEMPLATE = "notifications/kinds/digest.html"

# Reminder lead times offered on the preferences page (hours; 0 = no reminder).
REMINDER_CHOICES = (0, 2, 24, 48)


def kinds_for(roles: list[str]) -> list[Kind]:
    """The kinds a user with `roles` (User.role_names) can receive."""
    audiences = {RESIDENT}
    if {"manager", "principal", "officer", "admin"} & set(roles):
        audiences.add(APPROVER)
    if {"officer", "admin"} & set(roles):
        audiences.add(OFFICER)
    if {"manager", "principal"} & set(roles):
        audiences.add(OWNER)
    return [k for k in KINDS.values() if k.audience in audiences]
