"""Notifications pages."""
