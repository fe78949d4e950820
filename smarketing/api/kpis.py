"""GET /api/v1/kpis/: the KPI query over HTTP (a thin adapter over kpis.selectors)."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from smarketing.kpis.registry import DIMENSIONS, METRICS
from smarketing.kpis.selectors import KpiQueryError, kpi_report
from smarketing.kpis.windows import (
    COMPARISON_ALIASES,
    COMPARISONS,
    WINDOW_NAMES,
    WindowError,
    comparison_for,
    window_for,
)


class KpiTargetSerializer(serializers.Serializer):
    value = serializers.FloatField(allow_null=True)
    pace = serializers.FloatField(allow_null=True)
    projection = serializers.FloatField(allow_null=True)
    status = serializers.ChoiceField(["ahead", "behind", "met", "missed"], allow_null=True)


class KpiBreakdownItemSerializer(serializers.Serializer):
    key = serializers.CharField()
    label = serializers.CharField()
    value = serializers.FloatField(allow_null=True)
    numerator = serializers.FloatField(allow_null=True)
    denominator = serializers.FloatField(allow_null=True)
    target = KpiTargetSerializer(required=False, help_text="with dimension=owner: the owner's target")


class KpiPreviousSerializer(serializers.Serializer):
    value = serializers.FloatField(allow_null=True)
    start = serializers.DateField()
    end = serializers.DateField()
    kind = serializers.ChoiceField(choices=COMPARISONS, help_text="which comparison this is (the compare parameter)")


class KpiResultSerializer(serializers.Serializer):
    metric = serializers.ChoiceField(list(METRICS))
    label = serializers.CharField()
    unit = serializers.CharField()
    value = serializers.FloatField(allow_null=True)
    numerator = serializers.FloatField(allow_null=True)
    denominator = serializers.FloatField(allow_null=True)
    previous = KpiPreviousSerializer()
    target = KpiTargetSerializer(allow_null=True)
    filtered = serializers.BooleanField()
    breakdown = KpiBreakdownItemSerializer(many=True, required=False, help_text="only with dimension")


class KpiWindowSerializer(serializers.Serializer):
    name = serializers.ChoiceField(WINDOW_NAMES)
    start = serializers.DateField()
    end = serializers.DateField()


class KpiReportSerializer(serializers.Serializer):
    as_of = serializers.DateField()
    window = KpiWindowSerializer()
    facts_as_of = serializers.DateTimeField(allow_null=True)
    results = KpiResultSerializer(many=True)


_error = inline_serializer("KpiError", {"detail": serializers.CharField()})


class KpiView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        summary="KPI values over a window",
        description="Metrics (catalogue keys) over a window, with the previous period, targets and pace, "
        "and an optional breakdown. A query parameter named after a dimension (e.g. "
        "`channel=social,paid_social`) restricts the metrics that carry it to those values.",
        parameters=[
            OpenApiParameter("metrics", OpenApiTypes.STR, required=True,
                             description="Comma-separated metric keys."),
            OpenApiParameter("window", OpenApiTypes.STR, enum=list(WINDOW_NAMES), description="Default mtd."),
            OpenApiParameter("as_of", OpenApiTypes.DATE, description="Default today (company time zone)."),
            OpenApiParameter("start", OpenApiTypes.DATE, description="custom window start"),
            OpenApiParameter("end", OpenApiTypes.DATE, description="custom window end"),
            OpenApiParameter("dimension", OpenApiTypes.STR, enum=list(DIMENSIONS)),
            OpenApiParameter("compare", OpenApiTypes.STR, enum=[*COMPARISON_ALIASES, *COMPARISONS],
                             description="What `previous` is: the same days of the previous period "
                             "(same_days, the default), the whole previous period (complete) or the "
                             "same days last year (last_year); the result's previous.kind names it."),
            *(OpenApiParameter(name, OpenApiTypes.STR, description=f"filter: comma-separated {name} keys")
              for name in DIMENSIONS),
        ],
        responses={200: KpiReportSerializer, 400: _error},
        examples=[OpenApiExample("Lead → MQL, YTD", value={"detail": "unknown metric 'x': ..."},
                                 response_only=True, status_codes=["400"])],
    )
    def get(self, request: Request) -> Response:
        params = request.query_params
        metrics = [key.strip() for key in params.get("metrics", "").split(",") if key.strip()]
        filters = {name: [v for v in params[name].split(",") if v] for name in DIMENSIONS if params.get(name)}
        try:
            compare = comparison_for(params.get("compare"))
            window = window_for(params.get("window", "mtd"), as_of=params.get("as_of"),
                                start=params.get("start"), end=params.get("end"))
            report = kpi_report(metrics=metrics, window=window, dimension=params.get("dimension") or None,
                                filters=filters or None, compare=compare)
        except (KpiQueryError, WindowError, ValueError) as error:
            return Response({"detail": str(error)}, status=400)
        return Response(report)
