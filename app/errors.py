"""Domain errors raised by services and translated into messages or HTTP statuses at the edges."""

from __future__ import annotations


class DomainError(Exception):
    """Base class. `code` is stable and machine-readable; `message` is already translated."""

    code = "error"
    status = 400

    def __init__(self, message: str, *, field: str | None = None, code: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field
        if code:
            self.code = code


class ValidationFailed(DomainError):
    """Input the user can fix. Carries one message per field (field None = whole form)."""

    code = "invalid"
    status = 422

    def __init__(self, errors: dict[str | None, list[str]]):
        self.errors = errors
        first = next(iter(errors.values()))[0]
        super().__init__(first)

    @classmethod
    def single(cls, message: str, field: str | None = None) -> ValidationFailed:
        return cls({field: [message]})


class SlotTaken(DomainError):
    code = "slot_taken"
    status = 409


class NotAllowed(DomainError):
    code = "forbidden"
    status = 403


class InvalidTransition(DomainError):
    code = "invalid_transition"
    status = 409


class RuleViolation(ValidationFailed):
    """The request breaks the rules that apply to the space. `reasons` cite their rule sets."""

    code = "rule_violation"

    def __init__(self, reasons: list[dict]):
        self.reasons = reasons
        super().__init__({None: [r["message"] for r in reasons]})


class EmailUnverified(NotAllowed):
    """The account's address is not confirmed yet: it may browse, not request or enter."""

    code = "email_unverified"
