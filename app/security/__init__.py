"""Abuse protection shared by every part of the site: rate limits, the security event log
(throttled requests, sign-ups and log-ins by network address) and the response headers.

See docs/security.md for the threat model.
"""
