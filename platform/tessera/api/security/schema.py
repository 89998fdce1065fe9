"""The security half of the admin API: who the caller is, users, roles, permission sets, record
shares and API tokens. Everything but ``me``, ``roles`` and one's own tokens is for administrators."""

from __future__ import annotations

from typing import Any

import graphene

from tessera.api.inputs import plain, service_mutation
from tessera.api.metadata.types import Label
from tessera.api.scalars import JSON, DateTime
from tessera.api.security.public import SESSION_COOKIE
from tessera.core.errors import Forbidden
from tessera.core.i18n import pick_label
from tessera.services import tokens as token_service
from tessera.services.security import admin, sessions, shares
from tessera.storage.types import iso_datetime


def _admin(info: Any) -> Any:
    ctx = info.context
    if not ctx.access.profile.is_admin:
        raise Forbidden("only administrators see users and permissions")
    return ctx


class TokenScope(graphene.Enum):
    """What a token may do: READ_ONLY tokens cannot run mutations."""

    READ_WRITE = "READ_WRITE"
    READ_ONLY = "READ_ONLY"


class ShareAccess(graphene.Enum):
    READ = "READ"
    EDIT = "EDIT"


class Role(graphene.ObjectType):
    """A place in the role hierarchy: users see the records owned by users in roles below theirs."""

    name = graphene.String(required=True)
    label = graphene.String(required=True, locale=graphene.String())
    labels = graphene.Field(JSON, required=True)
    parent = graphene.String(description="The role directly above.")

    @staticmethod
    def resolve_label(root: admin.Role, info: Any, locale: str | None = None) -> str:
        return pick_label(root.labels, locale or info.context.locale) or root.name


class UserAccount(graphene.ObjectType):
    """A user of the tenant as administrators manage them."""

    id = graphene.ID(required=True)
    email = graphene.String(required=True)
    name = graphene.String(required=True)
    active = graphene.Boolean(required=True)
    is_admin = graphene.Boolean(required=True, name="isAdmin")
    role = graphene.String()
    manager_id = graphene.ID(name="managerId")
    permission_sets = graphene.List(graphene.NonNull(graphene.String), required=True, name="permissionSets")
    has_password = graphene.Boolean(required=True, name="hasPassword")


class ObjectPermission(graphene.ObjectType):
    object = graphene.String(required=True)
    read = graphene.Boolean(required=True)
    create = graphene.Boolean(required=True)
    edit = graphene.Boolean(required=True)
    delete = graphene.Boolean(required=True)
    view_all = graphene.Boolean(required=True, name="viewAll")
    modify_all = graphene.Boolean(required=True, name="modifyAll")

    @staticmethod
    def resolve_view_all(root: dict[str, Any], info: Any) -> bool:
        return root["viewAll"]

    @staticmethod
    def resolve_modify_all(root: dict[str, Any], info: Any) -> bool:
        return root["modifyAll"]


class FieldPermission(graphene.ObjectType):
    object = graphene.String(required=True)
    field = graphene.String(required=True)
    read = graphene.Boolean(required=True)
    edit = graphene.Boolean(required=True)


class PermissionSet(graphene.ObjectType):
    """Object and field permissions granted to the users it is assigned to."""

    name = graphene.String(required=True)
    label = graphene.String(required=True, locale=graphene.String())
    labels = graphene.Field(JSON, required=True)
    origin = graphene.String(required=True)
    object_permissions = graphene.List(graphene.NonNull(ObjectPermission), required=True, name="objectPermissions")
    field_permissions = graphene.List(graphene.NonNull(FieldPermission), required=True, name="fieldPermissions")

    @staticmethod
    def resolve_label(root: admin.PermissionSetInfo, info: Any, locale: str | None = None) -> str:
        return pick_label(root.labels, locale or info.context.locale) or root.name

    @staticmethod
    def resolve_object_permissions(root: admin.PermissionSetInfo, info: Any) -> list[dict[str, Any]]:
        return list(root.objects)

    @staticmethod
    def resolve_field_permissions(root: admin.PermissionSetInfo, info: Any) -> list[dict[str, Any]]:
        return list(root.fields)


class RecordShare(graphene.ObjectType):
    id = graphene.ID(required=True)
    object = graphene.String(required=True)
    record = graphene.ID(required=True)
    user_id = graphene.ID(name="userId")
    role = graphene.String()
    access = graphene.Field(ShareAccess, required=True)

    @staticmethod
    def resolve_record(root: shares.Share, info: Any) -> str:
        return root.record_id


class ApiToken(graphene.ObjectType):
    id = graphene.ID(required=True)
    user_id = graphene.ID(required=True, name="userId")
    name = graphene.String(required=True)
    scope = graphene.Field(TokenScope, required=True)
    created_at = DateTime(required=True, name="createdAt")
    expires_at = DateTime(name="expiresAt")
    revoked_at = DateTime(name="revokedAt")

    @staticmethod
    def resolve_created_at(root: token_service.TokenInfo, info: Any) -> str:
        return iso_datetime(root.created_at)

    @staticmethod
    def resolve_expires_at(root: token_service.TokenInfo, info: Any) -> str | None:
        return iso_datetime(root.expires_at) if root.expires_at else None

    @staticmethod
    def resolve_revoked_at(root: token_service.TokenInfo, info: Any) -> str | None:
        return iso_datetime(root.revoked_at) if root.revoked_at else None


class IssuedApiToken(graphene.ObjectType):
    """A new token: ``token`` is shown this once; only its hash is kept."""

    token = graphene.String(required=True)
    api_token = graphene.Field(ApiToken, required=True, name="apiToken")

    @staticmethod
    def resolve_api_token(root: token_service.IssuedToken, info: Any) -> token_service.TokenInfo:
        return root.info


class Me(graphene.ObjectType):
    """The caller."""

    id = graphene.ID(required=True)
    email = graphene.String(required=True)
    is_admin = graphene.Boolean(required=True, name="isAdmin")
    token_scope = graphene.Field(TokenScope, required=True, name="tokenScope")
    csrf_token = graphene.String(name="csrfToken",
                                 description="In a browser session: the token to send as X-CSRF-Token with mutations.")


# --- inputs ----------------------------------------------------------------------------------------
class CreateUserInput(graphene.InputObjectType):
    email = graphene.String(required=True)
    name = graphene.String()
    role = graphene.String(description="Role name.")
    manager = graphene.ID(description="The manager's user id.")
    isAdmin = graphene.Boolean()
    active = graphene.Boolean()
    permissionSets = graphene.List(graphene.NonNull(graphene.String),
                                   description="Names; default: the standard user set.")
    password = graphene.String(description="At least 10 characters; stored as a scrypt hash.")


class UpdateUserInput(graphene.InputObjectType):
    id = graphene.ID(required=True)
    email = graphene.String()
    name = graphene.String()
    role = graphene.String()
    manager = graphene.ID()
    isAdmin = graphene.Boolean()
    active = graphene.Boolean()
    permissionSets = graphene.List(graphene.NonNull(graphene.String), description="Replaces the user's sets.")
    password = graphene.String()


class RoleInput(graphene.InputObjectType):
    name = graphene.String(required=True)
    label = Label()
    parent = graphene.String(description="The role directly above (null: a top role).")


class DeleteByNameInput(graphene.InputObjectType):
    name = graphene.String(required=True)


class ObjectPermissionInput(graphene.InputObjectType):
    object = graphene.String(required=True)
    read = graphene.Boolean()
    create = graphene.Boolean()
    edit = graphene.Boolean()
    delete = graphene.Boolean()
    viewAll = graphene.Boolean()
    modifyAll = graphene.Boolean()


class FieldPermissionInput(graphene.InputObjectType):
    object = graphene.String(required=True)
    field = graphene.String(required=True)
    read = graphene.Boolean()
    edit = graphene.Boolean()


class PermissionSetInput(graphene.InputObjectType):
    name = graphene.String(required=True)
    label = Label()
    description = Label()
    objectPermissions = graphene.List(graphene.NonNull(ObjectPermissionInput),
                                      description="Replaces the set's object permissions when given.")
    fieldPermissions = graphene.List(graphene.NonNull(FieldPermissionInput),
                                     description="Replaces the set's field permissions when given.")


class ShareRecordInput(graphene.InputObjectType):
    object = graphene.String(required=True)
    record = graphene.ID(required=True)
    user = graphene.ID(description="Share with this user...")
    role = graphene.String(description="...or with every user of this role.")
    access = ShareAccess(required=True)


class CreateApiTokenInput(graphene.InputObjectType):
    name = graphene.String(required=True)
    scope = TokenScope()
    expiresAt = DateTime()
    user = graphene.ID(description="Administrators only: issue it for this user.")


class SecurityQuery(graphene.ObjectType):
    me = graphene.Field(graphene.NonNull(Me), description="The caller.")
    users = graphene.List(graphene.NonNull(UserAccount), required=True, description="Administrators only.")
    roles = graphene.List(graphene.NonNull(Role), required=True)
    permission_sets = graphene.List(graphene.NonNull(PermissionSet), required=True, name="permissionSets",
                                    description="Administrators only.")
    record_shares = graphene.List(graphene.NonNull(RecordShare), required=True, name="recordShares",
                                  object=graphene.String(required=True), id=graphene.ID(required=True),
                                  description="Shares of a record (for those with full access to it).")
    api_tokens = graphene.List(graphene.NonNull(ApiToken), required=True, name="apiTokens",
                               description="Your tokens (every token of the tenant for administrators).")

    @staticmethod
    def resolve_me(root: Any, info: Any) -> dict[str, Any]:
        ctx = info.context
        return {"id": ctx.principal.user_id, "email": ctx.principal.email,
                "is_admin": ctx.access.profile.is_admin, "token_scope": ctx.principal.scope,
                "csrf_token": ctx.csrf_token}

    @staticmethod
    def resolve_users(root: Any, info: Any) -> list[admin.UserInfo]:
        ctx = _admin(info)
        with ctx.rt.db.system.connect() as conn:
            return admin.list_users(conn, ctx.principal.tenant.id)

    @staticmethod
    def resolve_roles(root: Any, info: Any) -> list[admin.Role]:
        ctx = info.context
        with ctx.rt.db.system.connect() as conn:
            return admin.list_roles(conn, ctx.principal.tenant.id)

    @staticmethod
    def resolve_permission_sets(root: Any, info: Any) -> list[admin.PermissionSetInfo]:
        ctx = _admin(info)
        with ctx.rt.db.system.connect() as conn:
            return admin.list_permission_sets(conn, ctx.model.meta, ctx.principal.tenant.id)

    @staticmethod
    def resolve_record_shares(root: Any, info: Any, object: str, id: str) -> list[shares.Share]:
        ctx = info.context
        return shares.record_shares_of(ctx.rt, ctx.actor, ctx.model, object, id)

    @staticmethod
    def resolve_api_tokens(root: Any, info: Any) -> list[token_service.TokenInfo]:
        ctx = info.context
        return token_service.list_api_tokens(ctx.rt, ctx.actor)


class SecurityMutation(graphene.ObjectType):
    create_user = service_mutation(admin.create_user, CreateUserInput, UserAccount, "Add a user (administrators).")
    update_user = service_mutation(admin.update_user, UpdateUserInput, UserAccount,
                            "Change a user: role, manager, permission sets, active, administrator, password.")
    create_role = service_mutation(admin.create_role, RoleInput, Role, "Add a role to the hierarchy.")
    update_role = service_mutation(admin.update_role, RoleInput, Role, "Rename or move a role.")
    delete_role = service_mutation(admin.delete_role, DeleteByNameInput, Role, "Delete a role nobody holds.")
    create_permission_set = service_mutation(admin.create_permission_set, PermissionSetInput, PermissionSet,
                                      "Define object and field permissions to assign to users.")
    update_permission_set = service_mutation(admin.update_permission_set, PermissionSetInput, PermissionSet,
                                      "Change a permission set; lists given replace the stored ones.")
    delete_permission_set = service_mutation(admin.delete_permission_set, DeleteByNameInput, PermissionSet,
                                      "Delete a permission set (its users lose what it granted).")
    create_api_token = service_mutation(token_service.create_api_token, CreateApiTokenInput, IssuedApiToken,
                                 "Issue an API token; the token is shown once.")
    share_record = graphene.Field(graphene.NonNull(RecordShare), input=graphene.Argument(graphene.NonNull(ShareRecordInput)),
                                  description="Give a user or a role read or edit access to one record.")
    unshare_record = graphene.Field(graphene.NonNull(RecordShare), id=graphene.ID(required=True),
                                    description="Remove a record share.")
    revoke_api_token = graphene.Field(graphene.NonNull(ApiToken), id=graphene.ID(required=True),
                                      description="Revoke a token at once (yours, or any for administrators).")
    logout = graphene.Boolean(required=True, description="End this browser session and clear its cookie.")

    @staticmethod
    def resolve_logout(root: Any, info: Any) -> bool:
        ctx = info.context
        ended = sessions.logout(ctx.rt, ctx.session_secret, ctx.address)
        ctx.cookies.append((SESSION_COOKIE, None, None))
        return ended

    @staticmethod
    def resolve_share_record(root: Any, info: Any, input: Any) -> shares.Share:
        ctx = info.context
        ctx.end_read()
        return shares.share_record(ctx.rt, ctx.actor, ctx.model, plain(dict(input)))

    @staticmethod
    def resolve_unshare_record(root: Any, info: Any, id: str) -> shares.Share:
        ctx = info.context
        ctx.end_read()
        return shares.unshare_record(ctx.rt, ctx.actor, ctx.model, id)

    @staticmethod
    def resolve_revoke_api_token(root: Any, info: Any, id: str) -> token_service.TokenInfo:
        ctx = info.context
        ctx.end_read()
        return token_service.revoke_api_token(ctx.rt, ctx.actor, id)
