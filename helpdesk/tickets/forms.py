"""Forms of the agents' pages; choices are filled in by the views."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

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

from helpdesk.models import Priority
from helpdesk.tickets.workflow import TicketStatus

TEXT_LIMIT = 50_000


def options(pairs: Iterable[tuple[Any, str]]) -> list[SelectChoice]:
    """Select choices from (value, label) pairs."""
    return [SelectChoice(value, label) for value, label in pairs]


STATUS_CHOICES = [(status.value, status.value) for status in TicketStatus]
PRIORITY_CHOICES = [(priority.value, priority.value) for priority in Priority]
LANGUAGE_CHOICES = [("ja", "日本語"), ("en", "English")]


class QueueFilterForm(FlaskForm):
    """Narrow a queue (GET parameters, no CSRF)."""

    class Meta:
        csrf = False

    status = SelectField(
        "Status", choices=options([("", "Any"), *STATUS_CHOICES]), validate_choice=True
    )
    priority = SelectField("Priority", choices=options([("", "Any"), *PRIORITY_CHOICES]))
    assignee = SelectField("Assignee", choices=options([("", "Any")]), validate_choice=False)
    language = SelectField("Language", choices=options([("", "Any"), *LANGUAGE_CHOICES]))
    awaiting = BooleanField("Awaiting information only")
    after = HiddenField()


class BulkForm(FlaskForm):
    """Assign or change the status of the ticked tickets."""

    ticket_ids = SelectMultipleField(coerce=int, validate_choice=False)
    assignee = SelectField("Assign to", choices=options([("", "no change")]), validate_choice=False)
    status = SelectField("Set status", choices=options([("", "no change"), *STATUS_CHOICES]))
    next = HiddenField()


class ReplyForm(FlaskForm):
    """Answer the requester by email."""

    text = TextAreaField("Reply to requester", validators=[DataRequired(), Length(max=TEXT_LIMIT)])
    files = MultipleFileField("Files")


class NoteForm(FlaskForm):
    """An internal note, never sent."""

    text = TextAreaField("Note (never sent)", validators=[DataRequired(), Length(max=TEXT_LIMIT)])
    files = MultipleFileField("Files")


class StatusForm(FlaskForm):
    """Change the status."""

    status = SelectField("Status", choices=options(STATUS_CHOICES))


class PriorityForm(FlaskForm):
    """Change the priority."""

    priority = SelectField("Priority", choices=options(PRIORITY_CHOICES))


class AssignForm(FlaskForm):
    """Give the ticket to a desk member (empty: unassigned)."""

    assignee = SelectField("Assignee", choices=options([("", "Unassigned")]), validate_choice=False)


class MoveForm(FlaskForm):
    """Move the ticket to another desk."""

    desk = SelectField("Move to desk", coerce=int, choices=options([]))


class FieldsForm(FlaskForm):
    """The enquiry's required fields."""

    organisation = StringField("Organisation", validators=[Optional(), Length(max=300)])
    contact = StringField("Contact", validators=[Optional(), Length(max=300)])
    environment = StringField(
        "Environment (OS / browser)", validators=[Optional(), Length(max=300)]
    )


class PhoneTicketForm(FieldsForm):
    """A phone enquiry logged by hand."""

    desk = SelectField("Desk", coerce=int, choices=options([]))
    subject = StringField("Subject", validators=[DataRequired(), Length(max=500)])
    requester_name = StringField("Requester name", validators=[Optional(), Length(max=200)])
    requester_email = StringField(
        "Requester email", validators=[Optional(), Email(), Length(max=320)]
    )
    language = SelectField("Language", choices=options(LANGUAGE_CHOICES))
    priority = SelectField("Priority", choices=options(PRIORITY_CHOICES), default="normal")
    question = TextAreaField("Question", validators=[DataRequired(), Length(max=TEXT_LIMIT)])
    record_as = RadioField(
        "Record the question as",
        choices=options([("note", "Internal note"), ("inbound", "Inbound")]),
        default="note",
    )
