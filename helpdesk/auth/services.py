"""Account operations: authenticate, create users, change passwords, TOTP second factor."""

from __future__ import annotations

import base64
import hashlib
import hmac
import io
import secrets
from collections.abc import Sequence
from datetime import UTC, datetime

import pyotp
import qrcode
from qrcode.image.svg import SvgPathImage
from sqlalchemy import func, select

from helpdesk import audit, clock
from helpdesk.auth.passwords import hash_password, needs_rehash, verify_password
from helpdesk.extensions import db
from helpdesk.models import Desk, Role, User

TOTP_ISSUER = "Helpdesk"
RECOVERY_CODES = 10
# Verified against when the account does not exist, so timing does not tell who has one.
_DUMMY_HASH = hash_password("not-a-real-password")


def check_credentials(email: str, password: str) -> User | None:
    """The active user with this email and password, or None (upgrades an old hash)."""
    query = select(User).where(func.lower(User.email) == email.strip().lower())
    user: User | None = db.session.scalar(query)
    if user is None:
        verify_password(_DUMMY_HASH, password)
        return None
    # The hash is checked first, so a deactivated account answers as slowly as any other.
    if not verify_password(user.password_hash, password) or not user.active:
        return None
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    return user


def record_login(user: User) -> None:
    """Note a completed sign-in."""
    user.last_login_at = clock.now()


def authenticate(email: str, password: str) -> User | None:
    """The active user with this email and password, or None; records the sign-in."""
    user = check_credentials(email, password)
    if user is not None:
        record_login(user)
    return user


def create_user(
    email: str, name: str, password: str, role: Role, desks: Sequence[Desk] = ()
) -> User:
    """Add an account (flushes; the caller commits)."""
    user = User(
        email=email.strip().lower(),
        name=name,
        password_hash=hash_password(password),
        role=role,
        desks=list(desks),
    )
    db.session.add(user)
    db.session.flush()
    return user


def change_password(user: User, current: str, new: str) -> bool:
    """Set a new password if ``current`` is right; False (nothing changed) otherwise."""
    if not verify_password(user.password_hash, current):
        return False
    set_password(user, new)
    audit.record("auth.password_changed", actor=user, user_id=user.id)
    return True


def set_password(user: User, password: str) -> None:
    """Store a new password and end the user's other sessions."""
    user.password_hash = hash_password(password)
    end_sessions(user)


def end_sessions(user: User) -> None:
    """Make every session cookie of ``user`` worthless (they carry the old session version)."""
    user.session_version += 1
    db.session.flush()


def new_totp_secret() -> str:
    """A fresh base32 TOTP secret."""
    return pyotp.random_base32()


def totp_uri(user: User, secret: str) -> str:
    """The otpauth:// URI an authenticator app reads."""
    return pyotp.TOTP(secret).provisioning_uri(name=user.email, issuer_name=TOTP_ISSUER)


def totp_qr_svg(uri: str) -> bytes:
    """The provisioning URI as a QR code (SVG), for the authenticator app's camera."""
    image = qrcode.make(uri, image_factory=SvgPathImage, box_size=8, border=2)
    buffer = io.BytesIO()
    image.save(buffer)
    return buffer.getvalue()


def totp_code_ok(secret: str, code: str) -> bool:
    """Whether ``code`` is the current code of ``secret`` (one step of clock drift allowed)."""
    digits = "".join(code.split())
    if not digits.isdigit() or len(digits) != 6:
        return False
    return pyotp.TOTP(secret).verify(digits, for_time=int(clock.now().timestamp()), valid_window=1)


def accept_totp_code(user: User, code: str) -> bool:
    """Whether ``code`` signs ``user`` in: valid now and not a code already used."""
    digits = "".join(code.split())
    if not user.totp_secret or not digits.isdigit() or len(digits) != 6:
        return False
    totp = pyotp.TOTP(user.totp_secret)
    now = int(clock.now().timestamp())
    for step in (0, -1, 1):  # one step of clock drift either way
        at = now + step * totp.interval
        if totp.verify(digits, for_time=at, valid_window=0):
            counter = totp.timecode(datetime.fromtimestamp(at, UTC))
            if user.totp_last_counter is not None and counter <= user.totp_last_counter:
                return False
            user.totp_last_counter = counter
            db.session.flush()
            return True
    return False


def _recovery_hash(code: str) -> str:
    return hashlib.sha256(code.replace("-", "").strip().upper().encode()).hexdigest()


def new_recovery_codes(user: User) -> list[str]:
    """Replace the account's recovery codes with ten new ones; returns them to show once."""
    codes = []
    for _ in range(RECOVERY_CODES):
        raw = base64.b32encode(secrets.token_bytes(10)).decode()[:10]
        codes.append(f"{raw[:5]}-{raw[5:]}")
    user.totp_recovery_hashes = [_recovery_hash(code) for code in codes]
    db.session.flush()
    return codes


def use_recovery_code(user: User, code: str) -> bool:
    """Whether ``code`` is one of the account's unused recovery codes; it is used up if so."""
    if not user.totp_secret or not user.totp_recovery_hashes:
        return False
    given = _recovery_hash(code)
    remaining = [h for h in user.totp_recovery_hashes if not hmac.compare_digest(h, given)]
    if len(remaining) == len(user.totp_recovery_hashes):
        return False
    user.totp_recovery_hashes = remaining
    db.session.flush()
    audit.record("auth.recovery_code_used", actor=user, user_id=user.id, left=len(remaining))
    return True


def renew_recovery_codes(user: User, password: str) -> list[str] | None:
    """New recovery codes (the old ones stop working) if ``password`` is right."""
    if not user.totp_secret or not verify_password(user.password_hash, password):
        return None
    codes = new_recovery_codes(user)
    audit.record("auth.recovery_codes_renewed", actor=user, user_id=user.id)
    return codes


def enable_totp(user: User, secret: str, code: str) -> list[str] | None:
    """Turn on the second factor once the user proves their app has ``secret``; returns the
    account's new recovery codes (to show once), or None when the code is wrong."""
    if not totp_code_ok(secret, code):
        return None
    user.totp_secret = secret
    codes = new_recovery_codes(user)
    audit.record("auth.totp_enabled", actor=user, user_id=user.id)
    return codes


def disable_totp(user: User, password: str) -> bool:
    """Turn off the second factor if ``password`` is right."""
    if not verify_password(user.password_hash, password):
        return False
    user.totp_secret = None
    user.totp_recovery_hashes = None
    db.session.flush()
    audit.record("auth.totp_disabled", actor=user, user_id=user.id)
    return True
