"""Report definitions and their compilation to one SQL statement (see ``compiler.py``)."""

from tessera.model.reports.compiler import CompiledReport, Settings, compile_report
from tessera.model.reports.definition import ReportDefinition, bind_parameters, parse_definition
from tessera.model.reports.result import ReportResult, grouped_result, listing_columns, listing_rows

__all__ = [
    "CompiledReport",
    "ReportDefinition",
    "ReportResult",
    "Settings",
    "bind_parameters",
    "compile_report",
    "grouped_result",
    "listing_columns",
    "listing_rows",
    "parse_definition",
]
