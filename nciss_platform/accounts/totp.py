"""Time-based one-time passwords (RFC 6238, SHA-1, 6 digits, 30 s), as authenticator apps use."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import struct
import time
from urllib.parse import quote

STEP = 30
DIGITS = 6


def new_secret() -> str:
    return base64.b32encode(secrets.token_bytes(20)).decode("ascii")


def code_at(secret: str, moment: float, digits: int = DIGITS) -> str:
    key = base64.b32decode(secret.upper() + "=" * (-len(secret) % 8))
    digest = hmac.new(key, struct.pack(">Q", int(moment // STEP)), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    value = struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF
    return str(value % 10**digits).zfill(digits)


def verify(secret: str, code: str, moment: float | None = None, window: int = 1) -> bool:
    """True if ``code`` is valid now or within ``window`` steps either side (clock drift)."""
    return matching_step(secret, code, moment, window) is not None


def matching_step(secret: str, code: str, moment: float | None = None, window: int = 1) -> int | None:
    """The time step whose code ``code`` is (now or within ``window`` steps either side), or None.

    Callers remember the step of the last accepted code so that a code is never accepted twice.
    """
    now = time.time() if moment is None else moment
    code = code.strip().replace(" ", "")
    if len(code) != DIGITS or not code.isdigit():
        return None
    for i in range(-window, window + 1):
        if hmac.compare_digest(code_at(secret, now + i * STEP), code):
            return int((now + i * STEP) // STEP)
    return None


def provisioning_uri(secret: str, account: str, issuer: str = "nciss") -> str:
    """The otpauth:// URI an authenticator app reads (shown as text and as a QR code)."""
    return f"otpauth://totp/{quote(issuer)}:{quote(account)}?secret={secret}&issuer={quote(issuer)}&algorithm=SHA1&digits={DIGITS}&period={STEP}"
