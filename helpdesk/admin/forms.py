"""Admin forms, and the parsers that turn their text fields into settings."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from datetime import time
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    Field,
    HiddenField,
    IntegerField,
    RadioField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    TimeField,
)
from wtforms.validators import (
    AnyOf,
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    Regexp,
    ValidationError,
)

from helpdesk.models import Desk, Role
from helpdesk.models.desk import AttachmentAction
from helpdesk.models.mailbox import ImapSecurity
from helpdesk.sla.policy import PRIORITIES
from mail_ingest.policy import DEFAULT_FORBIDDEN_EXTENSIONS

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
SLA_TARGETS = ("first_response", "next_response", "resolution")
CANNED_PLACEHOLDERS = ("ticket_number", "requester_name", "desk_hours")
LANGUAGES = (("ja", "Japanese"), ("en", "English"))

EMAIL_PATTERN = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"
_INTERVAL = re.compile(r"^(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})$")
_EXTENSION = re.compile(r"^[a-z0-9]{1,16}$")
_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")


# -- parsers (pure) ----------------------------------------------------------------------------


def _clock(hours: str, minutes: str, text: str) -> time:
    """A wall time from the digits of "HH:MM"; ValueError naming the interval when invalid."""
    try:
        return time(int(hours), int(minutes))
    except ValueError:
        raise ValueError(f'"{text}" has a time that does not exist (use 00:00 to 23:59)') from None


def parse_hours(text: str) -> list[list[str]]:
    """Parse "08:30-12:00, 13:00-17:15" into [["08:30", "12:00"], ["13:00", "17:15"]].

    An empty text means the desk is closed that day. Raises ValueError saying what is wrong.
    """
    intervals: list[tuple[time, time]] = []
    for part in (p.strip() for p in re.split(r"[,;]", text)):
        if not part:
            continue
        match = _INTERVAL.match(part)
        if match is None:
            raise ValueError(f'"{part}" is not an interval: write it as 09:00-17:00')
        opens = _clock(match[1], match[2], part)
        closes = _clock(match[3], match[4], part)
        if not opens < closes:
            raise ValueError(f'"{part}": the opening time must come before the closing time')
        intervals.append((opens, closes))
    intervals.sort()
    for (_, closes), (opens, _) in zip(intervals, intervals[1:], strict=False):
        if opens < closes:
            raise ValueError(f"the intervals overlap at {opens:%H:%M}; separate them")
    return [[f"{o:%H:%M}", f"{c:%H:%M}"] for o, c in intervals]


def format_hours(intervals: Iterable[Sequence[str]]) -> str:
    """The text form of one day's intervals, e.g. "08:30-12:00, 13:00-17:15"."""
    return ", ".join(f"{opens}-{closes}" for opens, closes in intervals)


def parse_extensions(text: str) -> list[str] | None:
    """Parse "exe, js zip" into ["exe", "js", "zip"]; an empty text means the portal default."""
    items = [item for item in re.split(r"[\s,]+", text.strip()) if item]
    if not items:
        return None
    bad = [item for item in items if not _EXTENSION.match(item)]
    if bad:
        raise ValueError(
            f"not valid: {', '.join(bad)}. Write extensions in lower case without dots, "
            "for example: exe, js, zip"
        )
    return sorted(set(items))


def parse_keywords(text: str) -> list[str]:
    """One keyword or phrase per line or between commas; blanks dropped, order kept."""
    seen: dict[str, None] = {}
    for item in re.split(r"[,\n、]", text):
        if item.strip():
            seen.setdefault(item.strip(), None)
    return list(seen)


def check_timezone(name: str) -> str:
    """The timezone name if zoneinfo knows it; ValueError otherwise."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f'"{name}" is not a known timezone; use a name like Asia/Tokyo or UTC'
        ) from None
    return name


def unknown_placeholders(body: str) -> list[str]:
    """Placeholders in a canned answer that the helpdesk does not fill in."""
    return [name for name in _PLACEHOLDER.findall(body) if name not in CANNED_PLACEHOLDERS]


def default_extensions_text() -> str:
    """The portal's forbidden extensions, as shown next to the field."""
    return ", ".join(sorted(DEFAULT_FORBIDDEN_EXTENSIONS))


# -- validators --------------------------------------------------------------------------------


def _parsed_by(parser: Any) -> Any:
    """A validator that turns the parser's ValueError into the field's error."""

    def validate(form: FlaskForm, field: Field) -> None:
        try:
            parser(field.data or "")
        except ValueError as exc:
            raise ValidationError(str(exc)) from None

    return validate


def _choices(pairs: Iterable[tuple[Any, str]]) -> list[SelectChoice]:
    return [SelectChoice(value, label) for value, label in pairs]


def _desk_choices(desks: Sequence[Desk]) -> list[SelectChoice]:
    return _choices((desk.id, desk.name) for desk in desks)


# -- users -------------------------------------------------------------------------------------


class UserEditForm(FlaskForm):
    """Name, role and desks of an account."""

    name = StringField("Name", validators=[DataRequired(), Length(max=200)])
    role = SelectField(
        "Role",
        choices=_choices((role.value, role.value.capitalize()) for role in Role),
        coerce=Role,
        validators=[InputRequired()],
    )
    desk_ids = SelectMultipleField(
        "Desks", coerce=int, description="Agents see and work only the tickets of these desks."
    )

    def __init__(self, *args: Any, desks: Sequence[Desk] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.desk_ids.choices = _desk_choices(desks)


class UserCreateForm(UserEditForm):
    """A new account; its password is generated and shown once."""

    email = StringField(
        "Email",
        validators=[
            DataRequired(),
            Length(max=320),
            Regexp(EMAIL_PATTERN, message="This is not an email address."),
        ],
    )

    def __init__(self, *args: Any, taken: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._taken = taken

    def validate_email(self, field: Field) -> None:
        """Refuse an address another account already has."""
        if self._taken is not None and self._taken(field.data):
            raise ValidationError("An account with this email already exists.")


class ActionForm(FlaskForm):
    """A button that changes something: only the CSRF token."""


class ActiveForm(FlaskForm):
    """The deactivate / reactivate button."""

    active = HiddenField(validators=[AnyOf(["0", "1"], message="Say 1 or 0.")])


# -- desks -------------------------------------------------------------------------------------

SLUG_PATTERN = r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$"


class DeskCreateForm(FlaskForm):
    """A new desk: its address on the web form, names and timezone; the rest is edited after."""

    slug = StringField(
        "Short name",
        validators=[
            DataRequired(),
            Length(max=64),
            Regexp(
                SLUG_PATTERN,
                message="Use lower-case letters, digits and hyphens (not at either end).",
            ),
        ],
        description="Used in the web form's address (/enquiry/<short name>); cannot change later.",
    )
    name = StringField("Name (English)", validators=[DataRequired(), Length(max=200)])
    name_ja = StringField("Name (Japanese)", validators=[Length(max=200)])
    timezone = StringField(
        "Timezone",
        default="Asia/Tokyo",
        validators=[DataRequired(), Length(max=64), _parsed_by(check_timezone)],
    )

    def __init__(self, *args: Any, taken: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._taken = taken

    def validate_slug(self, field: Field) -> None:
        """A short name belongs to one desk only."""
        if self._taken is not None and self._taken(field.data or ""):
            raise ValidationError("Another desk already has this short name.")


class DeskForm(FlaskForm):
    """A desk's names, mail behaviour, attachment policy, calendar and SLA targets."""

    name = StringField("Name (English)", validators=[DataRequired(), Length(max=200)])
    name_ja = StringField("Name (Japanese)", validators=[Length(max=200)])
    reply_from = StringField(
        "Replies sent from",
        validators=[
            Optional(),
            Length(max=320),
            Regexp(EMAIL_PATTERN, message="This is not an email address."),
        ],
    )
    requires_fields = BooleanField(
        "Require organisation name, contact details and usage environment"
    )
    applies_attachment_policy = BooleanField("Apply the attachment policy")
    attachment_action = SelectField(
        "When a message carries a forbidden file",
        choices=_choices(
            [
                (AttachmentAction.REJECT.value, "Reject the whole message and tell the sender"),
                (
                    AttachmentAction.STRIP.value,
                    "Remove the files, keep the message, tell the sender",
                ),
            ]
        ),
        coerce=AttachmentAction,
    )
    forbidden_extensions = StringField(
        "Forbidden extensions",
        validators=[_parsed_by(parse_extensions)],
        description="Lower case, without dots, separated by commas or spaces. "
        "Leave empty for the portal default.",
    )
    timezone = StringField(
        "Timezone", validators=[DataRequired(), Length(max=64), _parsed_by(check_timezone)]
    )
    national_holidays = BooleanField("Closed on Japanese national holidays")
    year_end_closure = BooleanField("Closed for the year end (29 December to 3 January)")
    accepts_email = BooleanField(
        "Takes new enquiries (web form, and mail routed to it by rules)",
        description="When off, rules fall back to the mailbox's default desk and the desk's "
        "web form is closed.",
    )

    def opening_hours(self) -> dict[str, list[list[str]]]:
        """The weekly hours as stored on the desk ("0" is Monday); closed days left out."""
        hours = {str(day): parse_hours(self[f"hours_{day}"].data or "") for day in range(7)}
        return {day: intervals for day, intervals in hours.items() if intervals}

    def sla_targets(self) -> dict[str, dict[str, int]]:
        """The SLA targets given, by priority; empty fields (the defaults) left out."""
        targets: dict[str, dict[str, int]] = {}
        for priority in PRIORITIES:
            for target in SLA_TARGETS:
                value = self[f"sla_{priority}_{target}"].data
                if value is not None:
                    targets.setdefault(priority, {})[target] = value
        return targets

    @staticmethod
    def data_of(desk: Desk) -> dict[str, Any]:
        """The form's initial values from a desk."""
        data: dict[str, Any] = {
            "name": desk.name,
            "name_ja": desk.name_ja,
            "reply_from": desk.reply_from,
            "requires_fields": desk.requires_fields,
            "applies_attachment_policy": desk.applies_attachment_policy,
            "attachment_action": desk.attachment_action,
            "forbidden_extensions": " ".join(desk.forbidden_extensions or ()),
            "timezone": desk.timezone,
            "national_holidays": desk.national_holidays,
            "year_end_closure": desk.year_end_closure,
            "accepts_email": desk.accepts_email,
        }
        for day in range(7):
            data[f"hours_{day}"] = format_hours((desk.opening_hours or {}).get(str(day), []))
        for priority, targets in (desk.sla_targets or {}).items():
            for target, minutes in targets.items():
                data[f"sla_{priority}_{target}"] = minutes
        return data


for _day, _weekday in enumerate(WEEKDAYS):
    setattr(
        DeskForm,
        f"hours_{_day}",
        StringField(_weekday, validators=[Length(max=200), _parsed_by(parse_hours)]),
    )
for _priority in PRIORITIES:
    for _target in SLA_TARGETS:
        setattr(
            DeskForm,
            f"sla_{_priority}_{_target}",
            IntegerField(
                f"{_priority} {_target.replace('_', ' ')}",
                validators=[
                    Optional(),
                    NumberRange(min=1, max=1_000_000, message="Give a whole number of minutes."),
                ],
            ),
        )


class OverrideForm(FlaskForm):
    """An extra closure, or a special opening day, on one date."""

    day = DateField("Date", validators=[InputRequired(message="Give a date.")])
    name = StringField(
        "Name",
        validators=[DataRequired(), Length(max=200)],
        description="Shown in the calendar, e.g. 臨時休業 (building maintenance)",
    )
    kind = RadioField(
        "This day is",
        choices=_choices([("closed", "closed"), ("open", "open (special opening)")]),
        default="closed",
    )
    opens = TimeField("Opens", validators=[Optional()])
    closes = TimeField(
        "Closes",
        validators=[Optional()],
        description="Only for a special opening; empty means the desk's usual hours.",
    )

    def validate(self, extra_validators: Any = None) -> bool:
        """Hours belong to an opening, and opening comes before closing."""
        valid = super().validate(extra_validators)
        opens, closes = self.opens.data, self.closes.data
        if self.kind.data == "closed" and (opens or closes):
            self.closes.errors.append("A closed day has no hours; leave Opens and Closes empty.")
            valid = False
        elif opens and closes and not opens < closes:
            self.closes.errors.append("The closing time must come after the opening time.")
            valid = False
        return valid


# -- mailboxes ---------------------------------------------------------------------------------


class MailboxForm(FlaskForm):
    """Where and how to read a support mailbox."""

    name = StringField(
        "Name",
        validators=[
            DataRequired(),
            Length(max=100),
            Regexp(r"^[a-z0-9][a-z0-9-]*$", message="Use lower-case letters, digits and -."),
        ],
    )
    address = StringField(
        "Address",
        validators=[
            DataRequired(),
            Length(max=320),
            Regexp(EMAIL_PATTERN, message="This is not an email address."),
        ],
    )
    host = StringField("IMAP host", validators=[DataRequired(), Length(max=255)])
    port = IntegerField(
        "Port",
        default=993,
        validators=[InputRequired(), NumberRange(min=1, max=65535, message="1 to 65535.")],
    )
    security = SelectField(
        "Security",
        choices=_choices(
            [
                (ImapSecurity.SSL.value, "SSL/TLS"),
                (ImapSecurity.STARTTLS.value, "STARTTLS"),
                (ImapSecurity.NONE.value, "None (loopback only)"),
            ]
        ),
        coerce=ImapSecurity,
    )
    username = StringField("User name", validators=[DataRequired(), Length(max=320)])
    secret_env = StringField(
        "Password variable",
        validators=[
            DataRequired(),
            Length(max=100),
            Regexp(
                r"^[A-Za-z_][A-Za-z0-9_]*$",
                message="Give the NAME of an environment variable, e.g. HELPDESK_MAILBOX_PASSWORD.",
            ),
        ],
        description="The name of the environment variable that holds the password; "
        "the password itself is never stored or shown here.",
    )
    folder = StringField("Folder", default="INBOX", validators=[DataRequired(), Length(max=200)])
    processed_folder = StringField(
        "Move imported mail to folder",
        validators=[Optional(), Length(max=200)],
        description="Leave empty to keep imported mail in place, marked with the flag.",
    )
    processed_flag = StringField(
        "Flag for imported mail",
        default="$HelpdeskImported",
        validators=[
            DataRequired(),
            Length(max=64),
            Regexp(r"^\$?[A-Za-z0-9_]+$", message="A keyword like $HelpdeskImported."),
        ],
    )
    poll_interval = IntegerField(
        "Poll every (seconds)",
        default=60,
        validators=[InputRequired(), NumberRange(min=10, max=86400, message="10 to 86400.")],
    )
    enabled = BooleanField("Enabled", default=True)
    default_desk_id = SelectField("Default desk", coerce=int, validators=[InputRequired()])

    def __init__(
        self, *args: Any, desks: Sequence[Desk] = (), taken: Any = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.default_desk_id.choices = _desk_choices(desks)
        self._taken = taken

    def validate_name(self, field: Field) -> None:
        """Refuse a name another mailbox already has."""
        if self._taken is not None and self._taken(field.data):
            raise ValidationError("Another mailbox already has this name.")


class RoutingRuleForm(FlaskForm):
    """Mail to the mailbox that matches every given condition goes to the desk."""

    desk_id = SelectField("Desk", coerce=int, validators=[InputRequired()])
    recipient = StringField(
        "Sent to",
        validators=[
            Optional(),
            Length(max=320),
            Regexp(EMAIL_PATTERN, message="This is not an email address."),
        ],
    )
    keywords = TextAreaField(
        "Keywords",
        validators=[Length(max=4000)],
        description="One per line or separated by commas; any one found in subject or body.",
    )
    sender_domain = StringField(
        "Sender domain",
        validators=[
            Optional(),
            Length(max=255),
            Regexp(r"^[A-Za-z0-9.-]+\.[A-Za-z]{2,}$", message="A domain like example.co.jp."),
        ],
    )
    priority = IntegerField(
        "Priority",
        default=100,
        validators=[InputRequired(), NumberRange(min=0, max=10000, message="0 to 10000.")],
        description="Lower numbers win.",
    )

    def __init__(self, *args: Any, desks: Sequence[Desk] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.desk_id.choices = _desk_choices(desks)

    def validate_priority(self, field: Field) -> None:
        """A rule needs at least one condition."""
        if not (self.recipient.data or self.sender_domain.data or self.keyword_list()):
            raise ValidationError("Give at least one condition: recipient, keywords or domain.")

    def keyword_list(self) -> list[str]:
        """The keywords as a list."""
        return parse_keywords(self.keywords.data or "")


# -- canned answers ----------------------------------------------------------------------------


class CannedAnswerForm(FlaskForm):
    """A reusable answer of a desk in one language."""

    desk_id = SelectField("Desk", coerce=int, validators=[InputRequired()])
    language = SelectField("Language", choices=_choices(LANGUAGES))
    title = StringField("Title", validators=[DataRequired(), Length(max=200)])
    body = TextAreaField(
        "Text",
        validators=[DataRequired(), Length(max=20000)],
        description="Placeholders filled in when the answer is used: "
        + ", ".join("{" + name + "}" for name in CANNED_PLACEHOLDERS)
        + " (the ticket's number, the requester's name, the desk's opening hours).",
    )

    def __init__(self, *args: Any, desks: Sequence[Desk] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.desk_id.choices = [SelectChoice(0, "All desks"), *_desk_choices(desks)]

    def validate_body(self, field: Field) -> None:
        """Only the documented placeholders may appear in braces."""
        unknown = unknown_placeholders(field.data or "")
        if unknown:
            names = ", ".join("{" + name + "}" for name in unknown)
            known = ", ".join("{" + name + "}" for name in CANNED_PLACEHOLDERS)
            raise ValidationError(f"Unknown placeholder {names}; use only {known}.")
