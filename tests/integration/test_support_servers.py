"""The test servers themselves: Dovecot, the SMTP sink, the fault proxy and the browser."""

from __future__ import annotations

import contextlib
import imaplib
import os
import shutil
import signal
import smtplib
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator
from email.message import EmailMessage
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from imap_tools import MailboxLoginError, MailBoxUnencrypted

from tests.support import fixtures as support_fixtures
from tests.support.browser import screenshot as save_screenshot
from tests.support.browser import serve_app
from tests.support.dovecot import DovecotServer, cleanup_stale_instances, port_is_open
from tests.support.faultproxy import FaultProxy
from tests.support.fixtures import MailboxAccount
from tests.support.smtp import SmtpSink

if TYPE_CHECKING:
    from playwright.sync_api import Page

REPO = Path(__file__).resolve().parents[2]
IMAP_FAILURES = (OSError, imaplib.IMAP4.abort, imaplib.IMAP4.error)


def make_mail(subject: str, body: str = "hello", size: int = 0) -> bytes:
    """Build a raw RFC 5322 message, optionally padded to about size bytes."""
    msg = EmailMessage()
    msg["From"] = "Requester <requester@example.test>"
    msg["To"] = "helpdesk@example.test"
    msg["Subject"] = subject
    msg["Message-ID"] = f"<{subject.replace(' ', '-')}@example.test>"
    msg.set_content(body + "\n" + ("x" * 76 + "\n") * (size // 77))
    return msg.as_bytes()


@contextlib.contextmanager
def login(host: str, port: int, account: MailboxAccount) -> Iterator[MailBoxUnencrypted]:
    """Log in with imap-tools; close the socket even when the connection was broken."""
    box = MailBoxUnencrypted(host, port, timeout=10)
    try:
        box.login(account.address, account.password)
        yield box
    finally:
        try:
            box.logout()
        except IMAP_FAILURES:
            box.client.shutdown()


def add_account(server: DovecotServer, name: str) -> MailboxAccount:
    """Add a user to a private server and describe it."""
    address = f"{name}@example.test"
    server.add_user(address, "secret")
    return MailboxAccount(address, "secret", server.host, server.port)


def subjects(box: MailBoxUnencrypted) -> list[str]:
    """Return the subjects in the current folder, in UID order."""
    return [m.subject for m in box.fetch(mark_seen=False, headers_only=True)]


# -- Dovecot ------------------------------------------------------------------------------------


@pytest.mark.dovecot
def test_dovecot_append_then_fetch_with_imap_tools(
    dovecot: DovecotServer, mailbox_account: MailboxAccount
) -> None:
    first = dovecot.append(mailbox_account.address, make_mail("first enquiry"))
    second = dovecot.append(
        mailbox_account.address, make_mail("second enquiry"), flags=("\\Seen", "\\Flagged")
    )

    with login(mailbox_account.host, mailbox_account.port, mailbox_account) as box:
        fetched = [
            (int(m.uid or 0), m.subject, set(m.flags))
            for m in box.fetch(mark_seen=False, bulk=True)
        ]
        folders = {f.name for f in box.folder.list()}

    assert second > first
    assert fetched == [
        (first, "first enquiry", set()),
        (second, "second enquiry", {"\\Seen", "\\Flagged"}),
    ]
    assert "Processed" in folders
    assert dovecot.folder_uids(mailbox_account.address) == [first, second]
    assert dovecot.flags(mailbox_account.address) == {
        first: set(),
        second: {"\\Seen", "\\Flagged"},
    }
    assert dovecot.folder_uids(mailbox_account.address, "Processed") == []


@pytest.mark.dovecot
def test_dovecot_accounts_are_separate(
    dovecot: DovecotServer, mailbox_account: MailboxAccount
) -> None:
    other = MailboxAccount("other-desk@example.test", "pw", dovecot.host, dovecot.port)
    dovecot.add_user(other.address, other.password)
    dovecot.append(other.address, make_mail("not yours"), folder="Archive/2026")

    assert dovecot.folder_uids(mailbox_account.address) == []
    assert dovecot.folder_uids(other.address, "Archive/2026") == [1]
    wrong_password = MailboxAccount(other.address, "bad", dovecot.host, dovecot.port)
    with pytest.raises(MailboxLoginError), login(dovecot.host, dovecot.port, wrong_password):
        pass


@pytest.mark.dovecot
def test_dovecot_restart_keeps_messages_and_port(
    dovecot_factory: Callable[[], DovecotServer],
) -> None:
    server = dovecot_factory()
    account = add_account(server, "restart")
    uid = server.append(account.address, make_mail("kept"), folder="Processed")
    port = server.port

    server.restart()

    assert server.port == port
    assert server.folder_uids(account.address, "Processed") == [uid]
    with login(server.host, server.port, account) as box:
        box.folder.set("Processed")
        assert subjects(box) == ["kept"]


@pytest.mark.dovecot
def test_dovecot_stop_refuses_connections_and_start_serves_again(
    dovecot_factory: Callable[[], DovecotServer],
) -> None:
    server = dovecot_factory()
    account = add_account(server, "outage")
    server.append(account.address, make_mail("before outage"))

    server.stop()
    assert not port_is_open(server.host, server.port)
    with pytest.raises(ConnectionRefusedError):
        MailBoxUnencrypted(server.host, server.port, timeout=5)

    server.start()
    with login(server.host, server.port, account) as box:
        assert subjects(box) == ["before outage"]


@pytest.fixture
def world_searchable_dir() -> Iterator[Path]:
    """A folder under the system temp dir (pytest's tmp_path is 0700, closed to vmail)."""
    path = Path(tempfile.mkdtemp(prefix="helpdesk-support-test-"))
    path.chmod(0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.mark.dovecot
def test_dovecot_dies_with_the_test_process_and_stale_folder_is_cleaned(
    world_searchable_dir: Path,
) -> None:
    root = world_searchable_dir / "helpdesk-dovecot-orphan"
    script = (
        "import sys\n"
        "from pathlib import Path\n"
        "from tests.support.dovecot import DovecotServer\n"
        "server = DovecotServer(root=Path(sys.argv[1])).start()\n"
        "print(server.port, flush=True)\n"
        "sys.stdin.read()\n"
    )
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    with subprocess.Popen(
        [sys.executable, "-c", script, str(root)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        env=env,
        cwd=REPO,
    ) as owner:
        assert owner.stdout is not None
        port = int(owner.stdout.readline() or 0)
        assert port, "the child process could not start dovecot"
        master = int((root / "run" / "master.pid").read_text())
        assert port_is_open("127.0.0.1", port)

        owner.send_signal(signal.SIGKILL)  # no teardown, no atexit: only the kernel can help
        owner.wait(10)

    deadline = time.monotonic() + 15
    while Path(f"/proc/{master}").exists() or port_is_open("127.0.0.1", port):
        assert time.monotonic() < deadline, "dovecot outlived the process that started it"
        time.sleep(0.05)
    assert cleanup_stale_instances(world_searchable_dir) == [root]
    assert not root.exists()


# -- SMTP sink ----------------------------------------------------------------------------------


def send(sink: SmtpSink, subject: str, rcpts: list[str] | None = None) -> None:
    """Send one message to the sink with smtplib."""
    msg = EmailMessage()
    msg["From"] = "desk@example.test"
    msg["To"] = ", ".join(rcpts or ["requester@example.test"])
    msg["Subject"] = subject
    msg.set_content("本文 body")
    with smtplib.SMTP(sink.host, sink.port, timeout=10) as client:
        client.send_message(msg)


def test_smtp_sink_captures_envelope_raw_and_parsed_message(smtp_sink: SmtpSink) -> None:
    send(smtp_sink, "Re: [#42] お問い合わせ", ["a@example.test", "b@example.test"])

    (received,) = smtp_sink.wait_for(1)

    assert received.mail_from == "desk@example.test"
    assert received.rcpt_tos == ["a@example.test", "b@example.test"]
    assert received.subject == "Re: [#42] お問い合わせ"
    assert b"Subject:" in received.raw
    assert received.message.get_content().strip() == "本文 body"
    smtp_sink.clear()
    assert smtp_sink.messages == []


def test_smtp_sink_fail_next_gives_temporary_errors_then_accepts(smtp_sink: SmtpSink) -> None:
    smtp_sink.fail_next(2)
    for _ in range(2):
        with pytest.raises(smtplib.SMTPDataError) as failure:
            send(smtp_sink, "retried")
        assert failure.value.smtp_code == 451

    smtp_sink.fail_next(1, code=450, stage="rcpt")
    with pytest.raises(smtplib.SMTPRecipientsRefused) as refused:
        send(smtp_sink, "refused")
    assert refused.value.recipients["requester@example.test"][0] == 450

    send(smtp_sink, "delivered")
    assert [m.subject for m in smtp_sink.wait_for(1)] == ["delivered"]


def test_smtp_sink_wait_for_times_out(smtp_sink: SmtpSink) -> None:
    with pytest.raises(TimeoutError, match="expected 1 message"):
        smtp_sink.wait_for(1, timeout=0.1)


def test_smtp_sink_stop_and_start_on_the_same_port(smtp_sink: SmtpSink) -> None:
    port = smtp_sink.port
    smtp_sink.stop()
    with pytest.raises(ConnectionRefusedError):
        send(smtp_sink, "lost")

    smtp_sink.start()
    send(smtp_sink, "after restart")

    assert smtp_sink.port == port
    assert [m.subject for m in smtp_sink.wait_for(1)] == ["after restart"]


# -- fault proxy --------------------------------------------------------------------------------


@pytest.mark.dovecot
def test_fault_proxy_passes_through(
    dovecot: DovecotServer,
    mailbox_account: MailboxAccount,
    fault_proxy: Callable[[str, int], FaultProxy],
) -> None:
    dovecot.append(mailbox_account.address, make_mail("through the proxy"))
    proxy = fault_proxy(dovecot.host, dovecot.port)

    with login(proxy.host, proxy.port, mailbox_account) as box:
        assert subjects(box) == ["through the proxy"]
    assert proxy.accepted == 1
    assert proxy.bytes_from_server > 0


@pytest.mark.dovecot
def test_fault_proxy_latency_slows_every_server_chunk(
    dovecot: DovecotServer,
    mailbox_account: MailboxAccount,
    fault_proxy: Callable[[str, int], FaultProxy],
) -> None:
    proxy = fault_proxy(dovecot.host, dovecot.port)
    with login(proxy.host, proxy.port, mailbox_account) as box:
        started = time.monotonic()
        box.client.noop()
        fast = time.monotonic() - started

        proxy.set_latency(0.3)
        started = time.monotonic()
        box.client.noop()
        slow = time.monotonic() - started
        proxy.pass_through()

    assert slow >= 0.3
    assert fast < 0.3


@pytest.mark.dovecot
def test_fault_proxy_reset_in_the_middle_of_a_fetch(
    dovecot: DovecotServer,
    mailbox_account: MailboxAccount,
    fault_proxy: Callable[[str, int], FaultProxy],
) -> None:
    dovecot.append(mailbox_account.address, make_mail("large", size=400_000))
    proxy = fault_proxy(dovecot.host, dovecot.port)

    with login(proxy.host, proxy.port, mailbox_account) as box:
        proxy.reset_after(50_000)
        with pytest.raises(IMAP_FAILURES):
            list(box.fetch(mark_seen=False))
    assert proxy.open_connections == 0

    proxy.pass_through()
    with login(proxy.host, proxy.port, mailbox_account) as box:
        (message,) = box.fetch(mark_seen=False)
        assert message.subject == "large"
        assert len(message.text) > 400_000 * 0.9
    # The interrupted fetch must not have marked the message as read.
    assert dovecot.flags(mailbox_account.address) == {1: set()}


@pytest.mark.dovecot
def test_fault_proxy_refuses_like_a_server_that_is_down(
    dovecot: DovecotServer,
    mailbox_account: MailboxAccount,
    fault_proxy: Callable[[str, int], FaultProxy],
) -> None:
    proxy = fault_proxy(dovecot.host, dovecot.port)
    with login(proxy.host, proxy.port, mailbox_account) as box:
        proxy.refuse()
        with pytest.raises(IMAP_FAILURES):
            box.client.noop()
    with pytest.raises(ConnectionRefusedError):
        MailBoxUnencrypted(proxy.host, proxy.port, timeout=5)

    port = proxy.port
    proxy.accept()
    assert proxy.port == port
    with login(proxy.host, proxy.port, mailbox_account) as box:
        assert subjects(box) == []


# -- browser and live server --------------------------------------------------------------------


def hello_app(environ: dict[str, object], start_response: Callable[..., object]) -> list[bytes]:
    """A tiny WSGI app answering every path with a greeting."""
    body = f"<!doctype html><title>Support</title><h1>Hello from {environ['PATH_INFO']}</h1>"
    start_response("200 OK", [("Content-Type", "text/html; charset=utf-8")])
    return [body.encode()]


def test_serve_app_serves_and_stops() -> None:
    with (
        serve_app(hello_app) as base_url,
        urllib.request.urlopen(f"{base_url}/ping", timeout=10) as response,
    ):
        assert b"Hello from /ping" in response.read()
    port = int(base_url.rsplit(":", 1)[1])
    assert not port_is_open("127.0.0.1", port)


@pytest.mark.browser
def test_browser_opens_served_page_and_takes_screenshot(
    serve_wsgi: Callable[[Callable[..., list[bytes]]], str], page: Page
) -> None:
    base_url = serve_wsgi(hello_app)

    page.goto(f"{base_url}/desk")

    assert page.locator("h1").inner_text() == "Hello from /desk"
    assert page.title() == "Support"
    path = save_screenshot(page, "support-servers hello")
    assert path == REPO / "test-artifacts" / "screenshots" / "support-servers_hello.png"
    assert path.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")


def test_missing_binaries_fail_with_the_install_hint(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(support_fixtures, "find_dovecot", lambda: None)
    with pytest.raises(pytest.fail.Exception, match="scripts/install-test-deps.sh"):
        support_fixtures._require_dovecot()
