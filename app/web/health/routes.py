"""`/healthz` answers 200 when every dependency and the backlog are fine, 503 with the same JSON
when one is not; `/readyz` answers 200 when this process can serve requests. Point a load
balancer at /readyz (a late email is no reason to take a web server out) and monitoring at
/healthz."""

from __future__ import annotations

from flask import jsonify

from app.web.health import bp, checks


def _answer(report: dict):
    response = jsonify(report)
    response.status_code = 200 if report["status"] == "ok" else 503
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/healthz")
def healthz():
    return _answer(checks.health())


@bp.get("/readyz")
def readyz():
    return _answer(checks.readiness())
