"""Handing GraphQL inputs to services: one conversion to plain values, one mutation factory."""

from __future__ import annotations

from collections.abc import Callable
from enum import Enum
from typing import Any

import graphene


def plain(value: Any) -> Any:
    """Graphene input containers and enum members as plain dicts, lists and strings."""
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, Enum):
        return value.value
    return value


def service_mutation(
    service: Callable[..., Any], input_type: Any, output: Any, description: str
) -> graphene.Field:
    """A mutation taking one required ``input``, handed to ``service(rt, actor, data)`` as a plain dict.

    The request's read connection is closed first, so what the service commits is what later reads see.
    """

    def resolve(root: Any, info: Any, input: Any) -> Any:
        ctx = info.context
        ctx.end_read()
        return service(ctx.rt, ctx.actor, plain(dict(input)))

    return graphene.Field(
        graphene.NonNull(output), input=graphene.Argument(graphene.NonNull(input_type)),
        resolver=resolve, description=description,
    )
