"""One error shape for every API answer, `{"errors": [{"row"?, "field"?, "message"}]}`, the
request-body limits that keep a bad body a 4xx, and the schema that documents both."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.utils.translation import gettext as _
from rest_framework import status
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser
from rest_framework.response import Response
from rest_framework.views import exception_handler

ERROR_STATUSES = {
    "400": "Invalid request: every problem, with the row (1-based) and field when it has them.",
    "401": "Not signed in: send `Authorization: Token <key>` (README, API tokens).",
    "403": "Signed in without the permission this needs.",
    "404": "No such record, or no such page of results.",
    "405": "This method is not allowed here.",
    "409": "The request conflicts with stored records.",
    "413": "The request body is larger than the limit.",
    "415": "The body is not JSON.",
    "429": "Too many requests: wait the seconds in Retry-After.",
}
NON_FIELD = ("non_field_errors", "detail")


def errors(message: str, *, field: str | None = None, row: int | None = None) -> dict[str, list[dict[str, Any]]]:
    error: dict[str, Any] = {}
    if row is not None:
        error["row"] = row
    if field:
        error["field"] = field
    error["message"] = message
    return {"errors": [error]}


def row_errors(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Row errors of a write without the empty field of a whole-row problem."""
    return [{k: v for k, v in item.items() if k != "field" or v} for item in items]


def _flatten(detail: Any, field: str | None = None) -> list[dict[str, Any]]:
    """DRF's error details ({field: [messages]}, [messages], "message") as error items."""
    if isinstance(detail, dict):
        if "errors" in detail and isinstance(detail["errors"], list):
            return detail["errors"]
        items = []
        for key, value in detail.items():
            items += _flatten(value, field if key in NON_FIELD else (f"{field}.{key}" if field else str(key)))
        return items
    if isinstance(detail, list):
        return [item for value in detail for item in _flatten(value, field)]
    return [{"field": field, "message": str(detail)} if field else {"message": str(detail)}]


def errors_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, RequestDataTooBig):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE // (1024 * 1024)
        return Response(errors(_("The request body is larger than {limit} MB: send fewer rows per request.").format(
            limit=limit)),
                        status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE)
    response = exception_handler(exc, context)
    if response is not None:
        response.data = {"errors": _flatten(response.data)}
    return response


def _depth_exceeded(value: Any, limit: int) -> bool:
    """Whether containers nest deeper than `limit` (iterative: no recursion on hostile input)."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list):
            if depth > limit:
                return True
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return False


class BoundedJSONParser(JSONParser):
    """DRF's JSON parser, with nesting bounded: a deep body is a 400, not a RecursionError."""

    def parse(self, stream, media_type=None, parser_context=None):
        limit = settings.API_JSON_MAX_DEPTH
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError(_nested_too_deep(limit)) from None
        if _depth_exceeded(data, limit):
            raise ParseError(_nested_too_deep(limit))
        return data


def _nested_too_deep(limit: int) -> str:
    return _("JSON parse error - nested deeper than {limit} levels").format(limit=limit)


def document_errors(result: dict[str, Any], generator, request, public) -> dict[str, Any]:
    """drf-spectacular hook: the Errors schema, and every operation's error answers."""
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas["Error"] = {
        "type": "object",
        "properties": {
            "row": {"type": "integer", "description": "1-based row of the request body or file"},
            "field": {"type": "string", "description": "column or parameter"},
            "message": {"type": "string"},
        },
        "required": ["message"],
    }
    schemas["Errors"] = {
        "type": "object",
        "properties": {"errors": {"type": "array", "items": {"$ref": "#/components/schemas/Error"}}},
        "required": ["errors"],
    }
    body = {"application/json": {"schema": {"$ref": "#/components/schemas/Errors"}}}
    for path_item in result.get("paths", {}).values():
        for method, operation in path_item.items():
            responses = operation.setdefault("responses", {})
            parameters = operation.get("parameters", [])
            # A path parameter names a record; an integer `page` is a page of results (the KPI
            # query's `page` is a dimension filter).
            found = any(p["in"] == "path" or (p["name"] == "page" and p.get("schema", {}).get("type") == "integer")
                        for p in parameters)
            possible = {
                "404": found,  # a record by key, or a page of results
                "409": method == "delete",
                "413": "requestBody" in operation,
                "415": "requestBody" in operation,
            }
            for code, description in ERROR_STATUSES.items():
                if possible.get(code, True):
                    responses[code] = {"description": description, "content": body}
    return result
