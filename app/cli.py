"""Command-line interface: `flask seed demo`, `flask users ...`, `flask bookings sweep`."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import AppGroup
from sqlalchemy import select

from app.db import serialized_writes
from app.extensions import db

seed_cli = AppGroup("seed", help="Load data.")
users_cli = AppGroup("users", help="Manage user accounts.")
bookings_cli = AppGroup("bookings", help="Booking housekeeping.")
calendars_cli = AppGroup("calendars", help="External calendars imported as closures.")

# Staff members of an organisation manage its spaces and requests as its managers do.
ROLES = ("resident", "manager", "principal", "staff", "officer", "admin")


@seed_cli.command("demo")
def seed_demo_command() -> None:
    """Load the demo data (idempotent: running it again changes nothing)."""
    from app.seed import seed_demo

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
def create_user_command(email, name, password, role, org_slug, jurisdiction_slug) -> None:
    """Create a user with a role."""
    from app.accounts.services import create_user_with_role
    from app.errors import DomainError

    try:
        with serialized_writes():
            user = create_user_with_role(
                email=email,
                name=name,
                password=password,
                role=role,
                org_slug=org_slug,
                jurisdiction_slug=jurisdiction_slug,
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
    from app.accounts.models import ApiToken, User

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
    card holds about to lapse, Stripe calls still owed; complete finished bookings."""
    from app.bookings.services import sweep
    from app.payments import work

    with serialized_writes():
        counts = sweep()
        db.session.commit()
        work.perform_committed()
        counts.update(work.sweep())
    click.echo(" ".join(f"{k}={v}" for k, v in counts.items()))


@calendars_cli.command("sync")
def calendars_sync_command() -> None:
    """Fetch and import again every external calendar that has a URL, each in its own
    transaction; one that fails keeps its closures and records why."""
    from app.calendars.fetch import sync_all

    failed = sync_all(click.echo)
    if failed:
        raise click.ClickException(f"{failed} calendar(s) failed")


def register(app: Flask) -> None:
    app.cli.add_command(seed_cli)
    app.cli.add_command(users_cli)
    app.cli.add_command(bookings_cli)
    app.cli.add_command(calendars_cli)
