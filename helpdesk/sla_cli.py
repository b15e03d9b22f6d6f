"""``flask --app helpdesk sla ...``: a desk's calendar, a due time explained, the sweep."""

from __future__ import annotations

from datetime import datetime

import click
from flask.cli import AppGroup
from flask_babel import get_translations
from sqlalchemy import select

from helpdesk import i18n
from helpdesk.extensions import db
from helpdesk.models import Desk
from helpdesk.sla import explain_due
from helpdesk.sla.explain import day_label
from helpdesk.tickets.sla import calendar_for, sweep
from helpdesk.transaction import unit_of_work

sla = AppGroup("sla", help="Business calendars and SLA due times.")


def _desk(slug: str) -> Desk:
    desk = db.session.scalar(select(Desk).where(Desk.slug == slug))
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
