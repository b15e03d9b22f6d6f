"""Judging readiness from the facts: each check, its threshold, and off."""

from datetime import UTC, datetime, timedelta

from helpdesk.ops.health import Facts, Limits, MailboxPoll, judge, ready

NOW = datetime(2026, 11, 25, 1, 0, tzinfo=UTC)
HEADS = frozenset({"e8c4b1d7a925"})
LIMITS = Limits(leader=60, outbox=900, poll=900)


def healthy(**changes):
    values = {
        "revisions": HEADS,
        "readable": True,
        "leader_seen_at": NOW - timedelta(seconds=10),
        "oldest_unsent_at": None,
        "mailboxes": (MailboxPoll("system", 60, NOW - timedelta(seconds=30)),),
    }
    return Facts(**{**values, **changes})


def states(checks):
    return {name: check["state"] for name, check in checks.items()}


def test_all_fresh_is_ready_with_the_figures():
    checks = judge(healthy(), HEADS, NOW, LIMITS)
    assert states(checks) == dict.fromkeys(checks, "ok") and ready(checks)
    assert checks["scheduler"]["seen_seconds_ago"] == 10
    assert checks["outbox"]["oldest_unsent_seconds"] is None
    assert checks["mailboxes"]["mailboxes"] == {
        "system": {"state": "ok", "last_success_seconds": 30}
    }


def test_an_unreachable_database_fails_and_leaves_the_rest_unknown():
    checks = judge(Facts(None), HEADS, NOW, LIMITS)
    assert states(checks) == {
        "database": "fail",
        "migrations": "unknown",
        "scheduler": "unknown",
        "outbox": "unknown",
        "mailboxes": "unknown",
    }
    assert not ready(checks)


def test_a_database_never_migrated_says_so():
    checks = judge(Facts(frozenset()), HEADS, NOW, LIMITS)
    assert checks["database"]["state"] == "fail"
    assert checks["migrations"] == {"state": "fail", "database": [], "code": ["e8c4b1d7a925"]}


def test_a_schema_behind_or_ahead_of_the_code_fails():
    behind = judge(healthy(revisions=frozenset({"b884a4c42952"})), HEADS, NOW, LIMITS)
    assert states(behind)["migrations"] == "fail" and not ready(behind)


def test_the_scheduler_leader_must_have_been_seen_within_the_limit():
    at_limit = healthy(leader_seen_at=NOW - timedelta(seconds=60))
    assert states(judge(at_limit, HEADS, NOW, LIMITS))["scheduler"] == "ok"
    late = healthy(leader_seen_at=NOW - timedelta(seconds=61))
    assert states(judge(late, HEADS, NOW, LIMITS))["scheduler"] == "fail"
    never = judge(healthy(leader_seen_at=None), HEADS, NOW, LIMITS)
    assert never["scheduler"] == {"state": "fail", "seen_seconds_ago": None}


def test_mail_waiting_too_long_in_the_outbox_fails():
    waiting = healthy(oldest_unsent_at=NOW - timedelta(seconds=901))
    checks = judge(waiting, HEADS, NOW, LIMITS)
    assert checks["outbox"] == {"state": "fail", "oldest_unsent_seconds": 901}
    recent = healthy(oldest_unsent_at=NOW - timedelta(seconds=5))
    assert states(judge(recent, HEADS, NOW, LIMITS))["outbox"] == "ok"


def test_a_mailbox_is_late_past_its_own_interval_plus_the_limit():
    mailboxes = (
        MailboxPoll("hourly", 3600, NOW - timedelta(seconds=3600 + 900)),
        MailboxPoll("minutely", 60, NOW - timedelta(seconds=60 + 901)),
        MailboxPoll("new", 60, None),
    )
    checks = judge(healthy(mailboxes=mailboxes), HEADS, NOW, LIMITS)
    assert checks["mailboxes"] == {
        "state": "fail",
        "mailboxes": {
            "hourly": {"state": "ok", "last_success_seconds": 4500},
            "minutely": {"state": "fail", "last_success_seconds": 961},
            "new": {"state": "fail", "last_success_seconds": None},
        },
    }


def test_a_zero_limit_turns_a_check_off():
    stale = healthy(
        leader_seen_at=None,
        oldest_unsent_at=NOW - timedelta(days=1),
        mailboxes=(MailboxPoll("system", 60, None),),
    )
    checks = judge(stale, HEADS, NOW, Limits(leader=0, outbox=0, poll=0))
    assert states(checks) == {
        "database": "ok",
        "migrations": "ok",
        "scheduler": "off",
        "outbox": "off",
        "mailboxes": "off",
    }
    assert ready(checks)


def test_a_clock_behind_the_database_counts_as_no_age():
    ahead = healthy(leader_seen_at=NOW + timedelta(seconds=5))
    assert judge(ahead, HEADS, NOW, LIMITS)["scheduler"]["seen_seconds_ago"] == 0
