"""The seed, user and sla commands."""

import re

from sqlalchemy import select

from helpdesk.auth.passwords import verify_password
from helpdesk.models import Desk, Mailbox, Role, User


def test_seed_creates_the_four_desks_and_prints_the_admin_password_once(runner, db_session):
    first = runner.invoke(args=["seed"])
    assert first.exit_code == 0, first.output
    password = re.search(r"password: (\S+)", first.output).group(1)
    admin = db_session.scalar(select(User).where(User.email == "admin@support.example.test"))
    assert admin.role is Role.ADMIN and verify_password(admin.password_hash, password)
    slugs = db_session.scalars(select(Desk.slug).order_by(Desk.id)).all()
    assert slugs == ["system", "ssw", "school", "info"]
    info = db_session.scalar(select(Desk).where(Desk.slug == "info"))
    assert info.opening_hours["0"] == [["08:30", "17:15"]]
    assert info.accepts_email is False

    second = runner.invoke(args=["seed"])
    assert second.exit_code == 0
    assert "    password:" not in second.output and "already exists" in second.output
    assert db_session.scalars(select(Desk.slug)).all().__len__() == 4


def test_seed_routes_school_mail_of_the_shared_mailbox(runner, db_session):
    runner.invoke(args=["seed"])
    shared = db_session.scalar(select(Mailbox).where(Mailbox.name == "ssw-school"))
    assert shared.default_desk.slug == "ssw"
    assert sorted(rule.desk.slug for rule in shared.rules) == ["school", "ssw"]
    school = next(rule for rule in shared.rules if rule.desk.slug == "school")
    assert "日本語教育機関" in school.keywords
    assert shared.secret_env == "HELPDESK_MAILBOX_SSW_SCHOOL_PASSWORD"


def test_users_create_and_reset_password(runner, db_session, make):
    desk = make.desk(slug="cli-desk")
    result = runner.invoke(
        args=["users", "create", "Agent@Example.test", "--name", "Agent A", "--desk", desk.slug]
    )
    assert result.exit_code == 0, result.output
    password = result.output.rsplit("password: ", 1)[1].strip()
    user = db_session.scalar(select(User).where(User.email == "agent@example.test"))
    assert user.role is Role.AGENT and [d.slug for d in user.desks] == ["cli-desk"]
    assert verify_password(user.password_hash, password)

    reset = runner.invoke(args=["users", "reset-password", "agent@example.test"])
    new_password = reset.output.rsplit(": ", 1)[1].strip()
    assert new_password != password and verify_password(user.password_hash, new_password)


def test_users_create_refuses_unknown_desk_and_duplicates(runner, db_session, make):
    bad = runner.invoke(args=["users", "create", "x@example.test", "--name", "X", "--desk", "nope"])
    assert bad.exit_code != 0 and "unknown desk" in bad.output
    make.user(email="dup@example.test")
    dup = runner.invoke(args=["users", "create", "dup@example.test", "--name", "D"])
    assert dup.exit_code != 0 and "already exists" in dup.output


def test_sla_commands_show_a_desks_calendar_and_explain_a_due_time(runner, db_session, make):
    make.desk(slug="cli-sla")
    month = runner.invoke(args=["sla", "calendar", "cli-sla", "2026-01"])
    assert month.exit_code == 0, month.output
    assert "2026-01-12 Mon  closed: 成人の日 (Coming of Age Day)" in month.output
    assert "19 business days in 2026-01 for " in month.output
    due = runner.invoke(args=["sla", "due", "cli-sla", "2026-01-09T16:30", "60"])
    assert due.exit_code == 0, due.output
    assert due.output.startswith("due: 2026-01-13T09:30:00+09:00\n")  # past the long weekend
    unknown = runner.invoke(args=["sla", "due", "nope", "2026-01-09T16:30", "60"])
    assert unknown.exit_code != 0 and "no desk 'nope'" in unknown.output
    sweep = runner.invoke(args=["sla", "sweep"])
    assert sweep.exit_code == 0 and sweep.output == "near: 0, breached: 0\n"
