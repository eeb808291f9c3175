"""The states of an organisation: an application under review, then a listed owner."""

from __future__ import annotations

from enum import StrEnum


class OrgStatus(StrEnum):
    PENDING = "pending"  # applied, waiting for a reviewer
    INFO_REQUESTED = "info_requested"  # a reviewer asked for more; the applicant edits
    REJECTED = "rejected"  # refused, with a reason; the row stays
    ACTIVE = "active"  # approved: its managers list spaces
    SUSPENDED = "suspended"  # approved once, its spaces out of search until reinstated


# Still under review: the applicant may edit and a reviewer may decide.
UNDER_REVIEW = (OrgStatus.PENDING, OrgStatus.INFO_REQUESTED)
# Approved at some point: a real owner with a team.
APPROVED = (OrgStatus.ACTIVE, OrgStatus.SUSPENDED)
