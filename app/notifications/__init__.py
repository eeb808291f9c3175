"""Notifications: the in-app inbox, email through an outbox, per-kind preferences, and the
scheduled messages (reminders, deadline warnings, digests, weekly summaries)."""
