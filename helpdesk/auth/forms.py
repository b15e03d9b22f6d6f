"""Sign-in and account security forms."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length, Regexp, ValidationError

MIN_PASSWORD_LENGTH = 12


class LoginForm(FlaskForm):
    """Email and password."""

    email = EmailField(_l("Email address"), validators=[DataRequired(), Length(max=320)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=1024)])


def _code_field() -> StringField:
    return StringField(
        _l("Code from your authenticator app"),
        validators=[
            DataRequired(message=_l("Enter the 6-digit code.")),
            Regexp(r"^\s*\d{3}\s?\d{3}\s*$", message=_l("The code is 6 digits.")),
        ],
    )


class CodeForm(FlaskForm):
    """The second sign-in step: a TOTP code, or one of the account's recovery codes."""

    code = StringField(
        _l("Code from your authenticator app, or a recovery code"),
        validators=[
            DataRequired(message=_l("Enter the 6-digit code.")),
            Regexp(
                r"^\s*(\d{3}\s?\d{3}|[A-Za-z2-7]{5}-?[A-Za-z2-7]{5})\s*$",
                message=_l("The code is 6 digits; a recovery code is 10 letters and digits."),
            ),
        ],
    )


class PasswordChangeForm(FlaskForm):
    """The current password, and the new one twice."""

    current = PasswordField(_l("Current password"), validators=[DataRequired(), Length(max=1024)])
    new = PasswordField(
        _l("New password"),
        validators=[
            DataRequired(),
            Length(
                min=MIN_PASSWORD_LENGTH,
                max=1024,
                message=_l("The new password needs at least %(min)d characters."),
            ),
        ],
        description=_l(
            "At least %(min)d characters; a few unrelated words work well.",
            min=MIN_PASSWORD_LENGTH,
        ),
    )
    confirm = PasswordField(
        _l("New password again"),
        validators=[
            DataRequired(),
            EqualTo("new", message=_l("The two new passwords differ.")),
        ],
    )

    def validate_new(self, field: PasswordField) -> None:
        """A new password must differ from the current one."""
        if field.data and field.data == self.current.data:
            raise ValidationError(_l("The new password is the same as the current one."))


class TotpEnableForm(FlaskForm):
    """Confirm the authenticator app with a code."""

    code = _code_field()


class RecoveryCodesForm(FlaskForm):
    """New recovery codes need the password."""

    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=1024)])


class TotpDisableForm(FlaskForm):
    """Turning the second factor off needs the password."""

    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=1024)])
