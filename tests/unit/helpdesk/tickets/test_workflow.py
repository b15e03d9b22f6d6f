"""Ticket statuses and transitions."""

import pytest

from helpdesk.tickets.workflow import (
    TRANSITIONS,
    InvalidTransition,
    TicketStatus,
    after_agent_reply,
    after_customer_reply,
    can_transition,
    transition,
)

S = TicketStatus


@pytest.mark.parametrize(
    ("current", "target"),
    [
        (S.NEW, S.OPEN),
        (S.NEW, S.AWAITING_INFORMATION),
        (S.AWAITING_INFORMATION, S.NEW),
        (S.OPEN, S.AWAITING_CUSTOMER),
        (S.AWAITING_CUSTOMER, S.OPEN),
        (S.OPEN, S.RESOLVED),
        (S.RESOLVED, S.OPEN),
        (S.RESOLVED, S.CLOSED),
    ],
)
def test_allowed(current, target):
    assert can_transition(current, target)
    assert transition(current, target) is target


@pytest.mark.parametrize(
    ("current", "target"),
    [
        (S.CLOSED, S.OPEN),
        (S.CLOSED, S.NEW),
        (S.RESOLVED, S.NEW),
        (S.OPEN, S.NEW),
        (S.AWAITING_CUSTOMER, S.AWAITING_INFORMATION),
        (S.OPEN, S.OPEN),
    ],
)
def test_refused(current, target):
    assert not can_transition(current, target)
    with pytest.raises(InvalidTransition, match=f"from {current.value} to {target.value}"):
        transition(current, target)


def test_every_status_has_a_rule_and_closed_is_final():
    assert set(TRANSITIONS) == set(S)
    assert TRANSITIONS[S.CLOSED] == frozenset()


def test_customer_reply_reopens_resolved_and_waiting_tickets():
    assert after_customer_reply(S.RESOLVED) is S.OPEN
    assert after_customer_reply(S.AWAITING_CUSTOMER) is S.OPEN
    assert after_customer_reply(S.OPEN) is S.OPEN


def test_customer_reply_to_closed_ticket_means_a_new_ticket():
    assert after_customer_reply(S.CLOSED) is None


def test_awaiting_information_stays_until_fields_decide():
    assert after_customer_reply(S.AWAITING_INFORMATION) is S.AWAITING_INFORMATION


def test_agent_reply_waits_on_customer():
    assert after_agent_reply(S.NEW) is S.AWAITING_CUSTOMER
    assert after_agent_reply(S.OPEN) is S.AWAITING_CUSTOMER
    assert after_agent_reply(S.AWAITING_INFORMATION) is S.AWAITING_INFORMATION
