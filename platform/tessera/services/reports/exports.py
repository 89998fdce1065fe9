"""Exports of saved reports as CSV or XLSX, streamed, with the caller's record access and field
permissions (the report is compiled for them exactly as ``report(name, params)`` is).

A report without groupings streams its rows from the database as they come (no row limit: that is
what an export is for); a grouped report is computed, then written. CSV is produced in chunks of
rows; XLSX is written by xlsxwriter in ``constant_memory`` mode to a temporary file (a zip cannot be
sent before it is finished), which is then streamed and removed. Either way memory stays flat.

Every export is an audit event of kind ``export`` naming the report, the format and how many rows
went out, logged when the stream ends (``complete: false`` if the client went away first).
"""

from __future__ import annotations

import csv
import io
import os
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import ExitStack
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

import xlsxwriter

from tessera.core.errors import ValidationError
from tessera.model.reports import grouped_result, listing_columns, listing_rows
from tessera.services.audit import log_event
from tessera.services.reports.run import compile_for, saved_definition
from tessera.services.runtime import Actor, Runtime

FORMATS = {"csv": "text/csv; charset=utf-8",
           "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
NUMERIC = frozenset({"INTEGER", "NUMBER", "CURRENCY", "PERCENT"})
CHUNK_ROWS = 500
FILE_CHUNK = 64 * 1024


@dataclass
class Export:
    """A started export: its file name, media type and body (bytes, produced as they are read)."""

    filename: str
    mimetype: str
    body: Iterator[bytes]
    _stack: ExitStack = field(default_factory=ExitStack, repr=False)

    def close(self) -> None:
        """Release the database connection even when the body was never read."""
        self._stack.close()


def export_report(rt: Runtime, actor: Actor, name: str, params: Mapping[str, Any] | None, fmt: str,
                  *, address: str | None = None) -> Export:
    """Start exporting saved report ``name``; errors in the report are raised before any byte is sent."""
    if fmt not in FORMATS:
        raise ValidationError(f"format: expected one of {', '.join(FORMATS)}", field="format")
    data = saved_definition(rt, actor, name)
    stack = ExitStack()
    try:
        conn = stack.enter_context(rt.read(actor.tenant))
        compiled = compile_for(rt, actor, conn, data, params, unlimited=True)
    except BaseException:
        stack.close()
        raise
    if compiled.definition.grouped:
        result = grouped_result(compiled, conn.execute(compiled.statement).all())
        columns, rows = result.columns, iter(result.rows)
    else:
        columns = listing_columns(compiled)
        rows = listing_rows(compiled, conn.execution_options(stream_results=True, yield_per=1000)
                            .execute(compiled.statement))
    counted = _Counted(rows)
    chunks = _csv(columns, counted) if fmt == "csv" else _xlsx(columns, counted)
    export = Export(f"{name}.{fmt}", FORMATS[fmt], iter(()), stack)

    def body() -> Iterator[bytes]:
        complete = False
        try:
            yield from chunks
            complete = True
        finally:
            stack.close()
            with rt.system_write() as write:
                log_event(write, actor.tenant.id, "export", target=f"report {name}", user_id=actor.user_id,
                          address=address, details={"report": name, "object": compiled.definition.object,
                                                    "format": fmt, "rows": counted.count, "params": dict(params or {}),
                                                    "complete": complete})

    export.body = body()
    return export


class _Counted:
    def __init__(self, rows: Iterator[list[Any]]) -> None:
        self.rows = rows
        self.count = 0

    def __iter__(self) -> Iterator[list[Any]]:
        for row in self.rows:
            self.count += 1
            yield row


def _cell(value: Any) -> Any:
    if isinstance(value, list):
        return ";".join(str(v) for v in value)
    if isinstance(value, dict):
        return str(value)
    return value


def _csv(columns: list[dict[str, str]], rows: _Counted) -> Iterator[bytes]:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    buffer.write("\ufeff")  # a BOM: spreadsheet applications then read the file as UTF-8
    writer.writerow([c["label"] for c in columns])
    for index, row in enumerate(rows, start=1):
        writer.writerow(["" if v is None else _cell(v) for v in row])
        if index % CHUNK_ROWS == 0:
            yield buffer.getvalue().encode()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode()


def _number(value: Any) -> float | None:
    try:
        return float(Decimal(str(value)))
    except (InvalidOperation, ValueError):
        return None


def _xlsx(columns: list[dict[str, str]], rows: _Counted) -> Iterator[bytes]:
    handle, path = tempfile.mkstemp(suffix=".xlsx")
    os.close(handle)
    try:
        workbook = xlsxwriter.Workbook(path, {"constant_memory": True, "strings_to_numbers": False})
        sheet = workbook.add_worksheet("Report")
        bold = workbook.add_format({"bold": True})
        numeric = [c["type"] in NUMERIC for c in columns]
        for col, column in enumerate(columns):
            sheet.write_string(0, col, column["label"], bold)
        for line, row in enumerate(rows, start=1):
            for col, value in enumerate(row):
                if value is None:
                    continue
                number = _number(value) if numeric[col] else None
                if number is not None:
                    sheet.write_number(line, col, number)
                else:
                    sheet.write_string(line, col, str(_cell(value)))
        workbook.close()
        with open(path, "rb") as stream:
            while chunk := stream.read(FILE_CHUNK):
                yield chunk
    finally:
        os.unlink(path)
