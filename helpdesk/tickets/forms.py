"""Forms of the agents' pages; choices are filled in by the views."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import MultipleFileField
from wtforms import (
    BooleanField,
    HiddenField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Email, Length, Optional

from helpdesk.i18n import LABELS, lazy_language_name
from helpdesk.models import Priority
from helpdesk.tickets.workflow import TicketStatus

TEXT_LIMIT = 50_000


def options(pairs: Iterable[tuple[Any, str]]) -> list[SelectChoice]:
    """Select choices from (value, label) pairs."""
    return [SelectChoice(value, label) for value, label in pairs]


STATUS_CHOICES = [(status.value, LABELS[status.value]) for status in TicketStatus]
PRIORITY_CHOICES = [(priority.value, LABELS[priority.value]) for priority in Priority]
LANGUAGE_CHOICES = [(code, lazy_language_name(code)) for code in ("ja", "en")]
ANY = ("", _l("Any"))
NO_CHANGE = ("", _l("no change"))


class QueueFilterForm(FlaskForm):
    """Narrow a queue (GET parameters, no CSRF)."""

    class Meta:
        csrf = False

    status = SelectField(
        _l("Status"), choices=options([ANY, *STATUS_CHOICES]), validate_choice=True
    )
    priority = SelectField(_l("Priority"), choices=options([ANY, *PRIORITY_CHOICES]))
    assignee = SelectField(_l("Assignee"), choices=options([ANY]), validate_choice=False)
    language = SelectField(_l("Language"), choices=options([ANY, *LANGUAGE_CHOICES]))
    awaiting = BooleanField(_l("Awaiting information only"))
    after = HiddenField()


class BulkForm(FlaskForm):
    """Assign or change the status of the ticked tickets."""

    ticket_ids = SelectMultipleField(coerce=int, validate_choice=False)
    assignee = SelectField(_l("Assign to"), choices=options([NO_CHANGE]), validate_choice=False)
    status = SelectField(_l("Set status"), choices=options([NO_CHANGE, *STATUS_CHOICES]))
    next = HiddenField()


class ReplyForm(FlaskForm):
    """Answer the requester by email."""

    text = TextAreaField(
        _l("Reply to requester"), validators=[DataRequired(), Length(max=TEXT_LIMIT)]
    )
    files = MultipleFileField(_l("Files"))


class NoteForm(FlaskForm):
    """An internal note, never sent."""

    text = TextAreaField(
        _l("Note (never sent)"), validators=[DataRequired(), Length(max=TEXT_LIMIT)]
    )
    files = MultipleFileField(_l("Files"))


class StatusForm(FlaskForm):
    """Change the status."""

    status = SelectField(_l("Status"), choices=options(STATUS_CHOICES))


class PriorityForm(FlaskForm):
    """Change the priority."""

    priority = SelectField(_l("Priority"), choices=options(PRIORITY_CHOICES))


class AssignForm(FlaskForm):
    """Give the ticket to a desk member (empty: unassigned)."""

    assignee = SelectField(
        _l("Assignee"), choices=options([("", _l("Unassigned"))]), validate_choice=False
    )


class MoveForm(FlaskForm):
    """Move the ticket to another desk."""

    desk = SelectField(_l("Move to desk"), coerce=int, choices=options([]))


class FieldsForm(FlaskForm):
    """The enquiry's required fields."""

    organisation = StringField(_l("Organisation"), validators=[Optional(), Length(max=300)])
    contact = StringField(_l("Contact"), validators=[Optional(), Length(max=300)])
    environment = StringField(
        _l("Environment (OS / browser)"), validators=[Optional(), Length(max=300)]
    )


class PhoneTicketForm(FieldsForm):
    """A phone enquiry logged by hand."""

    desk = SelectField(_l("Desk"), coerce=int, choices=options([]))
    subject = StringField(_l("Subject"), validators=[DataRequired(), Length(max=500)])
    requester_name = StringField(_l("Requester name"), validators=[Optional(), Length(max=200)])
    requester_email = StringField(
        _l("Requester email"), validators=[Optional(), Email(), Length(max=320)]
    )
    language = SelectField(_l("Language"), choices=options(LANGUAGE_CHOICES))
    priority = SelectField(_l("Priority"), choices=options(PRIORITY_CHOICES), default="normal")
    question = TextAreaField(_l("Question"), validators=[DataRequired(), Length(max=TEXT_LIMIT)])
    record_as = RadioField(
        _l("Record the question as"),
        choices=options([("note", _l("Internal note")), ("inbound", _l("Inbound"))]),
        default="note",
    )
