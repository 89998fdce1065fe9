"""Password hashing with scrypt (memory-hard, in Python's standard library), in a self-describing
format so parameters can grow later: ``scrypt$<log2 n>$<r>$<p>$<salt b64>$<hash b64>``."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

from tessera.core.errors import ValidationError

LOG2_N = 14  # 2**14 * 8 * 128 bytes = 16 MiB per hash: slow for attackers, ~50 ms here
R = 8
P = 1
MIN_LENGTH = 10
MAX_LENGTH = 200


def check_strength(password: str) -> None:
    if not isinstance(password, str) or len(password) < MIN_LENGTH:
        raise ValidationError(f"password: at least {MIN_LENGTH} characters", field="password")
    if len(password) > MAX_LENGTH:
        raise ValidationError(f"password: at most {MAX_LENGTH} characters", field="password")


def _derive(password: str, salt: bytes, log2_n: int, r: int, p: int) -> bytes:
    n = 2 ** log2_n
    return hashlib.scrypt(password.encode(), salt=salt, n=n, r=r, p=p, maxmem=n * r * 128 * 2, dklen=32)


def hash_password(password: str) -> str:
    check_strength(password)
    salt = secrets.token_bytes(16)
    digest = _derive(password, salt, LOG2_N, R, P)
    encode = base64.b64encode
    return f"scrypt${LOG2_N}${R}${P}${encode(salt).decode()}${encode(digest).decode()}"


def verify_password(password: str, stored: str | None) -> bool:
    """Constant-time check; a missing or malformed hash never matches (but still costs a hash)."""
    try:
        scheme, log2_n, r, p, salt, digest = (stored or "").split("$")
        if scheme != "scrypt":
            raise ValueError(scheme)
        expected = base64.b64decode(digest)
        actual = _derive(password, base64.b64decode(salt), int(log2_n), int(r), int(p))
    except (ValueError, TypeError):
        # Same work as a real check, so timing does not tell whether the account has a password.
        _derive(password, b"\0" * 16, LOG2_N, R, P)
        return False
    return hmac.compare_digest(expected, actual)
