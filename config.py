"""Settings for the helpdesk: a default, a test and a production configuration.

Every setting can be overridden from the environment as ``HELPDESK_<NAME>``; for example
``HELPDESK_DATABASE_URL`` or ``HELPDESK_SMTP_PORT``. Production refuses to start without a
secret key and a database URL.
"""

from __future__ import annotations

import os
import secrets
import stat
from collections.abc import Mapping
from ipaddress import IPv4Network, IPv6Network, ip_network
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

ENV_PREFIX = "HELPDESK_"
PROJECT_ROOT = Path(__file__).resolve().parent


class ConfigError(RuntimeError):
    """A setting is missing or malformed."""


class DefaultConfig:
    """The embedded default: SQLite under the instance folder, scheduler on."""

    ENV = "development"
    # None: a key of this instance's own, made on first start and kept in the instance folder
    # (see instance_secret_key). Production refuses to start without one set explicitly.
    SECRET_KEY: str | None = None
    INSTANCE_PATH = str(PROJECT_ROOT / "instance")
    DATABASE_URL: str | None = None  # default: sqlite:///<INSTANCE_PATH>/helpdesk.sqlite3
    RAW_STORE_PATH: str | None = None  # default: <INSTANCE_PATH>/store/raw
    ATTACHMENT_STORE_PATH: str | None = None  # default: <INSTANCE_PATH>/store/attachments
    QUARANTINE_STORE_PATH: str | None = None  # default: <INSTANCE_PATH>/store/quarantine
    # Development: `flask serve` catches outgoing mail on SMTP_HOST:SMTP_PORT into this Maildir
    # (default <INSTANCE_PATH>/captured-mail), shown to admins at /admin/captured-mail.
    MAIL_CAPTURE_PATH: str | None = None
    TIMEZONE = "Asia/Tokyo"
    # Where people reach the app; links in mails (weekly report, SLA digest) start with it.
    BASE_URL = "http://127.0.0.1:5000"
    SCHEDULER_ENABLED = True
    SCHEDULER_LEASE_SECONDS = 30
    MAIL_POLL_INTERVAL = 60
    # A batch is committed (and marked on the server) at once: at most this many messages and
    # bytes. Bigger batches cost less a message; the bytes bound the poller's memory.
    MAIL_BATCH_SIZE = 200
    MAIL_BATCH_BYTES = 32 * 1024 * 1024
    # Worker processes that parse mail while the poller writes: -1 one per CPU (at most 4, none
    # on a single CPU), 0 parse in the poller's own process.
    MAIL_ANALYSIS_PROCESSES = -1
    # A new ticket's SLA clock starts when the mail server received the message (IMAP
    # INTERNALDATE): the hours a poller was down are not given to the desk. Mail older than
    # this (a mailbox read for the first time) starts it when it is polled.
    MAIL_ARRIVAL_MAX_AGE_HOURS = 168
    IMAP_TIMEOUT = 30
    MAX_MESSAGE_BYTES = 25 * 1024 * 1024
    MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024
    AUTOREPLY_LIMIT_PER_HOUR = 5
    SMTP_HOST = "127.0.0.1"
    SMTP_PORT = 8025
    SMTP_SECURITY = "none"  # none | starttls | ssl
    SMTP_USERNAME = ""
    SMTP_PASSWORD = ""
    SMTP_TIMEOUT = 10
    OUTBOX_MAX_ATTEMPTS = 10
    SLA_WARN_MINUTES = 60
    WEEKLY_REPORT_ENABLED = True
    WEEKLY_REPORT_HOUR = 8
    REPORT_SENDER = ""
    TICKET_NUMBER_PREFIX = "HD"
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = False
    WTF_CSRF_ENABLED = True
    RATELIMIT_STORAGE_URI = "memory://"
    # Prepended to every rate-limit key: two helpdesks (or a staging copy) may share one Redis.
    RATELIMIT_KEY_PREFIX = "helpdesk"
    # When the shared store (Redis) is down, count in each process's memory rather than answer
    # sign-ins and enquiries with 500; the shared count resumes when the store is back.
    RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = True
    LOGIN_RATE_LIMIT = "10 per minute"
    ENQUIRY_RATE_LIMIT = "5 per minute;30 per hour"
    MAX_CONTENT_LENGTH = 30 * 1024 * 1024
    # Reverse proxies in front of the app whose X-Forwarded-For/-Proto/-Host are trusted; 0
    # ignores those headers (a client could set them to anything).
    PROXY_HOPS = 0
    # /readyz fails a check past these ages (seconds); 0 turns the check off.
    READY_LEADER_MAX_AGE = 60  # since the scheduler leader's last heartbeat
    READY_OUTBOX_MAX_AGE = 900  # the oldest mail not yet sent
    READY_POLL_MAX_AGE = 900  # a mailbox's last successful poll, beyond its own interval
    # /metrics answers a request bearing this token, or one straight from these networks.
    METRICS_TOKEN = ""
    METRICS_ALLOW = "127.0.0.1/32, ::1/128"


class TestingConfig(DefaultConfig):
    """Tests: scheduler off, a throw-away instance folder is expected from the fixture."""

    ENV = "testing"
    TESTING = True
    SCHEDULER_ENABLED = False


class ProductionConfig(DefaultConfig):
    """Production: PostgreSQL, secure cookies, and no usable default secret."""

    ENV = "production"
    SECRET_KEY = None
    DATABASE_URL = None
    BASE_URL = ""
    SESSION_COOKIE_SECURE = True
    SMTP_PORT = 25


CONFIGS: dict[str, type[DefaultConfig]] = {
    "development": DefaultConfig,
    "testing": TestingConfig,
    "production": ProductionConfig,
}


def _coerce(name: str, raw: str, default: Any) -> Any:
    """Turn an environment string into the type of the setting's default."""
    if isinstance(default, bool):
        if raw.lower() in {"1", "true", "yes", "on"}:
            return True
        if raw.lower() in {"0", "false", "no", "off"}:
            return False
        raise ConfigError(f"{ENV_PREFIX}{name} must be true or false, not {raw!r}")
    if isinstance(default, int):
        try:
            return int(raw)
        except ValueError as exc:
            raise ConfigError(f"{ENV_PREFIX}{name} must be a whole number, not {raw!r}") from exc
    return raw


def settings_of(cls: type[DefaultConfig]) -> dict[str, Any]:
    """The upper-case settings a configuration class defines, inherited ones included."""
    return {k: getattr(cls, k) for k in dir(cls) if k.isupper()}


def load_config(
    name: str | None = None,
    environ: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Build the settings for ``name`` (or ``HELPDESK_ENV``): class, then environment, then
    ``overrides``."""
    environ = os.environ if environ is None else environ
    name = name or environ.get(f"{ENV_PREFIX}ENV", "development")
    if name not in CONFIGS:
        raise ConfigError(f"unknown configuration {name!r}; choose one of {sorted(CONFIGS)}")
    settings = settings_of(CONFIGS[name])
    for key, default in settings.items():
        raw = environ.get(ENV_PREFIX + key)
        if raw is not None:
            settings[key] = _coerce(key, raw, default)
    settings.update(overrides or {})
    _fill_paths(settings)
    _check_required(settings)
    if not settings["SECRET_KEY"]:
        settings["SECRET_KEY"] = instance_secret_key(Path(settings["INSTANCE_PATH"]))
    settings["BASE_URL"] = _base_url(settings["BASE_URL"])
    networks(settings["METRICS_ALLOW"])
    return settings


def networks(value: str) -> list[IPv4Network | IPv6Network]:
    """The networks of a list like ``"127.0.0.1/32, 10.1.0.0/16"`` (commas or spaces)."""
    try:
        return [ip_network(item, strict=False) for item in value.replace(",", " ").split()]
    except ValueError as exc:
        raise ConfigError(
            f"{ENV_PREFIX}METRICS_ALLOW must list networks like 10.0.0.0/8, not {value!r}"
        ) from exc


def _fill_paths(settings: dict[str, Any]) -> None:
    """Derive the database URL and store folders from the instance folder."""
    instance = Path(settings["INSTANCE_PATH"]).resolve()
    settings["INSTANCE_PATH"] = str(instance)
    if not settings["DATABASE_URL"] and settings["ENV"] != "production":
        settings["DATABASE_URL"] = f"sqlite:///{instance / 'helpdesk.sqlite3'}"
    for key, folder in (
        ("RAW_STORE_PATH", "raw"),
        ("ATTACHMENT_STORE_PATH", "attachments"),
        ("QUARANTINE_STORE_PATH", "quarantine"),
    ):
        if not settings[key]:
            settings[key] = str(instance / "store" / folder)
    if settings["ENV"] == "development" and not settings["MAIL_CAPTURE_PATH"]:
        settings["MAIL_CAPTURE_PATH"] = str(instance / "captured-mail")
    settings["SQLALCHEMY_DATABASE_URI"] = settings["DATABASE_URL"]


SECRET_KEY_FILE = "secret_key"  # noqa: S105 - a file name, not a key


def instance_secret_key(instance: Path) -> str:
    """This instance's own secret key: read from the instance folder, or made on first start.

    A key nobody else knows signs the session cookies; a fixed default would let anyone who can
    reach the port sign a session for any user. The file is created atomically (written aside,
    then linked into place), so workers starting together agree on one key, and with mode 0600;
    a key file others can read is refused.
    """
    instance.mkdir(parents=True, exist_ok=True)
    path = instance / SECRET_KEY_FILE
    if not path.exists():
        aside = instance / f".{SECRET_KEY_FILE}.{os.getpid()}.{secrets.token_hex(4)}"
        descriptor = os.open(aside, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            handle.write(secrets.token_urlsafe(48))
        try:
            os.link(aside, path)
        except FileExistsError:
            pass  # another worker made it first: use theirs
        finally:
            aside.unlink()
    mode = path.stat().st_mode
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise ConfigError(
            f"{path} may be read by other users; run chmod 600 on it "
            f"(or set {ENV_PREFIX}SECRET_KEY)"
        )
    key = path.read_text().strip()
    if len(key) < 32:
        raise ConfigError(f"{path} holds no usable key; delete it to have a new one made")
    return key


def _base_url(value: str) -> str:
    """The site's address without a trailing slash; an http(s) URL with a host and no query."""
    parts = urlsplit(value)
    if parts.scheme not in {"http", "https"} or not parts.netloc or parts.query or parts.fragment:
        raise ConfigError(
            f"{ENV_PREFIX}BASE_URL must be the address people open, e.g. "
            f"https://helpdesk.example.jp, not {value!r}"
        )
    return value.rstrip("/")


def _check_required(settings: dict[str, Any]) -> None:
    """Refuse to run production without the secrets it needs."""
    if settings["ENV"] != "production":
        return
    missing = [k for k in ("SECRET_KEY", "DATABASE_URL", "BASE_URL") if not settings[k]]
    if missing:
        names = ", ".join(ENV_PREFIX + k for k in missing)
        raise ConfigError(f"production needs {names}; set them in the environment")
    if len(settings["SECRET_KEY"]) < 32:
        raise ConfigError(f"{ENV_PREFIX}SECRET_KEY must be at least 32 characters in production")
    if settings["METRICS_TOKEN"] and len(settings["METRICS_TOKEN"]) < 32:
        raise ConfigError(f"{ENV_PREFIX}METRICS_TOKEN must be at least 32 characters in production")
