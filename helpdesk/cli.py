"""Command-line commands: seed, users, sla (a desk's calendar, a due time explained, the sweep),
serve, backup, restore (and the mail and report groups)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import click
from flask import Flask
from flask.cli import AppGroup, with_appcontext
from flask_babel import get_translations
from sqlalchemy import select

from helpdesk import i18n
from helpdesk.auth.passwords import generate_password
from helpdesk.auth.services import create_user, set_password
from helpdesk.extensions import db
from helpdesk.mail.cli import mail
from helpdesk.models import Desk, Role, User
from helpdesk.ops.cli import backup_command, restore_command
from helpdesk.reports.cli import register as register_report_commands
from helpdesk.sla import explain_due
from helpdesk.sla.explain import day_label
from helpdesk.tickets.sla_clock import calendar_for, sweep
from helpdesk.transaction import unit_of_work

users = AppGroup("users", help="Create and manage accounts.")
sla = AppGroup("sla", help="Business calendars and SLA due times.")


@click.command("seed")
@click.option("--admin-email", default="admin@support.example.test", show_default=True)
@with_appcontext
def seed_command(admin_email: str) -> None:
    """Create the demo desks, mailboxes and admin account (idempotent)."""
    from helpdesk.seed import seed_demo

    with unit_of_work():
        result = seed_demo(admin_email)
    click.echo(f"desks created: {', '.join(result.created_desks) or 'none (already there)'}")
    if result.admin_password:
        click.echo("")
        click.echo("  Admin login (shown once, write it down):")
        click.echo(f"    email:    {result.admin_email}")
        click.echo(f"    password: {result.admin_password}")
        click.echo("")
    else:
        click.echo(
            f"admin {result.admin_email} already exists; "
            f"flask --app helpdesk users reset-password {result.admin_email}"
        )


@users.command("create")
@click.argument("email")
@click.option("--name", required=True)
@click.option("--role", type=click.Choice([r.value for r in Role]), default="agent")
@click.option("--desk", "desk_slugs", multiple=True, help="Desk slug; repeat for several.")
def create_user_command(email: str, name: str, role: str, desk_slugs: tuple[str, ...]) -> None:
    """Create an account and print its generated password once (once it is committed)."""
    with unit_of_work():
        desks = db.session.scalars(select(Desk).where(Desk.slug.in_(desk_slugs))).all()
        unknown = set(desk_slugs) - {d.slug for d in desks}
        if unknown:
            raise click.BadParameter(f"unknown desk(s): {', '.join(sorted(unknown))}")
        if db.session.scalar(select(User).where(User.email == email.lower())) is not None:
            raise click.BadParameter(f"an account for {email} already exists")
        password = generate_password()
        create_user(email, name, password, Role(role), desks)
    click.echo(f"created {email} ({role}); password: {password}")


@users.command("reset-password")
@click.argument("email")
def reset_password_command(email: str) -> None:
    """Give an account a new generated password and print it once (once it is committed)."""
    with unit_of_work():
        user = db.session.scalar(select(User).where(User.email == email.lower()))
        if user is None:
            raise click.BadParameter(f"no account for {email}")
        password = generate_password()
        set_password(user, password)
    click.echo(f"new password for {email}: {password}")


def _desk(slug: str) -> Desk:
    desk: Desk | None = db.session.scalar(select(Desk).where(Desk.slug == slug))
    if desk is None:
        known = ", ".join(db.session.scalars(select(Desk.slug).order_by(Desk.id)))
        raise click.BadParameter(f"no desk {slug!r}; desks: {known}", param_hint="DESK")
    return desk


@sla.command("calendar")
@click.argument("desk_slug", metavar="DESK")
@click.argument("month", metavar="YEAR-MONTH")
@click.option("--lang", type=click.Choice(["en", "ja"]), default="en", show_default=True)
def calendar_command(desk_slug: str, month: str, lang: str) -> None:
    """The month's business days and closures, with their names."""
    try:
        year, month_no = (int(part) for part in month.split("-"))
    except ValueError as exc:
        raise click.BadParameter("use YEAR-MONTH, e.g. 2026-09", param_hint="YEAR-MONTH") from exc
    desk = _desk(desk_slug)
    calendar = calendar_for(desk)
    open_days = 0
    with i18n.language(lang):
        words = get_translations()
        for info in calendar.month_days(year, month_no):
            weekday = i18n.short_weekday(info.day)
            if info.is_open:
                open_days += 1
                hours = ", ".join(f"{a:%H:%M}-{b:%H:%M}" for a, b in info.hours)
                note = " (special opening)" if info.special_opening else ""
                click.echo(f"{info.day} {weekday}  open {hours}{note}")
            else:
                click.echo(f"{info.day} {weekday}  closed: {day_label(info, words, lang)}")
    click.echo(f"{open_days} business days in {year}-{month_no:02d} for {desk.name}")


@sla.command("due")
@click.argument("desk_slug", metavar="DESK")
@click.argument("start", metavar="START")
@click.argument("minutes", type=int)
@click.option("--lang", type=click.Choice(["en", "ja"]), default="en", show_default=True)
def due_command(desk_slug: str, start: str, minutes: int, lang: str) -> None:
    """When MINUTES business minutes after START (ISO time; desk time if no offset) fall due."""
    desk = _desk(desk_slug)
    calendar = calendar_for(desk)
    try:
        moment = datetime.fromisoformat(start)
    except ValueError as exc:
        raise click.BadParameter(
            "use an ISO time, e.g. 2026-09-18T16:30", param_hint="START"
        ) from exc
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=calendar.tz)
    due = calendar.add_business_minutes(moment, minutes)
    click.echo(f"due: {due.isoformat()}")
    with i18n.language(lang):
        lines = explain_due(calendar, moment, due).lines(get_translations(), lang)
    for line in lines:
        click.echo(f"  {line}")


@sla.command("sweep")
def sweep_command() -> None:
    """Mark near and breached tickets now and notify (what the scheduler does every minute)."""
    with unit_of_work():
        report = sweep()
    click.echo(f"near: {len(report.near)}, breached: {len(report.breached)}")


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True)
@with_appcontext
def serve_command(host: str, port: int) -> None:
    """Serve the app with its scheduler (embedded set-up; production uses gunicorn)."""
    from flask import current_app
    from werkzeug.serving import run_simple

    from helpdesk import devmail
    from helpdesk.scheduler import start_scheduler

    app = current_app._get_current_object()  # type: ignore[attr-defined]
    if devmail.enabled(app.config):
        folder = Path(app.config["MAIL_CAPTURE_PATH"])
        smtp = (app.config["SMTP_HOST"], int(app.config["SMTP_PORT"]))
        if devmail.start_capture(folder, *smtp) is not None:
            click.echo(
                f"outgoing mail is caught on {smtp[0]}:{smtp[1]}, not sent: read it at "
                f"http://{host}:{port}/admin/captured-mail/"
            )
    if app.config["SCHEDULER_ENABLED"]:
        start_scheduler(app)
    click.echo(f"serving on http://{host}:{port}/ (Ctrl+C stops)")
    run_simple(host, port, app, threaded=True)


def register_commands(app: Flask) -> None:
    """Attach the commands to ``flask --app helpdesk``."""
    app.cli.add_command(seed_command)
    app.cli.add_command(users)
    app.cli.add_command(serve_command)
    app.cli.add_command(backup_command)
    app.cli.add_command(restore_command)
    app.cli.add_command(mail)
    app.cli.add_command(sla)
    register_report_commands(app)
