"""Report exports over HTTP: ``GET /export/report/<name>.csv`` or ``.xlsx`` (``?params=<JSON>``),
authenticated exactly like ``/graphql`` (bearer token or browser session), streamed."""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, Response, current_app, request

from tessera.api.callers import bearer, resolve_caller, session_cookie
from tessera.api.errors import request_error
from tessera.core.errors import ErrorCode, TesseraError, Unauthenticated, ValidationError
from tessera.services.reports.exports import export_report
from tessera.services.runtime import Actor, Runtime

blueprint = Blueprint("exports", __name__)
STATUS = {ErrorCode.UNAUTHENTICATED: 401, ErrorCode.FORBIDDEN: 403, ErrorCode.NOT_FOUND: 404}


def _error(exc: TesseraError) -> Response:
    body = json.dumps({"errors": [request_error(exc)]}, ensure_ascii=False)
    return Response(body, status=STATUS.get(exc.code, 400), mimetype="application/json")


def _params() -> Any:
    raw = request.args.get("params")
    if raw is None:
        return None
    try:
        params = json.loads(raw)
    except ValueError:
        raise ValidationError("params: not valid JSON", field="params") from None
    if not isinstance(params, dict):
        raise ValidationError("params: a JSON object is required", field="params")
    return params


@blueprint.get("/export/report/<name>.<fmt>")
def export(name: str, fmt: str) -> Response:
    rt: Runtime = current_app.extensions["tessera.runtime"]
    try:
        caller = resolve_caller(rt, bearer(), session_cookie())
        if caller is None:
            raise Unauthenticated("missing credentials: send 'Authorization: Bearer <token>' or log in")
        actor = Actor(caller.principal.tenant, caller.principal.user_id, "api", caller.access)
        started = export_report(rt, actor, name, _params(), fmt, address=request.remote_addr)
    except TesseraError as exc:
        return _error(exc)
    response = Response(started.body, mimetype=started.mimetype, direct_passthrough=True)
    response.headers["Content-Disposition"] = f'attachment; filename="{started.filename}"'
    response.headers["Cache-Control"] = "no-store"
    response.call_on_close(started.close)
    return response
