"""Imports every model so the metadata is complete (Alembic, create_all, shell)."""

from app.accounts.consents import Consent
from app.accounts.group_models import GroupInvitation, ResidentGroup, ResidentGroupMember
from app.accounts.models import ApiToken, PasswordReset, User
from app.accounts.verification_models import Verification
from app.bookings.models import Booking, BookingSeries, BookingStage, BookingTransition, LotteryDraw
from app.calendars.models import CalendarFeed, ExternalCalendar
from app.jobs.models import JobRun
from app.notifications.models import EmailDelivery, Notification, NotificationPreference
from app.orgs.models import Jurisdiction, JurisdictionMembership, Organisation, OrgMembership
from app.payments.models import Payment, PaymentLog, PayoutAccount, Refund, StripeEvent
from app.payments.settlement_models import (
    BankAccount,
    SettlementLine,
    SettlementLog,
    SettlementStatement,
)
from app.rules.models import RuleSet
from app.security.models import SecurityEvent, SpentChallenge
from app.spaces.models import Closure, OpeningHours, Space, SpaceAmenity, space_jurisdictions
from app.stats.models import BookedHour, OpenDay

__all__ = [
    "Consent",
    "Verification",
    "BookedHour",
    "OpenDay",
    "EmailDelivery",
    "JobRun",
    "PasswordReset",
    "Notification",
    "NotificationPreference",
    "ApiToken",
    "Booking",
    "BookingStage",
    "GroupInvitation",
    "LotteryDraw",
    "ResidentGroup",
    "ResidentGroupMember",
    "RuleSet",
    "SecurityEvent",
    "SpentChallenge",
    "BookingTransition",
    "BookingSeries",
    "CalendarFeed",
    "ExternalCalendar",
    "Closure",
    "Jurisdiction",
    "JurisdictionMembership",
    "OpeningHours",
    "OrgMembership",
    "Payment",
    "PaymentLog",
    "PayoutAccount",
    "Refund",
    "BankAccount",
    "SettlementLine",
    "SettlementLog",
    "SettlementStatement",
    "StripeEvent",
    "Organisation",
    "Space",
    "SpaceAmenity",
    "User",
    "space_jurisdictions",
]
