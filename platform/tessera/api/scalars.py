"""Custom scalars of the API. Values reach them already in their JSON form (see field types)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import graphene
from graphql import value_from_ast_untyped
from graphql.language import ast

from tessera.storage.types import iso_datetime


class Decimal(graphene.Scalar):
    """An exact decimal number, written as a string such as "1234.50"."""

    @staticmethod
    def serialize(value: Any) -> Any:
        return None if value is None else str(value)

    @staticmethod
    def parse_value(value: Any) -> Any:
        return value

    @staticmethod
    def parse_literal(node: ast.ValueNode, _variables: Any = None) -> Any:
        if isinstance(node, ast.StringValueNode | ast.IntValueNode | ast.FloatValueNode):
            return node.value
        return graphene.Undefined


class Date(graphene.Scalar):
    """A calendar date, ISO 8601 ("2026-11-26")."""

    serialize = staticmethod(lambda value: value)
    parse_value = staticmethod(lambda value: value)

    @staticmethod
    def parse_literal(node: ast.ValueNode, _variables: Any = None) -> Any:
        return node.value if isinstance(node, ast.StringValueNode) else graphene.Undefined


class DateTime(graphene.Scalar):
    """An instant, ISO 8601 with a time zone; returned in UTC with milliseconds ("2026-11-26T08:30:00.000Z")."""

    serialize = staticmethod(lambda value: iso_datetime(value) if isinstance(value, datetime) else value)
    parse_value = staticmethod(lambda value: value)

    @staticmethod
    def parse_literal(node: ast.ValueNode, _variables: Any = None) -> Any:
        return node.value if isinstance(node, ast.StringValueNode) else graphene.Undefined


def _json_literal(node: ast.ValueNode, variables: Any = None) -> Any:
    return value_from_ast_untyped(node, variables)


class JSON(graphene.Scalar):
    """Any JSON value."""

    serialize = staticmethod(lambda value: value)
    parse_value = staticmethod(lambda value: value)
    parse_literal = staticmethod(_json_literal)
