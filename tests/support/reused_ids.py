"""Real-world-shaped mail for Message-ID reuse: one message delivered twice, and different
messages that carry one Message-ID.

Written as raw bytes, as mailers and relays write them: a copy that came through other relays
differs only in the headers they add (Received, Return-Path, Delivered-To, DKIM and spam
verdicts); a relay that cannot pass 8-bit mail on re-encodes it; a PHP form mailer sends every
enquiry with the same Message-ID.
"""

from __future__ import annotations

import base64
import quopri

from tests.support.mailsamples import PDF_BYTES, iso2022jp

DESK = "helpdesk@support.example.test"

THREAD_ID = "<5f2a9c1e-6b7d-4e2a-9f0b-3c4d5e6f7a8b@mail.example-school.jp>"
FORM_ID = "<formmail@www.example-school.jp>"

ENQUIRY_TEXT = """お世話になっております。
留学生の在籍状況の届出を提出しようとすると、エラーになります。
添付の画面をご確認ください。

【機関名】サンプル日本語学校
【連絡先】03-5555-0101
【利用環境】Windows 11 / Google Chrome 131
"""

ENQUIRY_HTML = (
    "<html><body><p>お世話になっております。</p>"
    "<p>留学生の在籍状況の届出を提出しようとすると、エラーになります。<br>"
    "添付の画面をご確認ください。</p>"
    "<p>【機関名】サンプル日本語学校<br>【連絡先】03-5555-0101<br>"
    "【利用環境】Windows 11 / Google Chrome 131</p></body></html>"
)

FORM_BODIES = (
    "お問い合わせ種別：届出\n機関名：サンプル日本語学校\n連絡先：03-5555-0101\n"
    "利用環境：Windows 11 / Edge\n内容：ログインできません。\n",
    "お問い合わせ種別：届出\n機関名：みなと介護サービス株式会社\n連絡先：045-555-0199\n"
    "利用環境：macOS / Safari\n内容：特定技能の届出が送信できません。\n",
    "お問い合わせ種別：その他\n機関名：北星学院\n連絡先：011-555-0142\n"
    "利用環境：iPad / Safari\n内容：パスワードの再設定方法を教えてください。\n",
)


def _qp(text: str) -> bytes:
    return quopri.encodestring(text.encode("utf-8")).replace(b"\n", b"\r\n")


def _b64(data: bytes) -> bytes:
    encoded = base64.b64encode(data)
    return b"\r\n".join(encoded[i : i + 76] for i in range(0, len(encoded), 76))


def multipart_enquiry(
    *,
    message_id: str = THREAD_ID,
    text: str = ENQUIRY_TEXT,
    attachment: bytes = PDF_BYTES,
    encoding: str = "quoted-printable",
    boundary: str = "------------A1B2C3D4E5F6",
) -> bytes:
    """A Thunderbird-style enquiry: text and HTML alternatives and a PDF of the screen.

    ``encoding`` is the body parts' transfer encoding: a relay without 8BITMIME re-encodes a
    message, so two copies of one message may differ in it (and in their boundaries).
    """
    encode = _qp if encoding == "quoted-printable" else lambda t: _b64(t.encode("utf-8"))
    inner = f"{boundary}-alt"
    head = (
        f"Message-ID: {message_id}\r\n"
        "Date: Wed, 25 Nov 2026 09:41:07 +0900\r\n"
        "MIME-Version: 1.0\r\n"
        "User-Agent: Mozilla Thunderbird\r\n"
        "Content-Language: ja\r\n"
        f"To: {DESK}\r\n"
        "From: =?UTF-8?B?5L2Q6Jek6Iqx5a2Q?= <sato@example-school.jp>\r\n"
        "Subject: =?UTF-8?B?5bGK5Ye644GM6YCB5L+h44Gn44GN44G+44Gb44KT?=\r\n"
        f'Content-Type: multipart/mixed; boundary="{boundary}"\r\n'
        "\r\n"
        "This is a multi-part message in MIME format.\r\n"
    ).encode()
    body = (
        f"--{boundary}\r\n"
        f'Content-Type: multipart/alternative; boundary="{inner}"\r\n\r\n'
        f"--{inner}\r\n"
        "Content-Type: text/plain; charset=UTF-8\r\n"
        f"Content-Transfer-Encoding: {encoding}\r\n\r\n"
    ).encode()
    body += encode(text) + b"\r\n"
    body += (
        f"--{inner}\r\nContent-Type: text/html; charset=UTF-8\r\n"
        f"Content-Transfer-Encoding: {encoding}\r\n\r\n"
    ).encode()
    body += encode(ENQUIRY_HTML) + b"\r\n"
    body += (
        f"--{inner}--\r\n\r\n"
        f'--{boundary}\r\nContent-Type: application/pdf; name="error-screen.pdf"\r\n'
        'Content-Disposition: attachment; filename="error-screen.pdf"\r\n'
        "Content-Transfer-Encoding: base64\r\n\r\n"
    ).encode()
    body += _b64(attachment) + f"\r\n\r\n--{boundary}--\r\n".encode()
    return head + body


def relayed(raw: bytes, *, hop: str, queue_id: str, at: str) -> bytes:
    """``raw`` as delivered to the support mailbox through relay ``hop``: the trace and
    verdict headers each relay puts on top, nothing else changed."""
    trace = (
        "Return-Path: <sato@example-school.jp>\r\n"
        f"Delivered-To: {DESK}\r\n"
        f"Received: from {hop} ({hop} [192.0.2.25])\r\n"
        f"\tby mx1.support.example.test (Postfix) with ESMTPS id {queue_id}\r\n"
        f"\tfor <{DESK}>; {at}\r\n"
        "Received: from [10.0.0.12] (unknown [198.51.100.7])\r\n"
        f"\tby {hop} (Postfix) with ESMTPSA id {queue_id[::-1]};\r\n"
        f"\t{at}\r\n"
        "Authentication-Results: mx1.support.example.test;\r\n"
        "\tdkim=pass header.d=example-school.jp; spf=pass smtp.mailfrom=example-school.jp\r\n"
        f"X-Spam-Status: No, score=-0.{len(queue_id)} required=5.0\r\n"
    )
    return trace.encode() + raw


def _jis_word(text: str) -> str:
    return f"=?ISO-2022-JP?B?{base64.b64encode(iso2022jp(text)).decode()}?="


def form_mail(body: str, *, sent: str = "Wed, 25 Nov 2026 10:00:00 +0900") -> bytes:
    """A PHP form mailer's enquiry: ISO-2022-JP, and the same Message-ID on every mail."""
    head = (
        f"To: {DESK}\r\n"
        f"Subject: {_jis_word('お問い合わせフォーム')}\r\n"
        f"From: {_jis_word('ウェブサイト')} <no-reply@www.example-school.jp>\r\n"
        "Reply-To: contact@example-school.jp\r\n"
        f"Date: {sent}\r\n"
        f"Message-ID: {FORM_ID}\r\n"
        "MIME-Version: 1.0\r\n"
        "Content-Type: text/plain; charset=ISO-2022-JP\r\n"
        "Content-Transfer-Encoding: 7bit\r\n"
        "X-Mailer: PHP/7.4.33\r\n\r\n"
    ).encode()
    return head + iso2022jp(body).replace(b"\n", b"\r\n")
