"""The report filter form (a GET form: no CSRF token, nothing changes)."""

from __future__ import annotations

from datetime import date, timedelta

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, SelectField, SelectMultipleField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Optional, ValidationError

from helpdesk.i18n import lazy_language_name
from helpdesk.reports.queries import DIMENSIONS
from helpdesk.reports.services import LANGUAGES, ReportRequest

DEFAULT_DAYS = 30
MAX_DAYS = 366 * 2


class ReportForm(FlaskForm):
    """Period (desk-local dates, inclusive), desks, label language and the SLA grouping the
    page shows (one at a time; the downloads of the whole report carry all of them)."""

    class Meta:
        csrf = False

    date_from = DateField(_l("From"), validators=[Optional()])
    date_to = DateField(_l("To"), validators=[Optional()])
    desk = SelectMultipleField(_l("Desks"), coerce=int, validators=[Optional()])
    lang = SelectField(
        _l("Language"),
        choices=[SelectChoice(code, lazy_language_name(code)) for code in LANGUAGES],
        default="en",
    )
    group = SelectField(
        _l("Grouping"), choices=[SelectChoice(d, d) for d in DIMENSIONS], default=DIMENSIONS[0]
    )

    def validate_date_to(self, field: DateField) -> None:
        """The period must not end before it starts, nor span more than two years."""
        if field.data and self.date_from.data:
            if field.data < self.date_from.data:
                raise ValidationError(_l("The period ends before it starts."))
            if (field.data - self.date_from.data).days > MAX_DAYS:
                raise ValidationError(_l("Choose a period of at most two years."))


def report_request(form: ReportForm, today: date) -> ReportRequest:
    """The request a validated form describes; the last 30 days up to today by default."""
    date_to = form.date_to.data or today
    date_from = form.date_from.data or date_to - timedelta(days=DEFAULT_DAYS - 1)
    desk_ids = tuple(sorted(set(form.desk.data))) if form.desk.data else None
    return ReportRequest(date_from, date_to, desk_ids, form.lang.data or "en")


def show_period(form: ReportForm, request: ReportRequest) -> None:
    """Fill the date inputs with the period the report covers, defaults included, so that they
    show the range the heading does (an input left empty would read as "no period")."""
    for field, day in ((form.date_from, request.date_from), (form.date_to, request.date_to)):
        field.data, field.raw_data = day, [day.isoformat()]
