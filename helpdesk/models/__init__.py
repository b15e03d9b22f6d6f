"""The data model: one aggregate per module, all re-exported here for Alembic."""

import helpdesk.models.search  # noqa: E402,F401,I001  (queue partial indexes, trigram indexes)
from helpdesk.models.audit import AuditEvent
from helpdesk.models.desk import CalendarOverride, CannedAnswer, Desk
from helpdesk.models.mailbox import IngestFailure, Mailbox, MailboxState, RoutingRule
from helpdesk.models.message import Attachment, Direction, Message, MessageRepeat
from helpdesk.models.outbox import OutboxMessage, OutboxStatus
from helpdesk.models.presence import PresenceActivity, TicketPresence
from helpdesk.models.scheduler import SchedulerLease
from helpdesk.models.ticket import Channel, StatusPeriod, Ticket, TicketCounter
from helpdesk.models.user import Role, User, desk_members
from helpdesk.sla.policy import Priority

__all__ = [
    "Attachment",
    "AuditEvent",
    "CalendarOverride",
    "CannedAnswer",
    "Channel",
    "Desk",
    "Direction",
    "IngestFailure",
    "Mailbox",
    "MailboxState",
    "Message",
    "MessageRepeat",
    "OutboxMessage",
    "OutboxStatus",
    "PresenceActivity",
    "Priority",
    "Role",
    "RoutingRule",
    "SchedulerLease",
    "StatusPeriod",
    "Ticket",
    "TicketCounter",
    "TicketPresence",
    "User",
    "desk_members",
]
