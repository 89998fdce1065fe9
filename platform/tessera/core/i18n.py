"""Translatable labels: a mapping of locale to text, with fallback to English."""

from __future__ import annotations

from collections.abc import Mapping

DEFAULT_LOCALE = "en"
SUPPORTED_LOCALES = ("en", "zh")


def normalise_label(value: str | Mapping[str, str] | None) -> dict[str, str]:
    """Accept a plain string (English) or a locale map; return a locale map."""
    if value is None:
        return {}
    if isinstance(value, str):
        return {DEFAULT_LOCALE: value}
    return {str(k): str(v) for k, v in value.items() if v is not None}


def pick_label(labels: Mapping[str, str], locale: str | None = None) -> str | None:
    if locale and locale in labels:
        return labels[locale]
    if DEFAULT_LOCALE in labels:
        return labels[DEFAULT_LOCALE]
    return next(iter(labels.values()), None)
