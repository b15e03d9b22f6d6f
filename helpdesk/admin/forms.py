"""Admin forms, and the parsers that turn their text fields into settings."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from datetime import time
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask_babel import gettext
from flask_babel import lazy_gettext as _l
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

from helpdesk.i18n import LABELS, current_language, lazy_language_name, lazy_weekday
from helpdesk.models import Desk, Role
from helpdesk.models.desk import AttachmentAction
from helpdesk.models.mailbox import ImapSecurity
from helpdesk.sla.policy import PRIORITIES
from mail_ingest.policy import DEFAULT_FORBIDDEN_EXTENSIONS

SLA_TARGETS = ("first_response", "next_response", "resolution")
SLA_TARGET_LABELS = {
    "first_response": _l("First response"),
    "next_response": _l("Next response"),
    "resolution": _l("Resolution"),
}
CANNED_PLACEHOLDERS = ("ticket_number", "requester_name", "desk_hours")
LANGUAGES = ("ja", "en")
SECURITY_LABELS = {
    ImapSecurity.SSL.value: "SSL/TLS",
    ImapSecurity.STARTTLS.value: "STARTTLS",
    ImapSecurity.NONE.value: _l("None (loopback only)"),
}

ATTACHMENT_ACTIONS = {
    AttachmentAction.REJECT.value: _l("Reject the whole message and tell the sender"),
    AttachmentAction.STRIP.value: _l("Remove the files, keep the message, tell the sender"),
}
# The same choice in a word, for the list of desks.
ATTACHMENT_ACTIONS_SHORT = {
    AttachmentAction.REJECT.value: _l("reject the message"),
    AttachmentAction.STRIP.value: _l("remove the files"),
}

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
        raise ValueError(
            gettext('"%(text)s" has a time that does not exist (use 00:00 to 23:59)', text=text)
        ) from None


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
            raise ValueError(
                gettext('"%(part)s" is not an interval: write it as 09:00-17:00', part=part)
            )
        opens = _clock(match[1], match[2], part)
        closes = _clock(match[3], match[4], part)
        if not opens < closes:
            raise ValueError(
                gettext('"%(part)s": the opening time must come before the closing time', part=part)
            )
        intervals.append((opens, closes))
    intervals.sort()
    for (_, closes), (opens, _) in zip(intervals, intervals[1:], strict=False):
        if opens < closes:
            raise ValueError(
                gettext(
                    "the intervals overlap at %(time)s; separate them", time=opens.strftime("%H:%M")
                )
            )
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
            gettext(
                "not valid: %(extensions)s. Write extensions in lower case without dots, "
                "for example: exe, js, zip",
                extensions=", ".join(bad),
            )
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
            gettext(
                '"%(name)s" is not a known timezone; use a name like Asia/Tokyo or UTC', name=name
            )
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


def _desk_name(desk: Desk) -> str:
    return desk.name_in(current_language())


def _desk_choices(desks: Sequence[Desk]) -> list[SelectChoice]:
    return _choices((desk.id, _desk_name(desk)) for desk in desks)


# -- users -------------------------------------------------------------------------------------


class UserEditForm(FlaskForm):
    """Name, role and desks of an account."""

    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    role = SelectField(
        _l("Role"),
        choices=_choices((role.value, LABELS[role.value]) for role in Role),
        coerce=Role,
        validators=[InputRequired()],
    )
    desk_ids = SelectMultipleField(
        _l("Desks"),
        coerce=int,
        description=_l("Agents see and work only the tickets of these desks."),
    )

    def __init__(self, *args: Any, desks: Sequence[Desk] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.desk_ids.choices = _desk_choices(desks)


class UserCreateForm(UserEditForm):
    """A new account; its password is generated and shown once."""

    email = StringField(
        _l("Email address"),
        validators=[
            DataRequired(),
            Length(max=320),
            Regexp(EMAIL_PATTERN, message=_l("This is not an email address.")),
        ],
    )

    def __init__(self, *args: Any, taken: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._taken = taken

    def validate_email(self, field: Field) -> None:
        """Refuse an address another account already has."""
        if self._taken is not None and self._taken(field.data):
            raise ValidationError(_l("An account with this email already exists."))


class ActionForm(FlaskForm):
    """A button that changes something: only the CSRF token."""


class ActiveForm(FlaskForm):
    """The deactivate / reactivate button."""

    active = HiddenField(validators=[AnyOf(["0", "1"], message=_l("Say 1 or 0."))])


# -- desks -------------------------------------------------------------------------------------

SLUG_PATTERN = r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$"


class DeskCreateForm(FlaskForm):
    """A new desk: its address on the web form, names and timezone; the rest is edited after."""

    slug = StringField(
        _l("Short name"),
        validators=[
            DataRequired(),
            Length(max=64),
            Regexp(
                SLUG_PATTERN,
                message=_l("Use lower-case letters, digits and hyphens (not at either end)."),
            ),
        ],
        description=_l(
            "Used in the web form's address (/enquiry/<short name>); cannot change later."
        ),
    )
    name = StringField(_l("Name (English)"), validators=[DataRequired(), Length(max=200)])
    name_ja = StringField(_l("Name (Japanese)"), validators=[Length(max=200)])
    timezone = StringField(
        _l("Timezone"),
        default="Asia/Tokyo",
        validators=[DataRequired(), Length(max=64), _parsed_by(check_timezone)],
    )

    def __init__(self, *args: Any, taken: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._taken = taken

    def validate_slug(self, field: Field) -> None:
        """A short name belongs to one desk only."""
        if self._taken is not None and self._taken(field.data or ""):
            raise ValidationError(_l("Another desk already has this short name."))


class DeskForm(FlaskForm):
    """A desk's names, mail behaviour, attachment policy, calendar and SLA targets."""

    name = StringField(_l("Name (English)"), validators=[DataRequired(), Length(max=200)])
    name_ja = StringField(_l("Name (Japanese)"), validators=[Length(max=200)])
    reply_from = StringField(
        _l("Replies sent from"),
        validators=[
            Optional(),
            Length(max=320),
            Regexp(EMAIL_PATTERN, message=_l("This is not an email address.")),
        ],
    )
    requires_fields = BooleanField(
        _l("Require organisation name, contact details and usage environment")
    )
    applies_attachment_policy = BooleanField(_l("Apply the attachment policy"))
    attachment_action = SelectField(
        _l("When a message carries a forbidden file"),
        choices=_choices(ATTACHMENT_ACTIONS.items()),
        coerce=AttachmentAction,
    )
    forbidden_extensions = StringField(
        _l("Forbidden extensions"),
        validators=[_parsed_by(parse_extensions)],
        description=_l(
            "Lower case, without dots, separated by commas or spaces. "
            "Leave empty for the portal default."
        ),
    )
    timezone = StringField(
        _l("Timezone"), validators=[DataRequired(), Length(max=64), _parsed_by(check_timezone)]
    )
    national_holidays = BooleanField(_l("Closed on Japanese national holidays"))
    year_end_closure = BooleanField(_l("Closed for the year end (29 December to 3 January)"))
    accepts_email = BooleanField(
        _l("Takes new enquiries (web form, and mail routed to it by rules)"),
        description=_l(
            "When off, rules fall back to the mailbox's default desk and the desk's "
            "web form is closed."
        ),
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


for _day in range(7):
    setattr(
        DeskForm,
        f"hours_{_day}",
        StringField(lazy_weekday(_day), validators=[Length(max=200), _parsed_by(parse_hours)]),
    )
for _priority in PRIORITIES:
    for _target in SLA_TARGETS:
        setattr(
            DeskForm,
            f"sla_{_priority}_{_target}",
            IntegerField(
                _l(
                    "%(priority)s: %(target)s",
                    priority=LABELS[_priority],
                    target=SLA_TARGET_LABELS[_target],
                ),
                validators=[
                    Optional(),
                    NumberRange(
                        min=1, max=1_000_000, message=_l("Give a whole number of minutes.")
                    ),
                ],
            ),
        )


class OverrideForm(FlaskForm):
    """An extra closure, or a special opening day, on one date."""

    day = DateField(_l("Date"), validators=[InputRequired(message=_l("Give a date."))])
    name = StringField(
        _l("Name"),
        validators=[DataRequired(), Length(max=200)],
        description=_l("Shown in the calendar, e.g. 臨時休業 (building maintenance)"),
    )
    kind = RadioField(
        _l("This day is"),
        choices=_choices([("closed", _l("closed")), ("open", _l("open (special opening)"))]),
        default="closed",
    )
    opens = TimeField(_l("Opens"), validators=[Optional()])
    closes = TimeField(
        _l("Closes"),
        validators=[Optional()],
        description=_l("Only for a special opening; empty means the desk's usual hours."),
    )

    def validate(self, extra_validators: Any = None) -> bool:
        """Hours belong to an opening, and opening comes before closing."""
        valid: bool = super().validate(extra_validators)
        opens, closes = self.opens.data, self.closes.data
        if self.kind.data == "closed" and (opens or closes):
            self.closes.errors.append(
                gettext("A closed day has no hours; leave Opens and Closes empty.")
            )
            valid = False
        elif opens and closes and not opens < closes:
            self.closes.errors.append(gettext("The closing time must come after the opening time."))
            valid = False
        return valid


# -- mailboxes ---------------------------------------------------------------------------------


class MailboxForm(FlaskForm):
    """Where and how to read a support mailbox."""

    name = StringField(
        _l("Name"),
        validators=[
            DataRequired(),
            Length(max=100),
            Regexp(r"^[a-z0-9][a-z0-9-]*$", message=_l("Use lower-case letters, digits and -.")),
        ],
    )
    address = StringField(
        _l("Address"),
        validators=[
            DataRequired(),
            Length(max=320),
            Regexp(EMAIL_PATTERN, message=_l("This is not an email address.")),
        ],
    )
    host = StringField(_l("IMAP host"), validators=[DataRequired(), Length(max=255)])
    port = IntegerField(
        _l("Port"),
        default=993,
        validators=[InputRequired(), NumberRange(min=1, max=65535, message=_l("1 to 65535."))],
    )
    security = SelectField(
        _l("Security"), choices=_choices(SECURITY_LABELS.items()), coerce=ImapSecurity
    )
    username = StringField(_l("User name"), validators=[DataRequired(), Length(max=320)])
    secret_env = StringField(
        _l("Password variable"),
        validators=[
            DataRequired(),
            Length(max=100),
            Regexp(
                r"^[A-Za-z_][A-Za-z0-9_]*$",
                message=_l(
                    "Give the NAME of an environment variable, e.g. HELPDESK_MAILBOX_PASSWORD."
                ),
            ),
        ],
        description=_l(
            "The name of the environment variable that holds the password; "
            "the password itself is never stored or shown here."
        ),
    )
    folder = StringField(
        _l("Folder"), default="INBOX", validators=[DataRequired(), Length(max=200)]
    )
    processed_folder = StringField(
        _l("Move imported mail to folder"),
        validators=[Optional(), Length(max=200)],
        description=_l("Leave empty to keep imported mail in place, marked with the flag."),
    )
    processed_flag = StringField(
        _l("Flag for imported mail"),
        default="$HelpdeskImported",
        validators=[
            DataRequired(),
            Length(max=64),
            Regexp(r"^\$?[A-Za-z0-9_]+$", message=_l("A keyword like $HelpdeskImported.")),
        ],
    )
    poll_interval = IntegerField(
        _l("Poll every (seconds)"),
        default=60,
        validators=[InputRequired(), NumberRange(min=10, max=86400, message=_l("10 to 86400."))],
    )
    enabled = BooleanField(_l("Enabled"), default=True)
    default_desk_id = SelectField(_l("Default desk"), coerce=int, validators=[InputRequired()])

    def __init__(
        self, *args: Any, desks: Sequence[Desk] = (), taken: Any = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.default_desk_id.choices = _desk_choices(desks)
        self._taken = taken

    def validate_name(self, field: Field) -> None:
        """Refuse a name another mailbox already has."""
        if self._taken is not None and self._taken(field.data):
            raise ValidationError(_l("Another mailbox already has this name."))


class RoutingRuleForm(FlaskForm):
    """Mail to the mailbox that matches every given condition goes to the desk."""

    desk_id = SelectField(_l("Desk"), coerce=int, validators=[InputRequired()])
    recipient = StringField(
        _l("Sent to"),
        validators=[
            Optional(),
            Length(max=320),
            Regexp(EMAIL_PATTERN, message=_l("This is not an email address.")),
        ],
    )
    keywords = TextAreaField(
        _l("Keywords"),
        validators=[Length(max=4000)],
        description=_l("One per line or separated by commas; any one found in subject or body."),
    )
    sender_domain = StringField(
        _l("Sender domain"),
        validators=[
            Optional(),
            Length(max=255),
            Regexp(r"^[A-Za-z0-9.-]+\.[A-Za-z]{2,}$", message=_l("A domain like example.co.jp.")),
        ],
    )
    priority = IntegerField(
        _l("Priority"),
        default=100,
        validators=[InputRequired(), NumberRange(min=0, max=10000, message=_l("0 to 10000."))],
        description=_l("Lower numbers win."),
    )

    def __init__(self, *args: Any, desks: Sequence[Desk] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.desk_id.choices = _desk_choices(desks)

    def validate_priority(self, field: Field) -> None:
        """A rule needs at least one condition."""
        if not (self.recipient.data or self.sender_domain.data or self.keyword_list()):
            raise ValidationError(_l("Give at least one condition: recipient, keywords or domain."))

    def keyword_list(self) -> list[str]:
        """The keywords as a list."""
        return parse_keywords(self.keywords.data or "")


# -- canned answers ----------------------------------------------------------------------------


class CannedAnswerForm(FlaskForm):
    """A reusable answer of a desk in one language."""

    desk_id = SelectField(_l("Desk"), coerce=int, validators=[InputRequired()])
    language = SelectField(
        _l("Language"), choices=_choices((code, lazy_language_name(code)) for code in LANGUAGES)
    )
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=200)])
    body = TextAreaField(
        _l("Text"),
        validators=[DataRequired(), Length(max=20000)],
        description=_l(
            "Placeholders filled in when the answer is used: %(names)s (the ticket's number, "
            "the requester's name, the desk's opening hours).",
            names=", ".join("{" + name + "}" for name in CANNED_PLACEHOLDERS),
        ),
    )

    def __init__(self, *args: Any, desks: Sequence[Desk] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.desk_id.choices = [SelectChoice(0, _l("All desks")), *_desk_choices(desks)]

    def validate_body(self, field: Field) -> None:
        """Only the documented placeholders may appear in braces."""
        unknown = unknown_placeholders(field.data or "")
        if unknown:
            names = ", ".join("{" + name + "}" for name in unknown)
            known = ", ".join("{" + name + "}" for name in CANNED_PLACEHOLDERS)
            raise ValidationError(
                gettext(
                    "Unknown placeholder %(names)s; use only %(known)s.", names=names, known=known
                )
            )
