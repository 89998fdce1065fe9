"""The GraphQL endpoint: ``POST /graphql`` (single or batched operations), GraphiQL on ``GET``."""

from __future__ import annotations

import hmac
import json
import logging
import time
from typing import Any

from flask import Blueprint, Response, current_app, request
from graphql import ExecutionResult, GraphQLError, OperationType, execute, get_operation_ast, parse

from tessera.api.callers import bearer, resolve_caller, session_cookie
from tessera.api.context import RequestContext
from tessera.api.documents import DocumentCache, InvalidDocument
from tessera.api.errors import error_payload, request_error
from tessera.api.execution import TesseraExecutionContext
from tessera.api.graphiql import GRAPHIQL_HTML
from tessera.api.schema import SchemaCache
from tessera.api.security.public import PUBLIC_SCHEMA, SESSION_COOKIE, PublicContext
from tessera.core.errors import Forbidden, LimitExceeded, TesseraError, Unauthenticated, ValidationError
from tessera.core.logging import log
from tessera.services.runtime import Runtime

logger = logging.getLogger("tessera.graphql")
blueprint = Blueprint("graphql", __name__)
CSRF_HEADER = "X-CSRF-Token"


class GraphQLService:
    """Per-process state of the endpoint: schema and document caches."""

    def __init__(self, rt: Runtime) -> None:
        self.rt = rt
        self.schemas = SchemaCache(host=rt.plugins)
        self.documents = DocumentCache(rt.config.limits.document_cache_size)

    def run(self, ctx: RequestContext, operation: Any) -> dict[str, Any]:
        if not isinstance(operation, dict) or not isinstance(operation.get("query"), str):
            return {"errors": [request_error(ValidationError("each operation needs a 'query' string", field="query"))]}
        variables = operation.get("variables") or {}
        if not isinstance(variables, dict):
            return {"errors": [request_error(ValidationError("'variables' must be an object", field="variables"))]}
        built = self.schemas.get(ctx.model.meta, ctx.principal.tenant.id, ctx.access.profile)
        ctx.meta = built.meta
        schema = built.graphql_schema
        try:
            document = self.documents.get(schema, operation["query"], self.rt.config.limits)
        except LimitExceeded as exc:
            return {"errors": [request_error(exc)]}
        except InvalidDocument as exc:
            return {"errors": [error_payload(e) for e in exc.errors]}
        if ctx.principal.read_only:
            chosen = get_operation_ast(document, operation.get("operationName"))
            if chosen is not None and chosen.operation == OperationType.MUTATION:
                return {"errors": [request_error(Forbidden("this API token is read-only: it cannot run mutations"))]}
        result = execute(
            schema, document, context_value=ctx, variable_values=variables,
            operation_name=operation.get("operationName"), execution_context_class=TesseraExecutionContext,
        )
        assert isinstance(result, ExecutionResult)
        response: dict[str, Any] = {}
        if result.errors:
            response["errors"] = [error_payload(e) for e in result.errors]
        response["data"] = result.data
        return response


def _json(payload: Any, status: int = 200) -> Response:
    return Response(json.dumps(payload, ensure_ascii=False, separators=(",", ":")), status=status, mimetype="application/json")


@blueprint.get("/graphql")
def graphiql() -> Response:
    return Response(GRAPHIQL_HTML, mimetype="text/html")


@blueprint.post("/graphql")
def graphql_endpoint() -> Response:
    service: GraphQLService = current_app.extensions["tessera.graphql"]
    rt = service.rt
    limits = rt.config.limits
    started = time.perf_counter()
    length = request.content_length
    if length is None or length > limits.max_body_bytes:
        # NOTE: checked before reading the body, so an oversized request costs nothing to refuse.
        exc = LimitExceeded(f"request body must be at most {limits.max_body_bytes} bytes and declare its length")
        return _json({"errors": [request_error(exc)]}, 413)
    cookie = session_cookie()
    try:
        caller = resolve_caller(rt, bearer(), cookie)
    except Unauthenticated as exc:
        return _json({"errors": [request_error(exc)]}, 401)
    if caller is None:
        # No session, or an ended one: the request may still log in (and a stale cookie is cleared).
        # NOTE: after resolve_caller closed its read connection, which would hold up the login's write on SQLite.
        return _anonymous(service, clear_cookie=cookie is not None)
    principal, model, access, csrf = caller.principal, caller.model, caller.access, caller.csrf
    body = _body(limits)
    if isinstance(body, Response):
        return body
    batch, operations = body
    csrf_missing = csrf is not None and not hmac.compare_digest(
        request.headers.get(CSRF_HEADER, "").encode(), csrf.encode())
    # CSRF guards what changes state; reading (e.g. ``me { csrfToken }`` after a reload) needs no token.
    if csrf_missing and any(_is_mutation(op) for op in operations):
        exc = Forbidden(f"a mutation in a browser session needs its CSRF token in the {CSRF_HEADER} header")
        return _json({"errors": [request_error(exc)]}, 403)
    locale = request.headers.get("Accept-Language", "")[:2] or None
    results = []
    with RequestContext(rt, principal, model, locale=locale, access=access, address=request.remote_addr,
                        session_secret=cookie if principal.session else None, csrf_token=csrf) as ctx:
        for operation in operations:
            try:
                results.append(service.run(ctx, operation))
            except TesseraError as exc:
                results.append({"errors": [request_error(exc)]})
            finally:
                ctx.end_read()
        cookies = ctx.cookies
    log(logger, logging.INFO, "graphql", tenant=principal.tenant.slug, operations=len(operations),
        ms=round((time.perf_counter() - started) * 1000, 1))
    return _with_cookies(_json(results if batch else results[0]), cookies)


def _body(limits: Any) -> tuple[bool, list[Any]] | Response:
    """(whether a batch, its operations), or the response refusing the body."""
    try:
        body = json.loads(request.get_data(cache=False))
    except (ValueError, UnicodeDecodeError):
        return _json({"errors": [request_error(ValidationError("the body is not valid JSON", field="body"))]}, 400)
    batch = isinstance(body, list)
    operations = body if batch else [body]
    if batch and not 1 <= len(operations) <= limits.max_batch_operations:
        exc = LimitExceeded(f"a batch holds 1 to {limits.max_batch_operations} operations")
        return _json({"errors": [request_error(exc)]}, 400)
    return batch, operations


def _is_mutation(operation: Any) -> bool:
    if not isinstance(operation, dict) or not isinstance(operation.get("query"), str):
        return False
    try:
        chosen = get_operation_ast(parse(operation["query"]), operation.get("operationName"))
    except GraphQLError:
        return False
    return chosen is not None and chosen.operation == OperationType.MUTATION


def _anonymous(service: GraphQLService, *, clear_cookie: bool = False) -> Response:
    """Without credentials only ``login`` runs; anything else is refused as unauthenticated."""
    missing = Unauthenticated("missing credentials: send 'Authorization: Bearer <token>' or log in")
    stale = [(SESSION_COOKIE, None, None)] if clear_cookie else []
    body = _body(service.rt.config.limits)
    if isinstance(body, Response):
        return body
    batch, operations = body
    if batch or not isinstance(operations[0], dict) or not isinstance(operations[0].get("query"), str):
        return _with_cookies(_json({"errors": [request_error(missing)]}, 401), stale)
    operation = operations[0]
    try:
        document = service.documents.get(PUBLIC_SCHEMA.graphql_schema, operation["query"], service.rt.config.limits)
    except (InvalidDocument, LimitExceeded):
        return _with_cookies(_json({"errors": [request_error(missing)]}, 401), stale)
    ctx = PublicContext(service.rt, request.remote_addr, cookies=list(stale))
    result = execute(PUBLIC_SCHEMA.graphql_schema, document, context_value=ctx,
                     variable_values=operation.get("variables") or {}, operation_name=operation.get("operationName"))
    assert isinstance(result, ExecutionResult)
    response: dict[str, Any] = {}
    if result.errors:
        response["errors"] = [error_payload(e) for e in result.errors]
    response["data"] = result.data
    limited = [error_payload(e)["extensions"] for e in result.errors or []]
    limited = [ext for ext in limited if ext.get("code") == "LIMIT_EXCEEDED"]
    reply = _json(response, 429 if limited else 200)
    if limited and limited[0].get("retryAfterMinutes"):
        reply.headers["Retry-After"] = str(int(limited[0]["retryAfterMinutes"]) * 60)
    return _with_cookies(reply, ctx.cookies)


def _with_cookies(response: Response, cookies: list[tuple[str, str | None, Any]]) -> Response:
    secure = current_app.extensions["tessera.graphql"].rt.config.secure_cookies
    for name, value, expires in cookies:
        if value is None:
            response.delete_cookie(name, path="/", secure=secure, httponly=True, samesite="Strict")
        else:
            response.set_cookie(name, value, expires=expires, path="/", secure=secure, httponly=True,
                                samesite="Strict")
    return response
