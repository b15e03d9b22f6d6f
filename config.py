"""Settings for the helpdesk: a default, a test and a production configuration.

Every setting can be overridden from the environment as ``HELPDESK_<NAME>``; for example
``HELPDESK_DATABASE_URL`` or ``HELPDESK_SMTP_PORT``. Production refuses to start without a
secret key and a database URL.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
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
    # Development only; production refuses to start without its own (see _check_required).
    SECRET_KEY: str | None = "development-only-not-secret"  # noqa: S105
    INSTANCE_PATH = str(PROJECT_ROOT / "instance")
    DATABASE_URL: str | None = None  # default: sqlite:///<INSTANCE_PATH>/helpdesk.sqlite3
    RAW_STORE_PATH: str | None = None  # default: <INSTANCE_PATH>/store/raw
    ATTACHMENT_STORE_PATH: str | None = None  # default: <INSTANCE_PATH>/store/attachments
    QUARANTINE_STORE_PATH: str | None = None  # default: <INSTANCE_PATH>/store/quarantine
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
    LOGIN_RATE_LIMIT = "10 per minute"
    ENQUIRY_RATE_LIMIT = "5 per minute;30 per hour"
    MAX_CONTENT_LENGTH = 30 * 1024 * 1024


class TestingConfig(DefaultConfig):
    """Tests: scheduler off, a throw-away instance folder is expected from the fixture."""

    ENV = "testing"
    TESTING = True
    SCHEDULER_ENABLED = False
    SECRET_KEY = "testing-not-secret"  # noqa: S105


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
    settings["BASE_URL"] = _base_url(settings["BASE_URL"])
    return settings


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
    settings["SQLALCHEMY_DATABASE_URI"] = settings["DATABASE_URL"]


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
