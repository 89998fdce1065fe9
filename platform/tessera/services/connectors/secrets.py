"""Connector credentials: which configuration keys are secret, their encryption at rest, their mask.

Secrets are encrypted with Fernet (AES-128-CBC + HMAC-SHA256) under a key derived per tenant from
the application's secret key (HKDF-SHA256, the tenant id as context): a database dump leaks no
credential, and one tenant's key opens nothing of another's. The API shows ``MASK`` in their place;
giving the mask back in an update keeps the stored value.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable, Mapping
from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from tessera.core.errors import ValidationError

MASK = "********"
SECRET_WORDS = ("password", "secret", "token", "apikey", "api_key", "credential", "authorization", "privatekey")


def is_secret(key: str, extra: Iterable[str] = ()) -> bool:
    lowered = key.lower()
    if key in set(extra):
        return True
    # the name of the header a key travels in (``apiKeyHeader``) is not itself a secret
    return not lowered.endswith("header") and any(word in lowered for word in SECRET_WORDS)


def split(config: Mapping[str, Any], extra: Iterable[str] = ()) -> tuple[dict[str, Any], dict[str, Any]]:
    """(public part, secret part) of a configuration, by top-level key."""
    extra = tuple(extra)
    public = {k: v for k, v in config.items() if not is_secret(k, extra)}
    secret = {k: v for k, v in config.items() if is_secret(k, extra)}
    return public, secret


def masked(public: Mapping[str, Any], secret_keys: Iterable[str]) -> dict[str, Any]:
    """The configuration as the API shows it: secrets replaced by ``MASK``."""
    return {**public, **{k: MASK for k in secret_keys}}


def _fernet(app_secret: str, tenant_id: str) -> Fernet:
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=b"tessera.connectors",
               info=tenant_id.encode()).derive(app_secret.encode())
    return Fernet(base64.urlsafe_b64encode(key))


def encrypt(app_secret: str, tenant_id: str, secret: Mapping[str, Any]) -> str | None:
    if not secret:
        return None
    return _fernet(app_secret, tenant_id).encrypt(json.dumps(dict(secret)).encode()).decode()


def decrypt(app_secret: str, tenant_id: str, token: str | None) -> dict[str, Any]:
    if not token:
        return {}
    try:
        return dict(json.loads(_fernet(app_secret, tenant_id).decrypt(token.encode())))
    except InvalidToken:
        # The application's secret key changed since the credentials were saved.
        raise ValidationError("the connector's credentials cannot be decrypted with this secret key: "
                              "give them again with updateConnector", field="config") from None


def secret_names(app_secret: str, tenant_id: str, token: str | None) -> list[str]:
    return sorted(decrypt(app_secret, tenant_id, token))
