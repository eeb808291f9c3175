"""Health endpoints for load balancers and monitoring: /healthz (every dependency and the job
backlog) and /readyz (this process can serve: database reachable, schema at the code's
migration head). Public, unthrottled, cheap, with no personal data."""

from flask import Blueprint

from app.extensions import limiter

bp = Blueprint("health", __name__)
limiter.exempt(bp)  # probed every few seconds by machines; each answer costs a few queries

from app.web.health import routes  # noqa: E402,F401
