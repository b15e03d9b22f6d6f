"""Sign-in and account security forms."""

from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length, Regexp, ValidationError

MIN_PASSWORD_LENGTH = 12


class LoginForm(FlaskForm):
    """Email and password."""

    email = EmailField("Email", validators=[DataRequired(), Length(max=320)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=1024)])


def _code_field(label: str = "Code from your authenticator app") -> StringField:
    return StringField(
        label,
        validators=[
            DataRequired(message="Enter the 6-digit code."),
            Regexp(r"^\s*\d{3}\s?\d{3}\s*$", message="The code is 6 digits."),
        ],
    )


class CodeForm(FlaskForm):
    """The second sign-in step: a TOTP code, or one of the account's recovery codes."""

    code = StringField(
        "Code from your authenticator app, or a recovery code",
        validators=[
            DataRequired(message="Enter the 6-digit code."),
            Regexp(
                r"^\s*(\d{3}\s?\d{3}|[A-Za-z2-7]{5}-?[A-Za-z2-7]{5})\s*$",
                message="The code is 6 digits; a recovery code is 10 letters and digits.",
            ),
        ],
    )


class PasswordChangeForm(FlaskForm):
    """The current password, and the new one twice."""

    current = PasswordField("Current password", validators=[DataRequired(), Length(max=1024)])
    new = PasswordField(
        "New password",
        validators=[
            DataRequired(),
            Length(
                min=MIN_PASSWORD_LENGTH,
                max=1024,
                message=f"The new password needs at least {MIN_PASSWORD_LENGTH} characters.",
            ),
        ],
        description=f"At least {MIN_PASSWORD_LENGTH} characters; a few unrelated words work well.",
    )
    confirm = PasswordField(
        "New password again",
        validators=[DataRequired(), EqualTo("new", message="The two new passwords differ.")],
    )

    def validate_new(self, field: PasswordField) -> None:
        """A new password must differ from the current one."""
        if field.data and field.data == self.current.data:
            raise ValidationError("The new password is the same as the current one.")


class TotpEnableForm(FlaskForm):
    """Confirm the authenticator app with a code."""

    code = _code_field()


class RecoveryCodesForm(FlaskForm):
    """New recovery codes need the password."""

    password = PasswordField("Password", validators=[DataRequired(), Length(max=1024)])


class TotpDisableForm(FlaskForm):
    """Turning the second factor off needs the password."""

    password = PasswordField("Password", validators=[DataRequired(), Length(max=1024)])
