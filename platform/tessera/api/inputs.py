"""GraphQL input values as plain Python, for the services: one conversion for every half of the API."""

from __future__ import annotations

from enum import Enum
from typing import Any


def plain(value: Any) -> Any:
    """Graphene input containers and enum members as plain dicts, lists and strings."""
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, Enum):
        return value.value
    return value
