"""The one place where domain errors become GraphQL errors with ``extensions.code``."""

from __future__ import annotations

import logging
from typing import Any

from graphql import GraphQLError

from tessera.core.errors import ErrorCode, TesseraError
from tessera.core.logging import log

logger = logging.getLogger("tessera.api")


def error_payload(error: GraphQLError) -> dict[str, Any]:
    """The response form of an error raised while executing or validating a document."""
    original = error.original_error
    if isinstance(original, TesseraError):
        formatted = error.formatted
        formatted["message"] = original.message
        formatted["extensions"] = original.extensions()
        return formatted
    formatted = error.formatted
    if original is not None and error.path is not None:
        # NOTE: an unexpected exception in a resolver must not leak internals; it is logged.
        log(logger, logging.ERROR, "unexpected error", error=repr(original), path=error.path)
        formatted["message"] = "internal error"
        formatted["extensions"] = {"code": str(ErrorCode.INTERNAL_ERROR)}
        return formatted
    # Without a path the error came from coercing the request (variables, literals): graphql-core's
    # message describes the caller's mistake.
    formatted.setdefault("extensions", {})
    formatted["extensions"].setdefault("code", str(ErrorCode.VALIDATION_ERROR))
    return formatted


def request_error(exc: TesseraError) -> dict[str, Any]:
    """An error that stops a request before execution (auth, size, parse limits)."""
    return {"message": exc.message, "extensions": exc.extensions()}
