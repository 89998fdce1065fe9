"""Report exports over HTTP: CSV and XLSX content for the caller's records, field permissions,
authentication like /graphql, and an ``export`` audit event per export."""

from __future__ import annotations

import csv
import io
import json
import re
import zipfile
from collections import Counter
from typing import Any

import sqlalchemy as sa
from tests.platform.reports.conftest import Sales

from tessera.storage.system_tables import audit_events

CREATE = "mutation($input: ReportInput!) { createReport(input: $input) { name } }"
LISTING = {"object": "opportunity", "columns": ["name", "stage", "amount", "account.name"],
           "filter": {"closeDate": {"gte": {"$param": "since"}}}, "orderBy": [{"field": "name"}],
           "parameters": [{"name": "since", "type": "DATE", "default": "2000-01-01"}]}
GROUPED = {"object": "opportunity", "groupBy": [{"field": "stage"}], "measures": [{"function": "COUNT", "alias": "n"}]}


def _get(sales: Sales, path: str, token: str | None) -> Any:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return sales.app.test_client().get(path, headers=headers)


def _token(sales: Sales, user: str | None = None) -> str:
    client = sales.admin if user is None else sales.clients[user]
    assert client.token is not None
    return client.token


def _events(sales: Sales) -> list[Any]:
    tenant = sales.rt.tenant(sales.slug)
    with sales.rt.db.system.connect() as conn:
        return list(conn.execute(sa.select(audit_events).where(
            audit_events.c.tenant_id == tenant.id, audit_events.c.kind == "export").order_by(audit_events.c.at)))


def _save(sales: Sales) -> None:
    if not sales.admin.data("{ reports { name } }")["reports"]:
        sales.admin.data(CREATE, {"input": {"name": "dealList", "definition": LISTING}})
        sales.admin.data(CREATE, {"input": {"name": "dealStages", "definition": GROUPED}})


def _rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))


def test_csv_export_of_a_listing_is_the_callers_rows(sales: Sales) -> None:
    _save(sales)
    before = len(_events(sales))
    response = _get(sales, "/export/report/dealList.csv?params=" + json.dumps({"since": "2026-01-01"}),
                    _token(sales, "rep1"))
    assert response.status_code == 200
    assert response.headers["Content-Disposition"] == 'attachment; filename="dealList.csv"'
    rows = _rows(response.get_data(as_text=True))
    reach = {"rep1"}
    expected = [[d["name"], d["stage"], d["amount"] or "", d["accountName"] if d["accountOwnerKey"] in reach else ""]
                for d in sorted(sales.visible("rep1"), key=lambda d: d["name"]) if d["closeDate"] >= "2026-01-01"]
    assert rows[0] == ["Opportunity Name", "Stage", "Amount", "Account Name"]  # labels
    assert rows[1:] == expected and len(expected) > 0
    events = _events(sales)
    assert len(events) == before + 1
    event = events[-1]
    assert event.target == "report dealList" and event.user_id == sales.user_ids["rep1"]
    assert event.details == {"report": "dealList", "object": "opportunity", "format": "csv", "rows": len(expected),
                             "params": {"since": "2026-01-01"}, "complete": True}


def test_xlsx_export_of_a_grouped_report(sales: Sales) -> None:
    _save(sales)
    response = _get(sales, "/export/report/dealStages.xlsx", _token(sales))
    assert response.status_code == 200
    assert response.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    archive = zipfile.ZipFile(io.BytesIO(response.get_data()))
    sheet = archive.read("xl/worksheets/sheet1.xml").decode()
    shared = archive.read("xl/sharedStrings.xml").decode() if "xl/sharedStrings.xml" in archive.namelist() else ""
    counts = Counter(d["stage"] for d in sales.deals)
    # counts are numeric cells; stage names and the header are strings (inline or shared)
    numbers = [int(float(v)) for v in re.findall(r"<c [^>]*><v>([0-9.]+)</v></c>", sheet)]
    assert sorted(numbers) == sorted(counts.values())
    for stage in counts:
        assert stage in sheet or stage in shared
    assert _events(sales)[-1].details["rows"] == len(counts)
    assert _events(sales)[-1].details["format"] == "xlsx"


def test_export_applies_field_permissions_and_authentication(sales: Sales) -> None:
    _save(sales)
    hidden = _get(sales, "/export/report/dealList.csv", _token(sales, "hidden"))
    assert hidden.status_code == 400
    assert hidden.get_json()["errors"][0]["extensions"] == {"code": "VALIDATION_ERROR", "field": "columns.2"}
    anonymous = _get(sales, "/export/report/dealList.csv", None)
    assert anonymous.status_code == 401
    assert anonymous.get_json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert _get(sales, "/export/report/dealList.csv", "not-a-token").status_code == 401
    assert _get(sales, "/export/report/nothing.csv", _token(sales)).status_code == 404
    assert _get(sales, "/export/report/dealList.pdf", _token(sales)).status_code == 400
    assert _get(sales, "/export/report/dealList.csv?params=[1]", _token(sales)).status_code == 400


def test_export_streams_in_chunks(sales: Sales) -> None:
    _save(sales)
    response = _get(sales, "/export/report/dealList.csv", _token(sales))
    assert response.is_streamed
    assert len(_rows(response.get_data(as_text=True))) == len(sales.deals) + 1
