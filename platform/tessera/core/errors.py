"""The one error hierarchy: every refusal carries a code from ``ErrorCode``.

The API layer maps these to GraphQL errors with ``extensions.code`` in exactly one place.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any


class ErrorCode(StrEnum):
    VALIDATION_ERROR = "VALIDATION_ERROR"
    NOT_FOUND = "NOT_FOUND"
    FORBIDDEN = "FORBIDDEN"
    UNAUTHENTICATED = "UNAUTHENTICATED"
    CONFLICT = "CONFLICT"
    UNSAFE_CHANGE = "UNSAFE_CHANGE"
    IN_USE = "IN_USE"
    LIMIT_EXCEEDED = "LIMIT_EXCEEDED"
    PLUGIN_ERROR = "PLUGIN_ERROR"
    SCHEMA_OUTDATED = "SCHEMA_OUTDATED"
    SOURCE_UNAVAILABLE = "SOURCE_UNAVAILABLE"
    INTERNAL_ERROR = "INTERNAL_ERROR"


class TesseraError(Exception):
    """Base of all domain errors; ``field`` names the input at fault, when there is one."""

    code: ErrorCode = ErrorCode.VALIDATION_ERROR

    def __init__(self, message: str, *, field: str | None = None, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.details = details

    def extensions(self) -> dict[str, Any]:
        ext: dict[str, Any] = {"code": str(self.code)}
        if self.field is not None:
            ext["field"] = self.field
        ext.update({k: v for k, v in self.details.items() if v is not None})
        return ext


class ValidationError(TesseraError):
    code = ErrorCode.VALIDATION_ERROR


class InUse(TesseraError):
    """A change that would break definitions depending on what it changes (formulas, rules...)."""

    code = ErrorCode.IN_USE


class NotFound(TesseraError):
    code = ErrorCode.NOT_FOUND


class Forbidden(TesseraError):
    code = ErrorCode.FORBIDDEN


class Unauthenticated(TesseraError):
    code = ErrorCode.UNAUTHENTICATED


class Conflict(TesseraError):
    code = ErrorCode.CONFLICT


class UnsafeChange(TesseraError):
    code = ErrorCode.UNSAFE_CHANGE


class LimitExceeded(TesseraError):
    code = ErrorCode.LIMIT_EXCEEDED


class PluginError(TesseraError):
    code = ErrorCode.PLUGIN_ERROR


class SourceUnavailable(TesseraError):
    """An external source a connector reads failed, or answered something that cannot be used."""

    code = ErrorCode.SOURCE_UNAVAILABLE


class SchemaOutdated(TesseraError):
    """The database is not migrated to the version this code expects."""

    code = ErrorCode.SCHEMA_OUTDATED


class ValidationErrors(ValidationError):
    """Several field errors at once, e.g. from a bulk insert; the first names ``field``."""

    def __init__(self, errors: list[ValidationError]) -> None:
        first = errors[0]
        super().__init__(
            "; ".join(e.message for e in errors),
            field=first.field,
            errors=[{"field": e.field, "message": e.message, **e.details} for e in errors],
        )
        self.errors = errors
