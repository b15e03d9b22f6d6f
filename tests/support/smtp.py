"""An SMTP sink for tests: a real aiosmtpd server on 127.0.0.1 that keeps every message."""

from __future__ import annotations

import email
import email.policy
import threading
import time
from dataclasses import dataclass, field
from email.message import EmailMessage
from types import TracebackType
from typing import Literal

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from tests.support.dovecot import free_port

FailStage = Literal["rcpt", "data"]


@dataclass(frozen=True)
class ReceivedMessage:
    """One message as the SMTP server received it."""

    mail_from: str
    rcpt_tos: list[str]
    raw: bytes
    message: EmailMessage = field(repr=False)

    @property
    def subject(self) -> str:
        """The decoded Subject header ('' when missing)."""
        return str(self.message.get("Subject", ""))


@dataclass
class _Fault:
    remaining: int
    code: int
    text: str
    stage: FailStage


class _Handler:
    """aiosmtpd handler hooks; they run on the controller's event loop thread."""

    def __init__(self, sink: SmtpSink) -> None:
        self._sink = sink

    async def handle_RCPT(  # noqa: N802 - aiosmtpd hook name
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        refusal = self._sink._take_fault("rcpt")
        if refusal is not None:
            return refusal
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(  # noqa: N802 - aiosmtpd hook name
        self, server: SMTP, session: Session, envelope: Envelope
    ) -> str:
        refusal = self._sink._take_fault("data")
        if refusal is not None:
            return refusal
        raw = envelope.original_content or envelope.content or b""
        if isinstance(raw, str):
            raw = raw.encode("utf-8", "surrogateescape")
        parsed = email.message_from_bytes(raw, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        self._sink._record(
            ReceivedMessage(
                mail_from=envelope.mail_from or "",
                rcpt_tos=list(envelope.rcpt_tos),
                raw=raw,
                message=parsed,
            )
        )
        return "250 Message accepted for delivery"


class SmtpSink:
    """A real SMTP server on 127.0.0.1 capturing every message, with temporary-failure modes."""

    host = "127.0.0.1"

    def __init__(self, port: int | None = None) -> None:
        self.port = port or 0
        self._messages: list[ReceivedMessage] = []
        self._faults: list[_Fault] = []
        self._changed = threading.Condition()
        self._controller: Controller | None = None

    # -- lifecycle --------------------------------------------------------------------------
    def start(self) -> SmtpSink:
        """Start listening (on the same port as before, after a stop())."""
        if self._controller is not None:
            return self
        if not self.port:
            self.port = free_port()
        # A Controller closes its event loop when stopped, so every start needs a new one.
        controller = Controller(
            _Handler(self),
            hostname=self.host,
            port=self.port,
            ready_timeout=10,
            server_hostname="smtp-sink.example.test",  # skips a getfqdn() DNS lookup
        )
        controller.start()
        self._controller = controller
        return self

    def stop(self) -> None:
        """Stop listening; received messages are kept."""
        controller, self._controller = self._controller, None
        if controller is not None:
            controller.stop()

    @property
    def running(self) -> bool:
        """Tell whether the server is listening."""
        return self._controller is not None

    def __enter__(self) -> SmtpSink:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- what was received ------------------------------------------------------------------
    @property
    def messages(self) -> list[ReceivedMessage]:
        """A snapshot of the messages received so far."""
        with self._changed:
            return list(self._messages)

    def wait_for(self, count: int, timeout: float = 10) -> list[ReceivedMessage]:
        """Wait until at least count messages arrived and return them; raise on timeout."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while len(self._messages) < count:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(
                        f"expected {count} message(s) within {timeout}s, got {len(self._messages)}"
                    )
                self._changed.wait(remaining)
            return list(self._messages)

    def clear(self) -> None:
        """Forget received messages and pending faults."""
        with self._changed:
            self._messages.clear()
            self._faults.clear()

    # -- faults -----------------------------------------------------------------------------
    def fail_next(
        self,
        n: int = 1,
        code: int = 451,
        text: str = "4.3.0 Temporary failure, try again later",
        stage: FailStage = "data",
    ) -> None:
        """Make the next n deliveries fail with code at RCPT or DATA (451: temporary)."""
        if n < 1:
            raise ValueError("n must be at least 1")
        with self._changed:
            self._faults.append(_Fault(remaining=n, code=code, text=text, stage=stage))

    def _take_fault(self, stage: FailStage) -> str | None:
        with self._changed:
            for fault in self._faults:
                if fault.stage == stage and fault.remaining > 0:
                    fault.remaining -= 1
                    if not fault.remaining:
                        self._faults.remove(fault)
                    return f"{fault.code} {fault.text}"
        return None

    def _record(self, message: ReceivedMessage) -> None:
        with self._changed:
            self._messages.append(message)
            self._changed.notify_all()
