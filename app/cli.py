"""Command-line interface: `flask seed demo`, `flask users ...`, `flask bookings sweep`."""

from __future__ import annotations

from typing import cast

import click
from flask import Flask
from flask.cli import AppGroup
from sqlalchemy import select

from app import jobs
from app.accounts.models import ApiToken, User
from app.accounts.services import create_user_with_role
from app.calendars.fetch import sync_all
from app.db import serialized_writes, utcnow
from app.errors import DomainError
from app.extensions import db
from app.jobs import backend_name, rq_backend
from app.notifications.models import EmailDelivery
from app.orgs.models import Jurisdiction, jurisdiction_tree, with_descendants
from app.payments import settlement
from app.seed import seed_demo
from app.stats import events, exports, facts, open_data, queries
from app.stats.rebuild_pg import rebuild_booked_pg

seed_cli = AppGroup("seed", help="Load data.")
users_cli = AppGroup("users", help="Manage user accounts.")
bookings_cli = AppGroup("bookings", help="Booking housekeeping.")
calendars_cli = AppGroup("calendars", help="External calendars imported as closures.")
privacy_cli = AppGroup("privacy", help="Personal data: retention of inactive accounts.")

# Staff members of an organisation manage its spaces and requests as its managers do.
ROLES = ("resident", "manager", "principal", "staff", "officer", "admin")


@seed_cli.command("demo")
def seed_demo_command() -> None:
    """Load the demo data (idempotent: running it again changes nothing)."""

    with serialized_writes():
        summary = seed_demo()
        db.session.commit()
    click.echo(summary)


@users_cli.command("create")
@click.argument("email")
@click.option("--name", required=True)
@click.option("--password", required=True)
@click.option("--role", type=click.Choice(ROLES), default="resident", show_default=True)
@click.option("--org", "org_slug", help="Organisation slug (for managers and staff).")
@click.option("--jurisdiction", "jurisdiction_slug", help="Jurisdiction slug (for officers).")
@click.option("--verified/--unverified", default=True, show_default=True,
              help="Whether the address counts as confirmed (an unconfirmed account gets no "
                   "email and cannot book until its owner asks for a link on the account page).")
def create_user_command(email, name, password, role, org_slug, jurisdiction_slug,
                        verified) -> None:
    """Create a user with a role."""

    try:
        with serialized_writes():
            user = create_user_with_role(
                email=email,
                name=name,
                password=password,
                role=role,
                org_slug=org_slug,
                jurisdiction_slug=jurisdiction_slug,
                verified=verified,
            )
            db.session.commit()
    except DomainError as exc:
        db.session.rollback()
        raise click.ClickException(exc.message) from exc
    click.echo(f"created {user.email} ({role})")


@users_cli.command("token")
@click.argument("email")
@click.option("--name", default="cli", show_default=True, help="A label for the token.")
def token_command(email, name) -> None:
    """Issue an API token for EMAIL and print it."""

    user = db.session.scalars(select(User).where(User.email == email.strip().lower())).first()
    if user is None:
        raise click.ClickException(f"no user with email {email}")
    with serialized_writes():
        _row, plain = ApiToken.issue(user, name)
        db.session.commit()
    click.echo(plain)


@bookings_cli.command("sweep")
def sweep_command() -> None:
    """Run every deadline: undecided requests, approval stages, lottery draws, unpaid bookings,
    card holds about to lapse, Stripe calls still owed; complete finished bookings. (The same
    job `flask jobs run` runs every minute.)"""

    counts = cast(dict[str, int], jobs.run("bookings.sweep"))  # the sweep returns its counts
    click.echo(" ".join(f"{k}={v}" for k, v in counts.items()))


@calendars_cli.command("sync")
def calendars_sync_command() -> None:
    """Fetch and import again every external calendar that has a URL, each in its own
    transaction; one that fails keeps its closures and records why."""

    failed = sync_all(click.echo)
    if failed:
        raise click.ClickException(f"{failed} calendar(s) failed")


@privacy_cli.command("retention")
def privacy_retention_command() -> None:
    """Warn, then anonymise, accounts inactive beyond ACCOUNT_RETENTION_DAYS (one batch of
    each; the same job `flask jobs run` runs daily)."""

    counts = cast(dict[str, int], jobs.run("privacy.retention"))
    click.echo(" ".join(f"{k}={v}" for k, v in counts.items()))


def register(app: Flask) -> None:
    app.cli.add_command(seed_cli)
    app.cli.add_command(users_cli)
    app.cli.add_command(bookings_cli)
    app.cli.add_command(calendars_cli)
    app.cli.add_command(jobs_cli)
    app.cli.add_command(stats_cli)
    app.cli.add_command(payments_cli)
    app.cli.add_command(privacy_cli)


jobs_cli = AppGroup("jobs", help="Background jobs: run the periodic ones, workers, status.")


@jobs_cli.command("run")
@click.option("--only", multiple=True, help="Run only these periodic jobs (repeatable).")
def jobs_run_command(only) -> None:
    """Run every periodic job that is due (cron-friendly: call it every minute). Without
    REDIS_URL the jobs run here; with it they are put on the queue for the workers."""

    names = jobs.tick(only=set(only) or None)
    click.echo("dispatched: " + (" ".join(names) if names else "nothing due"))


@jobs_cli.command("scheduler")
@click.option("--interval", default=30, show_default=True, help="Seconds between ticks.")
def jobs_scheduler_command(interval) -> None:
    """Tick forever: dispatch periodic jobs as they come due. Several schedulers may run; each
    period's run is claimed once."""
    import time


    while True:
        try:
            jobs.tick()
        except Exception as exc:  # keep ticking; the next tick tries again
            db.session.rollback()
            click.echo(f"tick failed: {exc}", err=True)
        db.session.remove()
        time.sleep(interval)


@jobs_cli.command("worker")
@click.option("--burst", is_flag=True, help="Stop when the queue is empty.")
@click.option("--name", default=None, help="Worker name (unique per Redis).")
def jobs_worker_command(burst, name) -> None:
    """Run an RQ worker for the jobs queue (needs REDIS_URL). Start as many as you need, on as
    many machines as you need."""

    if backend_name() != "rq":
        raise click.ClickException("REDIS_URL is not set: jobs run in process (flask jobs run)")
    rq_backend.work(burst=burst, name=name)


@jobs_cli.command("status")
def jobs_status_command() -> None:
    """Show the periodic jobs' last runs and the email outbox by state."""
    from sqlalchemy import func, select


    runs = jobs.last_runs()
    click.echo(f"backend: {jobs.backend_name()}")
    for periodic in jobs.PERIODIC:
        run = runs.get(periodic.job)
        if run is None:
            click.echo(f"{periodic.job}: never run")
        else:
            click.echo(f"{periodic.job}: last {run.last_started_at:%Y-%m-%d %H:%M:%S} UTC "
                       f"{run.last_status or 'running'} ({run.runs} runs)"
                       + (f" error: {run.last_error}" if run.last_error else ""))
    counts = dict(db.session.execute(
        select(EmailDelivery.status, func.count(EmailDelivery.id)).group_by(EmailDelivery.status)
    ).tuples().all())
    click.echo("outbox: " + " ".join(f"{k}={v}" for k, v in sorted(counts.items())))


stats_cli = AppGroup("stats", help="Statistics: the pre-aggregated facts.")


@stats_cli.command("rebuild")
@click.option("--from", "first", default=None, help="First day of open time (YYYY-MM-DD).")
@click.option("--to", "last", default=None, help="Last day of open time (YYYY-MM-DD).")
def stats_rebuild_command(first, last) -> None:
    """Write the statistics' facts again: booked minutes from every booking, open time for the
    days asked (default: a year back to OPEN_AHEAD_DAYS ahead), the areas' sums of both, and
    the events of every finished day per area. Run once after upgrading; afterwards every
    change keeps them up to date (and the periodic job closes each day)."""
    from datetime import UTC, date, datetime, timedelta


    today = datetime.now(UTC).date()
    try:
        lo = date.fromisoformat(first) if first else today - timedelta(days=365)
        hi = date.fromisoformat(last) if last else today + timedelta(days=facts.OPEN_AHEAD_DAYS)
    except ValueError as exc:
        raise click.BadParameter("dates are YYYY-MM-DD") from exc
    if hi < lo:
        raise click.BadParameter("--to is before --from")
    with serialized_writes():
        if db.engine.dialect.name == "postgresql":

            counted = rebuild_booked_pg()
        else:
            counted = facts.rebuild_booked()
        days = facts.rebuild_open(lo, hi)
        events.reclose()
        rows = events.close_days()
        db.session.commit()
    click.echo(f"booked time from {counted} bookings; {days} open days from {lo} to {hi}; "
               f"events closed through {events.closed_through()} ({rows} new rows)")


@stats_cli.command("export")
@click.option("--month", default=None,
              help="Month of the open data (YYYY-MM; default: last month).")
@click.option("--format", "formats", type=click.Choice(["csv", "xlsx"]), multiple=True,
              help="csv (the per-space table) or xlsx (every open-data table); default both.")
@click.option("--out", default=None, type=click.Path(file_okay=False),
              help="Directory to write to (default: instance/exports).")
@click.option("--jurisdiction", default=None,
              help="Slug of a jurisdiction: only its spaces (default: every space).")
def stats_export_command(month, formats, out, jurisdiction) -> None:
    """Write a month's open data (small counts suppressed) as files, for scheduled exports:
    `flask stats export` on the 1st of every month writes last month's."""
    import os
    from datetime import datetime, timedelta

    from flask import current_app
    from flask_babel import force_locale


    if month is None:
        this = datetime.now(queries.ZONE).date().replace(day=1)
        first = (this - timedelta(days=1)).replace(day=1)
    else:
        parsed = open_data.parse_month(month)
        if parsed is None:
            raise click.BadParameter("write a month from 2000-01 to 2100-12 as YYYY-MM",
                                     param_hint="--month")
        first = parsed
    scope = None
    if jurisdiction:
        found = db.session.scalar(select(Jurisdiction).where(Jurisdiction.slug == jurisdiction))
        if found is None:
            raise click.BadParameter(f"no jurisdiction {jurisdiction!r}",
                                     param_hint="--jurisdiction")
        scope = queries.Scope(jurisdiction_ids=frozenset(
            with_descendants({found.id}, jurisdiction_tree())))
    directory = out or os.path.join(current_app.instance_path, "exports")
    os.makedirs(directory, exist_ok=True)
    ym = first.strftime("%Y-%m")
    prefix = f"gonggan-open-data-{jurisdiction + '-' if jurisdiction else ''}{ym}"
    # Labels in the platform's first language (Korean), as a resident would read them.
    with force_locale(current_app.config.get("BABEL_DEFAULT_LOCALE", "ko")):
        tables = open_data.open_tables(first, scope)
        files = []
        for kind in formats or ("csv", "xlsx"):
            if kind == "csv":
                table = open_data.space_table(tables)
                files.append((f"{prefix}-{table.name}.csv", exports.to_csv(table)))
            else:
                files.append((f"{prefix}.xlsx",
                              exports.to_xlsx(tables, about=open_data.open_about(first))))
    for name, data in files:
        path = os.path.join(directory, name)
        with open(path, "wb") as fh:
            fh.write(data)
        click.echo(path)


payments_cli = AppGroup("payments", help="Payments: settlement by bank transfer.")


@payments_cli.command("settle")
@click.option("--month", default=None,
              help="Month to settle (YYYY-MM, Seoul time; default: last month).")
def payments_settle_command(month) -> None:
    """Issue the month's settlement statements for owners paid by bank transfer (idempotent:
    owners who have theirs keep them; what happened after they were issued goes into the next
    month). The monthly job `payments.settle` does the same for last month on its own."""
    now = utcnow()
    first = settlement.parse_month(month) if month else settlement.last_month(now)
    if first is None:
        raise click.BadParameter("write a month from 2000-01 to 2100-12 as YYYY-MM",
                                 param_hint="--month")
    try:
        with serialized_writes():
            issued = settlement.issue_month(first, now=now)
            db.session.commit()
    except DomainError as exc:
        db.session.rollback()
        raise click.ClickException(exc.message) from exc
    for statement in issued:
        click.echo(f"{first:%Y-%m} {statement.organisation_id} {statement.status} "
                   f"{statement.net}")
    click.echo(f"{len(issued)} statement(s) issued for {first:%Y-%m}")
