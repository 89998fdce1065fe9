"""Metadata changes are administrators' work in the service layer itself, whatever calls it."""

from __future__ import annotations

import pytest

from tessera.core.errors import Forbidden
from tessera.model.access import PermissionProfile, UserAccess
from tessera.services.metadata import create_field, create_object
from tessera.services.runtime import Actor, Runtime
from tessera.services.tenants import CreatedTenant


def test_a_user_who_is_not_an_administrator_cannot_change_metadata(runtime: Runtime, tenant: CreatedTenant) -> None:
    # given a user with every record permission but no administrator rights
    user = Actor(tenant.tenant, tenant.admin_user_id, "api", UserAccess(PermissionProfile(), tenant.admin_user_id))
    # when they try to add a field or an object through the services
    for change in (lambda: create_field(runtime, user, {"object": "account", "name": "tier", "type": "TEXT"}),
                   lambda: create_object(runtime, user, {"name": "site", "pluralName": "sites"})):
        with pytest.raises(Forbidden) as refused:
            change()
        assert refused.value.message == "only administrators change metadata"
    # then nothing changed, and an administrator may make the same change
    admin = Actor(runtime.tenant(tenant.tenant.slug), tenant.admin_user_id)
    assert create_field(runtime, admin, {"object": "account", "name": "tier", "type": "TEXT"}).name == "tier"
