"""Ticket statuses and the transitions allowed between them (pure)."""

from __future__ import annotations

import enum


class TicketStatus(enum.StrEnum):
    """Where a ticket is in its life (the one vocabulary of statuses: the SLA clock, the
    queues, the reports and the forms all use these members)."""

    NEW = "new"
    OPEN = "open"
    AWAITING_CUSTOMER = "awaiting_customer"
    AWAITING_INFORMATION = "awaiting_information"
    RESOLVED = "resolved"
    CLOSED = "closed"


S = TicketStatus

TRANSITIONS: dict[TicketStatus, frozenset[TicketStatus]] = {
    S.NEW: frozenset({S.OPEN, S.AWAITING_CUSTOMER, S.AWAITING_INFORMATION, S.RESOLVED, S.CLOSED}),
    S.OPEN: frozenset({S.AWAITING_CUSTOMER, S.AWAITING_INFORMATION, S.RESOLVED, S.CLOSED}),
    S.AWAITING_CUSTOMER: frozenset({S.OPEN, S.RESOLVED, S.CLOSED}),
    S.AWAITING_INFORMATION: frozenset({S.NEW, S.OPEN, S.RESOLVED, S.CLOSED}),
    S.RESOLVED: frozenset({S.OPEN, S.CLOSED}),
    S.CLOSED: frozenset(),
}

# The SLA clock runs while the desk owes an answer, pauses while we wait on the requester.
CLOCK_RUNNING: frozenset[TicketStatus] = frozenset({S.NEW, S.OPEN})
CLOCK_PAUSED: frozenset[TicketStatus] = frozenset({S.AWAITING_CUSTOMER, S.AWAITING_INFORMATION})
FINISHED: frozenset[TicketStatus] = frozenset({S.RESOLVED, S.CLOSED})


class InvalidTransition(ValueError):
    """A status change that the workflow does not allow."""

    def __init__(self, current: TicketStatus, target: TicketStatus) -> None:
        super().__init__(f"a ticket cannot go from {current.value} to {target.value}")
        self.current = current
        self.target = target


def can_transition(current: TicketStatus, target: TicketStatus) -> bool:
    """Whether a ticket in ``current`` may move to ``target``."""
    return target in TRANSITIONS[current]


def transition(current: TicketStatus, target: TicketStatus) -> TicketStatus:
    """Return ``target`` if allowed from ``current``, else raise InvalidTransition."""
    if not can_transition(current, target):
        raise InvalidTransition(current, target)
    return target


def after_customer_reply(current: TicketStatus) -> TicketStatus | None:
    """Status after the requester writes again; None means open a new ticket instead."""
    if current is S.CLOSED:
        return None
    if current in (S.RESOLVED, S.AWAITING_CUSTOMER):
        return S.OPEN
    return current


def after_agent_reply(current: TicketStatus) -> TicketStatus:
    """Status after an agent answers the requester by email."""
    if current in (S.NEW, S.OPEN):
        return S.AWAITING_CUSTOMER
    return current
