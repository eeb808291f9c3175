"""Payments pages."""
