"""Opaque, stable pagination cursors: the sort-key values and id of a row, typed and hex-encoded."""

from __future__ import annotations

import hashlib
import json
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from tessera.core.errors import ValidationError


def _tag(value: Any) -> Any:
    if isinstance(value, bool) or value is None or isinstance(value, int | str):
        return value
    if isinstance(value, datetime):
        return {"t": value.isoformat()}
    if isinstance(value, date):
        return {"d": value.isoformat()}
    if isinstance(value, Decimal):
        return {"n": str(value)}
    if isinstance(value, float):
        return {"f": repr(value)}
    raise TypeError(f"cannot put {type(value).__name__} in a cursor")


def _untag(value: Any) -> Any:
    if isinstance(value, dict):
        (kind, text), = value.items()
        return {
            "t": datetime.fromisoformat,
            "d": date.fromisoformat,
            "n": Decimal,
            "f": float,
        }[kind](text)
    return value


def ordering_signature(labels: list[str]) -> str:
    """A short fingerprint of an ordering, so a cursor of another ordering is refused."""
    return hashlib.sha1("|".join(labels).encode()).hexdigest()[:8]


def encode_cursor(values: list[Any], signature: str) -> str:
    return json.dumps([signature, *[_tag(v) for v in values]], separators=(",", ":")).encode().hex()


def decode_cursor(cursor: str, expected_length: int, signature: str, *, argument: str) -> list[Any]:
    """Decode a cursor made by ``encode_cursor`` for the same ordering, or refuse it clearly."""
    try:
        values = json.loads(bytes.fromhex(cursor).decode())
        if not isinstance(values, list) or len(values) != expected_length + 1 or values[0] != signature:
            raise ValueError("cursor does not match this ordering")
        return [_untag(v) for v in values[1:]]
    except (ValueError, TypeError, KeyError, UnicodeDecodeError, ArithmeticError):
        raise ValidationError(
            f"{argument}: not a cursor of this list (cursors depend on orderBy)", field=argument
        ) from None
