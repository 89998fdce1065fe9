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
    if original is not None:
        # NOTE: an unexpected exception must not leak internals to the caller; it is logged.
        log(logger, logging.ERROR, "unexpected error", error=repr(original), path=error.path)
        formatted["message"] = "internal error"
        formatted["extensions"] = {"code": "INTERNAL_ERROR"}
        return formatted
    formatted.setdefault("extensions", {})
    formatted["extensions"].setdefault("code", str(ErrorCode.VALIDATION_ERROR))
    return formatted


def request_error(exc: TesseraError) -> dict[str, Any]:
    """An error that stops a request before execution (auth, size, parse limits)."""
    return {"message": exc.message, "extensions": exc.extensions()}
