"""Real-world-shaped raw messages for the mail tests and benchmarks.

Most samples are written as raw bytes on purpose: the oddities under test (8-bit Shift_JIS
headers, ISO-2022-JP with Windows extensions, split encoded words, broken charset declarations)
are exactly what a well-behaved generator would never produce.
"""

from __future__ import annotations

import base64
import random
import struct
import urllib.parse
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, make_msgid
from pathlib import Path

DATA_DIR = Path(__file__).resolve().parent.parent / "data" / "mail"

DESK = "helpdesk@support.example.jp"
SSW_DESK = "ssw@support.example.jp"

PNG_1PX = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)
PDF_BYTES = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"


def load(name: str) -> bytes:
    """Read a stored sample from tests/data/mail."""
    return (DATA_DIR / name).read_bytes()


# ---- encoders for the Japanese oddities ---------------------------------------------------


def _sjis_to_jis(s1: int, s2: int) -> tuple[int, int]:
    off = 0x70 if s1 < 0xA0 else 0xB0
    if s2 >= 0x9F:
        return (s1 - off) * 2, s2 - 0x7E
    return (s1 - off) * 2 - 1, s2 - 0x1F - (1 if s2 >= 0x80 else 0)


def iso2022jp(text: str) -> bytes:
    """Encode like Windows (CP50221): JIS X 0208 with NEC extensions, ESC ( I half-width kana."""
    data = text.encode("cp932")
    out, mode, i = bytearray(), "ascii", 0
    while i < len(data):
        b = data[i]
        if b < 0x80:
            want, chunk, i = "ascii", bytes((b,)), i + 1
        elif 0xA1 <= b <= 0xDF:
            want, chunk, i = "kana", bytes((b - 0x80,)), i + 1
        else:
            want, chunk, i = "jis", bytes(_sjis_to_jis(b, data[i + 1])), i + 2
        if want != mode:
            out += {"ascii": b"\x1b(B", "kana": b"\x1b(I", "jis": b"\x1b$B"}[want]
            mode = want
        out += chunk
    if mode != "ascii":
        out += b"\x1b(B"
    return bytes(out)


def encoded_word(text: str, charset: str = "utf-8", *, q: bool = False) -> str:
    """One RFC 2047 encoded word."""
    raw = iso2022jp(text) if charset.lower() == "iso-2022-jp" else text.encode(charset)
    if q:
        body = "".join(
            chr(b) if chr(b).isascii() and chr(b).isalnum() else f"={b:02X}" for b in raw
        )
        return f"=?{charset}?Q?{body}?="
    return f"=?{charset}?B?{base64.b64encode(raw).decode()}?="


def _headers(subject: str, **extra: str) -> bytes:
    lines = [
        "From: Yamada Taro <taro.yamada@example.co.jp>",
        f"To: {DESK}",
        f"Subject: {subject}",
        "Date: Fri, 01 Mar 2024 23:00:00 +0900",
        "Message-ID: <20240301230000.abc123@mail.example.co.jp>",
        "MIME-Version: 1.0",
    ]
    lines += [f"{k.replace('_', '-')}: {v}" for k, v in extra.items()]
    return ("\r\n".join(lines) + "\r\n").encode("ascii")


# ---- the Japanese charsets ----------------------------------------------------------------

JA_BODY = "お世話になっております。\n①電子届出システムにログインできません。\nｶﾀｶﾅ も表示されます。"


def iso2022jp_message() -> bytes:
    """Subject and body in ISO-2022-JP, with circled digits and half-width kana (Windows)."""
    head = _headers(
        encoded_word("ログインできません①", "ISO-2022-JP"),
        Content_Type='text/plain; charset="ISO-2022-JP"',
        Content_Transfer_Encoding="7bit",
    )
    return head + b"\r\n" + iso2022jp(JA_BODY).replace(b"\n", b"\r\n") + b"\r\n"


def cp932_message() -> bytes:
    """Shift_JIS body declared as Shift_JIS, with raw 8-bit Shift_JIS headers (Windows mailers)."""
    head = (
        "From: 山田 太郎 <Taro.Yamada@Example.co.jp>\r\n".encode("cp932")
        + f"To: {DESK}\r\n".encode()
        + "Subject: 届出について①～③\r\n".encode("cp932")
        + b"Date: Mon, 04 Mar 2024 10:15:00 +0900\r\n"
        + b"Message-ID: <sjis.1@mail.example.co.jp>\r\n"
        + b"MIME-Version: 1.0\r\n"
        + b"Content-Type: text/plain; charset=Shift_JIS\r\n"
        + b"Content-Transfer-Encoding: 8bit\r\n\r\n"
    )
    body = "①の件です。～ｶﾀｶﾅ\r\n所属機関名：株式会社テスト\r\n"
    return head + body.encode("cp932")


def eucjp_message() -> bytes:
    """EUC-JP body and EUC-JP encoded-word subject (old Unix mailers)."""
    head = _headers(
        encoded_word("在留カードの件", "EUC-JP"),
        Content_Type="text/plain; charset=EUC-JP",
        Content_Transfer_Encoding="8bit",
    )
    return head + b"\r\n" + "在留カードの更新について質問です。\r\n".encode("euc-jp")


def utf8_message(cte: str) -> bytes:
    """A UTF-8 message built by the stdlib with the given transfer encoding."""
    msg = EmailMessage(policy=SMTP)
    msg["From"] = "Nguyễn Văn An <an.nguyen@example.vn>"
    msg["To"] = DESK
    msg["Subject"] = "Không đăng nhập được – ログイン"
    msg["Date"] = "Tue, 05 Mar 2024 09:00:00 +0700"
    msg["Message-ID"] = "<utf8.1@example.vn>"
    msg.set_content("Xin chào,\nTôi không thể đăng nhập. ログインできません。\n", cte=cte)
    return msg.as_bytes()


def split_subject_message() -> bytes:
    """A subject of encoded words split mid-character across folded lines, mixed charsets."""
    raw = iso2022jp("電子届出の申請")
    first, second = raw[:9], raw[9:]
    b64 = base64.b64encode
    subject = (
        f"=?ISO-2022-JP?B?{b64(first).decode()}?=\r\n"
        f" =?ISO-2022-JP?B?{b64(second).decode()}?=\r\n"
        f" {encoded_word('– Café', 'utf-8', q=True)} plain"
        f" {encoded_word('Ü', 'iso-8859-1', q=True)}"
    )
    return _headers(subject) + b"\r\nbody\r\n"


# ---- attachments and names ----------------------------------------------------------------


def _rfc2231(param: str, raw: bytes, charset: str, pieces: int = 2) -> str:
    quoted = urllib.parse.quote_from_bytes(raw, safe="")
    step = max(1, -(-len(quoted) // pieces))
    chunks, i = [], 0
    while i < len(quoted):
        end = i + step
        while end < len(quoted) and "%" in quoted[end - 2 : end]:
            end += 1
        chunks.append(quoted[i:end])
        i = end
    first = f" {param}*0*={charset}''{chunks[0]}"
    return ";\r\n".join([first] + [f" {param}*{n}*={c}" for n, c in enumerate(chunks[1:], 1)])


def filenames_message() -> bytes:
    """Attachments named by RFC 2231 (ISO-2022-JP, UTF-8, continuations), RFC 2047 and raw SJIS."""
    b = "BOUNDARY-names"
    jis_name = _rfc2231("filename", iso2022jp("申請書①.pdf"), "iso-2022-jp")
    utf_name = _rfc2231("filename", "在留カード（表面）.png".encode(), "UTF-8", pieces=3)
    ew_name = encoded_word("届出一覧.xlsx", "ISO-2022-JP")
    sjis_name = "ﾒﾓ帳.txt".encode("cp932")
    parts = [
        f"--{b}\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\nSee attached.\r\n".encode(),
        (
            f"--{b}\r\nContent-Type: application/pdf\r\nContent-Transfer-Encoding: base64\r\n"
            f"Content-Disposition: attachment;\r\n{jis_name}\r\n\r\n"
            f"{base64.b64encode(PDF_BYTES).decode()}\r\n"
        ).encode(),
        (
            f"--{b}\r\nContent-Type: image/png\r\nContent-Transfer-Encoding: base64\r\n"
            f"Content-Disposition: attachment;\r\n{utf_name}\r\n\r\n"
            f"{base64.b64encode(PNG_1PX).decode()}\r\n"
        ).encode(),
        (
            f'--{b}\r\nContent-Type: application/vnd.ms-excel; name="{ew_name}"\r\n'
            f"Content-Transfer-Encoding: base64\r\n"
            f'Content-Disposition: attachment; filename="{ew_name}"\r\n\r\n'
            f"{base64.b64encode(b'PK fake xlsx').decode()}\r\n"
        ).encode(),
        (
            f"--{b}\r\nContent-Type: text/plain; charset=Shift_JIS\r\n".encode()
            + b'Content-Disposition: attachment; filename="'
            + sjis_name
            + b'"\r\n\r\n'
            + "メモ\r\n".encode("cp932")
        ),
        f"--{b}--\r\n".encode(),
    ]
    head = _headers("files", Content_Type=f'multipart/mixed; boundary="{b}"')
    return head + b"\r\n" + b"".join(parts)


def broken_charset_message(declared: str, body: bytes) -> bytes:
    """A text/plain message whose declared charset may be wrong or unknown."""
    head = _headers(
        "charset",
        Content_Type=f'text/plain; charset="{declared}"',
        Content_Transfer_Encoding="8bit",
    )
    return head + b"\r\n" + body


def no_message_id() -> bytes:
    """A plain message without a Message-ID (some web forms and scanners)."""
    return (
        b"From: scanner@example.co.jp\r\nTo: helpdesk@support.example.jp\r\n"
        b"Subject: scan\r\nDate: 4 Mar 2024 10:00:00\r\n\r\nscanned\r\n"
    )


def header_only() -> bytes:
    """Headers and no body, no blank line."""
    return b"From: a@example.com\r\nTo: helpdesk@support.example.jp\r\nSubject: nothing"


# ---- HTML, inline images, forwarding --------------------------------------------------------

HOSTILE_HTML = """<html><head><title>t</title><style>body{display:none}</style></head><body>
<p onclick="steal()" style="position:fixed;top:0">Hello <b>agent</b></p>
<script>alert(document.cookie)</script>
<img src="x" onerror="alert(1)"><img src="https://tracker.example.com/p.gif" alt="pixel">
<a href="javascript:alert(1)">click</a> <a href="https://portal.example.go.jp/">portal</a>
<div style="background:url(javascript:alert(1));width:expression(alert(2))">css</div>
<iframe src="https://evil.example.com/"></iframe><form action="https://evil.example.com/">
<input name="pw"></form><svg onload="alert(3)"><circle/></svg>
<a href="data:text/html;base64,PHNjcmlwdD4=">data</a>
</body></html>"""


def html_message(*, with_text: bool = True) -> bytes:
    """multipart/alternative (or HTML only) with hostile HTML."""
    msg = EmailMessage(policy=SMTP)
    msg["From"] = "attacker@example.net"
    msg["To"] = DESK
    msg["Subject"] = "html"
    msg["Message-ID"] = "<html.1@example.net>"
    if with_text:
        msg.set_content("Hello agent (plain)\n")
        msg.add_alternative(HOSTILE_HTML, subtype="html")
    else:
        msg.set_content(HOSTILE_HTML, subtype="html")
    return msg.as_bytes()


def inline_image_message() -> bytes:
    """multipart/related: HTML referring to an inline image by cid."""
    msg = EmailMessage(policy=SMTP)
    msg["From"] = "an.nguyen@example.vn"
    msg["To"] = DESK
    msg["Subject"] = "screenshot"
    msg["Message-ID"] = "<inline.1@example.vn>"
    msg.set_content("See the screenshot.\n")
    msg.add_alternative(
        '<p>See the screenshot:</p><img src="cid:shot1@example.vn" alt="shot">', subtype="html"
    )
    html_part = msg.get_payload()[1]
    html_part.add_related(PNG_1PX, "image", "png", cid="<shot1@example.vn>", filename="shot.png")
    return msg.as_bytes()


def _attached_inner() -> EmailMessage:
    inner = EmailMessage(policy=SMTP)
    inner["From"] = "Sato Hanako <hanako.sato@school.example.jp>"
    inner["To"] = "staff@school.example.jp"
    inner["Subject"] = "定期報告"
    inner["Date"] = "Thu, 29 Feb 2024 18:00:00 +0900"
    inner["Message-ID"] = "<inner.1@school.example.jp>"
    inner.set_content("定期報告を添付します。\n")
    inner.add_attachment(PDF_BYTES, "application", "pdf", filename="報告書.pdf")
    return inner


def forwarded_message() -> bytes:
    """A message forwarded as an attachment (message/rfc822) that has its own attachment."""
    outer = EmailMessage(policy=SMTP)
    outer["From"] = "staff@school.example.jp"
    outer["To"] = SSW_DESK
    outer["Subject"] = "Fwd: 定期報告"
    outer["Message-ID"] = "<outer.1@school.example.jp>"
    outer.set_content("Forwarding the report below.\n")
    outer.add_attachment(_attached_inner())
    return outer.as_bytes()


# ---- machine mail ---------------------------------------------------------------------------


def dsn_bounce(original_id: str = "ticket-42.reply-1@support.example.jp") -> bytes:
    """A Postfix delivery-status notification returning one of our messages."""
    return load("postfix_bounce.eml").replace(b"ORIGINAL_ID", original_id.encode())


def auto_reply() -> bytes:
    """An out-of-office reply (RFC 3834 Auto-Submitted: auto-replied)."""
    return (
        _headers(
            "Out of office: Re: [#42] " + encoded_word("届出について"),
            Auto_Submitted="auto-replied",
            X_Auto_Response_Suppress="All",
            In_Reply_To="<ticket-42.reply-1@support.example.jp>",
        )
        + b"\r\nI am away until Monday.\r\n"
    )


def list_mail() -> bytes:
    """A mailing-list post."""
    return (
        _headers(
            "[jls-news] newsletter",
            List_Id="JLS news <jls-news.lists.example.org>",
            Precedence="list",
            List_Unsubscribe="<mailto:jls-news-leave@lists.example.org>",
        )
        + b"\r\nNews of the month.\r\n"
    )


def big_message(size: int = 2_000_000) -> bytes:
    """A message with a large attachment."""
    msg = EmailMessage(policy=SMTP)
    msg["From"] = "big@example.com"
    msg["To"] = DESK
    msg["Subject"] = "big"
    msg["Message-ID"] = "<big.1@example.com>"
    msg.set_content("Here is a big file.\n")
    msg.add_attachment(random.Random(1).randbytes(size), "application", "pdf", filename="big.pdf")
    return msg.as_bytes()


def many_attachments(
    count: int, *, sender: str = "many@example.com", body: str = "Here are the files.\n"
) -> bytes:
    """A message with ``count`` small attachments, f00000.txt and on."""
    msg = EmailMessage(policy=SMTP)
    msg["From"] = sender
    msg["To"] = DESK
    msg["Subject"] = "many files"
    msg["Message-ID"] = make_msgid("many", domain="example.com")
    msg.set_content(body)
    for i in range(count):
        msg.add_attachment(f"file {i}\n".encode(), "text", "plain", filename=f"f{i:05}.txt")
    return msg.as_bytes()


def files_message(files: list[tuple[str, bytes]]) -> bytes:
    """A message with the given attachments, in order (as application/octet-stream)."""
    msg = EmailMessage(policy=SMTP)
    msg["From"] = "files@example.com"
    msg["To"] = DESK
    msg["Subject"] = "files"
    msg["Message-ID"] = "<files.1@example.com>"
    msg.set_content("Here are the files.\n")
    for name, content in files:
        msg.add_attachment(content, "application", "octet-stream", filename=name)
    return msg.as_bytes()


# ---- TNEF ---------------------------------------------------------------------------------


def _tnef_attr(level: int, attr_id: int, data: bytes) -> bytes:
    checksum = sum(data) & 0xFFFF
    return struct.pack("<BII", level, attr_id, len(data)) + data + struct.pack("<H", checksum)


def tnef_bytes(files: dict[str, bytes]) -> bytes:
    """A minimal winmail.dat holding ``files`` (attAttachTitle + attAttachData)."""
    out = struct.pack("<IH", 0x223E9F78, 0x0001)
    out += _tnef_attr(1, 0x00089006, struct.pack("<I", 0x00010000))
    for name, content in files.items():
        out += _tnef_attr(2, 0x00069002, b"\x01\x00" + b"\xff" * 12)
        out += _tnef_attr(2, 0x00018010, name.encode("ascii") + b"\x00")
        out += _tnef_attr(2, 0x0006800F, content)
    return out


def tnef_message(files: dict[str, bytes] | None = None, *, raw_tnef: bytes | None = None) -> bytes:
    """Outlook rich-text mail: the attachments travel inside winmail.dat."""
    files = files or {"report.pdf": PDF_BYTES, "tool.exe": b"MZ\x90\x00fake"}
    tnef = tnef_bytes(files) if raw_tnef is None else raw_tnef
    msg = EmailMessage(policy=SMTP)
    msg["From"] = "outlook.user@example.co.jp"
    msg["To"] = DESK
    msg["Subject"] = "winmail"
    msg["Message-ID"] = "<tnef.1@example.co.jp>"
    msg.set_content("Body text.\n")
    msg.add_attachment(tnef, "application", "ms-tnef", filename="winmail.dat")
    return msg.as_bytes()


# ---- benchmark mix ------------------------------------------------------------------------

_ENQUIRIES = [
    ("ja", "iso-2022-jp", "ログインについて", "電子届出システムにログインできません。"),
    ("ja", "utf-8", "届出の修正", "届出内容を修正したいのですが、方法を教えてください。"),
    ("ja", "shift_jis", "エラー表示①", "申請時にエラー①が表示されます。ｶﾀｶﾅ"),
    ("en", "utf-8", "Cannot submit notification", "I cannot submit the notification form."),
    ("vi", "utf-8", "Không gửi được", "Tôi không thể gửi thông báo điện tử."),
    ("zh", "utf-8", "无法登录", "我无法登录电子申报系统。"),
    ("id", "utf-8", "Tidak bisa masuk", "Saya tidak bisa masuk ke sistem pemberitahuan."),
]
_FIELDS = {
    "ja": ("所属機関名：{org}", "連絡先：{tel}", "利用環境：Windows 11 / Microsoft Edge"),
    "en": ("Organisation: {org}", "Contact: {tel}", "Environment: macOS 14 / Safari 17"),
}
_ATTACHMENTS = [
    ("screenshot.png", "image", "png", PNG_1PX),
    ("申請書.pdf", "application", "pdf", PDF_BYTES),
    ("list.xlsx", "application", "vnd.openxmlformats-officedocument.spreadsheetml.sheet", b"PK"),
    ("setup.exe", "application", "octet-stream", b"MZ\x90\x00"),
    ("docs.zip", "application", "zip", b"PK\x03\x04"),
]


def _enquiry_body(lang: str, text: str, rng: random.Random) -> str:
    labels = _FIELDS.get(lang, _FIELDS["en"])
    kept = [f for f in labels if rng.random() > 0.15]
    org = rng.choice(["株式会社サンプル", "Sample Japanese School", "Example Support Org"])
    fields = "\n".join(kept).format(org=org, tel=f"03-{rng.randint(1000, 9999)}-0000")
    filler = "\n".join([text] * rng.choice([1, 1, 2, 5, 20]))
    return f"{filler}\n\n{fields}\n"


def _encode_enquiry(msg: EmailMessage, body: str, charset: str) -> None:
    if charset == "iso-2022-jp":
        msg["Content-Type"] = 'text/plain; charset="ISO-2022-JP"'
        msg["Content-Transfer-Encoding"] = "7bit"
        msg.set_payload(iso2022jp(body).decode("ascii"))
    elif charset == "shift_jis":
        msg.set_content(body.encode("cp932"), "text", "plain", cte="base64")
        msg.set_param("charset", "Shift_JIS")
    else:
        msg.set_content(body, cte=("base64" if len(body) > 400 else "quoted-printable"))


def generate_enquiry(i: int, rng: random.Random) -> bytes:
    """One realistic enquiry: varied language, charset, size, fields, attachments, replies."""
    lang, charset, subject, text = rng.choice(_ENQUIRIES)
    msg = EmailMessage(policy=SMTP)
    msg["From"] = f"User {i} <user{i}@example{rng.randint(1, 50)}.jp>"
    msg["To"] = rng.choice([DESK, SSW_DESK])
    msg["Subject"] = f"{'Re: ' if rng.random() < 0.2 else ''}{subject} #{i}"
    sent = datetime(2024, 3, 1, tzinfo=UTC) + timedelta(minutes=37 * i)
    msg["Date"] = format_datetime(sent)
    msg["Message-ID"] = make_msgid(f"enq{i}", domain="example.jp")
    if rng.random() < 0.2:
        msg["In-Reply-To"] = f"<ticket-{rng.randint(1, 500)}@support.example.jp>"
    _encode_enquiry(msg, _enquiry_body(lang, text, rng), charset)
    for _ in range(rng.choice([0, 0, 0, 1, 1, 2])):
        name, main, sub, content = rng.choice(_ATTACHMENTS)
        size = rng.choice([1, 10, 100, 1000])
        _attach(msg, content + rng.randbytes(size * 100), main, sub, name)
    return msg.as_bytes()


def _attach(msg: EmailMessage, content: bytes, main: str, sub: str, name: str) -> None:
    if not msg.is_multipart():
        msg.make_mixed()
    msg.add_attachment(content, main, sub, filename=name)


# ---- NUL characters -------------------------------------------------------------------------

NUL_BODY = (
    "Hello,\x00 I cannot submit the notification form.\r\n\r\n"
    "Organisation: Example\x00 Language School\r\n"
    "Phone: 03-9876-5432\r\n"
    "Environment: macOS Sonoma, Safari 17\r\n"
)


def nul_message(to: str = DESK, message_id: str = "<nul.1@example.co.jp>") -> bytes:
    """A complete enquiry with NUL characters wherever text is decoded from: raw in the body,
    a Cc address and a header, encoded in the subject, the sender's name, References, the HTML,
    a filename and a forwarded message. The PDF's content has NULs of its own, as files do."""
    b, alt = "BOUNDARY-nul", "BOUNDARY-nul-alt"
    name, subject = (
        encoded_word("Yamada\x00 Taro", q=True),
        encoded_word("Cannot log\x00 in", q=True),
    )
    pdf = base64.b64encode(PDF_BYTES + b"\x00\x00").decode()
    references = encoded_word("<earlier\x00.1@example.co.jp>", q=True)
    head = (
        f"From: {name} <taro.yamada@example.co.jp>\r\n"
        f"To: {to}\r\n"
        "Cc: other\x00@example.co.jp\r\n"
        f"Subject: {subject}\r\n"
        "Date: Wed, 25 Nov 2026 10:00:00 +0900\r\n"
        f"Message-ID: {message_id}\r\n"
        f"References: {references}\r\n"
        "X-Mailer: Mailer\x00 1.0\r\n"
        "MIME-Version: 1.0\r\n"
        f'Content-Type: multipart/mixed; boundary="{b}"\r\n\r\n'
    ).encode()
    parts = [
        f'--{b}\r\nContent-Type: multipart/alternative; boundary="{alt}"\r\n\r\n'.encode(),
        f"--{alt}\r\nContent-Type: text/plain; charset=utf-8\r\n"
        f"Content-Transfer-Encoding: 8bit\r\n\r\n{NUL_BODY}".encode(),
        f"--{alt}\r\nContent-Type: text/html; charset=utf-8\r\n"
        "Content-Transfer-Encoding: quoted-printable\r\n\r\n"
        "<p>Hello,=00 I cannot submit the notification form.</p>\r\n"
        f"--{alt}--\r\n".encode(),
        (
            f"--{b}\r\nContent-Type: application/pdf\r\nContent-Transfer-Encoding: base64\r\n"
            f"Content-Disposition: attachment; filename*=utf-8''report%00.pdf\r\n\r\n"
            f"{pdf}\r\n"
        ).encode(),
        (
            f"--{b}\r\nContent-Type: message/rfc822\r\n\r\n"
            "From: colleague@example.co.jp\r\nSubject: earlier\x00 question\r\n\r\n"
            "The earlier\x00 question.\r\n"
        ).encode(),
        f"--{b}--\r\n".encode(),
    ]
    return head + b"".join(parts)
