"""REST over funnel records, one set of views per data-contract resource.

A thin adapter: the serializers are derived from `funnel.schemas` (their validation is
the schema's), writes go through `funnel.services`, reads through `funnel.selectors`.
"""

from __future__ import annotations

from typing import Any

from django.db.models import ProtectedError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    extend_schema,
    inline_serializer,
)
from rest_framework import generics, serializers, status
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from smarketing.api.errors import errors, row_errors
from smarketing.funnel import selectors, services
from smarketing.funnel.history import Timing, import_log_add
from smarketing.funnel.models import ImportLog
from smarketing.funnel.schemas import RESOURCES, Col, Resource, row_validate

KEY_HELP = (
    "The record's key. Composite keys are the key columns in contract order joined by ',' "
    "(a ',' or '\\' inside a value is written '\\,' or '\\\\'; a team-wide target ends with an empty owner), "
    "percent-encoded as any URL path segment, e.g. `2026-01-05,%2Fpricing,organic_search`."
)


class CanManageData(BasePermission):
    message = gettext_lazy("Changing data needs the data-manager permission.")

    def has_permission(self, request: Request, view: Any) -> bool:
        return bool(request.user) and selectors.is_data_manager(request.user)


class WriteThrottle(ScopedRateThrottle):
    """The 'writes' rate applies to changes only; reads are not throttled."""

    def allow_request(self, request: Request, view: Any) -> bool:
        if request.method in ("GET", "HEAD", "OPTIONS"):
            return True
        return super().allow_request(request, view)


def _field(resource: Resource, name: str, col: Col) -> serializers.Field:
    options: dict[str, Any] = {"required": col.required, "allow_null": not col.required}
    if col.ref:
        target = RESOURCES[col.ref]
        options["help_text"] = f"{target.key[0]} of a {target.name} record (in this request or stored)"
        options["source"] = selectors.ref_alias(name)
        return serializers.CharField(allow_blank=not col.required, **options)
    if col.kind == "enum":
        # The model's (value, label) pairs: the same choice set gets the same OpenAPI enum.
        choices = resource.model._meta.get_field(resource.field_name(name)).choices or list(col.choices)
        return serializers.ChoiceField(choices=choices, allow_blank=not col.required, **options)
    if col.kind in ("text", "url"):
        return serializers.CharField(max_length=col.max_length, allow_blank=not col.required, **options)
    if col.kind in ("email", "member"):
        return serializers.EmailField(allow_blank=not col.required, **options)
    if col.kind == "date":
        return serializers.DateField(**options)
    if col.kind == "timestamp":
        options["help_text"] = "ISO 8601; without an offset it is company local time (SMARKETING_TIMEZONE)"
        return serializers.DateTimeField(**options)
    if col.kind == "count":
        return serializers.IntegerField(min_value=0, **options)
    if col.kind in ("money", "decimal"):
        return serializers.DecimalField(
            max_digits=col.max_digits, decimal_places=col.decimal_places,
            min_value=None if col.signed else 0, **options,
        )
    if col.kind == "bool":
        return serializers.BooleanField(**options)
    raise ValueError(f"no API field for column kind {col.kind!r}")


def serializer_for(resource: Resource) -> type[serializers.Serializer]:
    """A row serializer derived from the schema: fields for docs and output, the schema validates."""

    def to_internal_value(self, data: Any) -> dict[str, Any]:
        values, errors = row_validate(resource, data if isinstance(data, dict) else {})
        if errors:
            raise ValidationError({field or "non_field_errors": [message] for field, message in errors})
        return values

    attrs: dict[str, Any] = {name: _field(resource, name, resource.col(name)) for name in resource.columns}
    attrs["to_internal_value"] = to_internal_value
    attrs["__doc__"] = f"A {resource.name} row (data-contract.md)."
    name = "".join(part.capitalize() for part in resource.name.split("_")) + "Row"
    return type(name, (serializers.Serializer,), attrs)


COUNTS = inline_serializer("UpsertCounts", {
    "created": serializers.IntegerField(), "updated": serializers.IntegerField(),
    "recompute": serializers.ChoiceField(["queued"], help_text="the KPIs are recomputed in the background"),
})


class _ResourceView:
    resource: Resource
    permission_classes = [IsAuthenticated]
    throttle_classes = [WriteThrottle]
    throttle_scope = "writes"

    def get_permissions(self):
        if self.request.method in ("GET", "HEAD", "OPTIONS"):
            return [IsAuthenticated()]
        return [IsAuthenticated(), CanManageData()]


def resource_views(resource: Resource) -> tuple[type[APIView], type[APIView], type[APIView]]:
    """(list, bulk, detail) views of one resource."""
    row_serializer = serializer_for(resource)
    tag = resource.name
    params = [
        OpenApiParameter(name, OpenApiTypes.DATE if kind == "date" else OpenApiTypes.STR, description=text)
        for name, kind, text in selectors.filter_params(resource)
    ]

    class ListView(_ResourceView, generics.ListAPIView):
        serializer_class = row_serializer

        def get_queryset(self):
            # `page` is pagination: the `page` column is filtered as `page_path` (FILTER_PARAMS).
            filters = {k: v for k, v in self.request.query_params.items() if k not in ("page", "format")}
            try:
                return selectors.records_query(resource=resource, filters=filters)
            except selectors.FilterError as exc:
                raise ValidationError(str(exc)) from None

        # Declared here, not by decorating the inherited get(): that one is shared by every resource.
        @extend_schema(
            tags=[tag], parameters=params, summary=f"List {resource.name}",
            description=f"Records of {resource.name}, newest first; filter on the key and date columns.",
        )
        def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
            return super().get(request, *args, **kwargs)

    class BulkView(_ResourceView, APIView):
        @extend_schema(
            tags=[tag], request=row_serializer(many=True), summary=f"Upsert {resource.name}",
            description=(
                f"Upsert a JSON list of {resource.name} rows by key ({', '.join(resource.key)}). "
                "All or nothing: any invalid row writes nothing and answers every error (up to 1,000) "
                "with its 1-based row, field and message."
            ),
            responses={200: COUNTS},
        )
        def post(self, request: Request) -> Response:
            rows = request.data
            if not isinstance(rows, list):
                return Response(errors(_("send a JSON list of rows")), status=status.HTTP_400_BAD_REQUEST)
            timing = Timing()
            result = services.records_upsert(resource=resource.name, rows=rows)
            import_log_add(source=ImportLog.Source.API, timing=timing, report=result, user=request.user,
                           resource=resource.name)
            if not result.ok:
                return Response({"errors": row_errors(result.errors)}, status=status.HTTP_400_BAD_REQUEST)
            # the recompute is queued even while the task queue is down (the sweep sends it).
            return Response({"created": result.created, "updated": result.updated, "recompute": "queued"})

    key_param = OpenApiParameter("key", OpenApiTypes.STR, OpenApiParameter.PATH, description=KEY_HELP)

    class DetailView(_ResourceView, APIView):
        def _key(self, raw: str) -> dict[str, str]:
            try:
                return selectors.key_parse(resource, raw)
            except ValueError as exc:
                raise ValidationError({"key": [str(exc)]}) from None

        @extend_schema(tags=[tag], parameters=[key_param], responses={200: row_serializer},
                       summary=f"One {resource.name} record")
        def get(self, request: Request, key: str) -> Response:
            try:
                row = selectors.record_values(resource=resource, key=self._key(key))
            except ValueError as exc:
                raise ValidationError({"key": [str(exc)]}) from None
            if row is None:
                raise NotFound()
            return Response(row_serializer(row).data)

        @extend_schema(
            tags=[tag], parameters=[key_param], summary=f"Delete one {resource.name} record",
            responses={204: None},
        )
        def delete(self, request: Request, key: str) -> Response:
            try:
                deleted = services.records_delete(resource=resource.name, keys=[self._key(key)])
            except ProtectedError:
                return Response(
                    errors(_("Other records still reference this one; delete or re-point them first.")),
                    status=status.HTTP_409_CONFLICT,
                )
            except ValueError as exc:
                raise ValidationError({"key": [str(exc)]}) from None
            if not deleted:
                raise NotFound()
            return Response(status=status.HTTP_204_NO_CONTENT)

    for view, kind in ((ListView, "List"), (BulkView, "Bulk"), (DetailView, "Detail")):
        view.resource = resource
        view.__name__ = view.__qualname__ = "".join(p.capitalize() for p in resource.name.split("_")) + kind
    return ListView, BulkView, DetailView
