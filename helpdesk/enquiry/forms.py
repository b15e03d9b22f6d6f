"""The enquiry form: who, the three required fields, the question, files."""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import MultipleFileField
from wtforms import EmailField, StringField, TextAreaField
from wtforms.validators import DataRequired, Email, Length

REQUIRED = "This field is required. / 必須項目です。"


class EnquiryForm(FlaskForm):
    """Every field the desk needs before it may answer is required here."""

    name = StringField("Your name / お名前", validators=[DataRequired(REQUIRED), Length(max=200)])
    email = EmailField(
        "Email for our answer / 回答先メールアドレス",
        validators=[
            DataRequired(REQUIRED),
            Email(
                "Enter a valid email address. / 正しいメールアドレスを入力してください。",
                check_deliverability=False,
            ),
            Length(max=320),
        ],
    )
    organisation = StringField(
        "Organisation name / 機関名・所属機関名",
        validators=[DataRequired(REQUIRED), Length(max=300)],
        description="Individuals: write 個人 / individual. / 個人の方は「個人」とご記入ください。",
    )
    contact = StringField(
        "Contact (phone number) / 連絡先(電話番号)",
        validators=[DataRequired(REQUIRED), Length(max=300)],
    )
    environment = StringField(
        "Usage environment (OS and browser) / 利用環境(OS・ブラウザ)",
        validators=[DataRequired(REQUIRED), Length(max=300)],
        description=(
            "Proposed from your browser; correct it if you use another device. / "
            "お使いのブラウザから推定しました。別の端末の場合は直してください。"
        ),
    )
    subject = StringField("Subject / 件名", validators=[DataRequired(REQUIRED), Length(max=200)])
    question = TextAreaField(
        "Your question / お問い合わせ内容",
        validators=[DataRequired(REQUIRED), Length(max=20000)],
    )
    attachments = MultipleFileField("Files (optional) / 添付ファイル(任意)")
