"""GET /api/v1/kpis/: the KPI query over HTTP (a thin adapter over kpis.selectors)."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import Throttled
from rest_framework.permissions import IsAuthenticated
from rest_framework.renderers import BrowsableAPIRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from smarketing.api.errors import errors
from smarketing.api.renderers import FastJSONRenderer
from smarketing.kpis.limits import HeavyQueryRefused, heavy_query_check
from smarketing.kpis.registry import DIMENSIONS, METRICS
from smarketing.kpis.selectors import KpiQueryError, kpi_report_cached
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
    pace = serializers.FloatField(allow_null=True, help_text="sums over the window only")
    projection = serializers.FloatField(allow_null=True, help_text="sums over the window only")
    status = serializers.ChoiceField(
        ["ahead", "behind", "met", "missed", "on_target", "below_target", "inconclusive", "maturing"],
        allow_null=True, help_text="null with no complete day yet")
    elapsed_days = serializers.IntegerField(help_text="complete days of the period judged")


class KpiChangeSerializer(serializers.Serializer):
    absolute = serializers.FloatField()
    relative = serializers.FloatField(allow_null=True, help_text="a fraction (0.25 = +25 %)")
    significant = serializers.BooleanField()
    direction = serializers.ChoiceField(["up", "down"], allow_null=True)


class KpiMatureSerializer(serializers.Serializer):
    numerator = serializers.FloatField()
    denominator = serializers.FloatField()
    value = serializers.FloatField(allow_null=True)


class KpiPreviousSerializer(serializers.Serializer):
    value = serializers.FloatField(allow_null=True)
    start = serializers.DateField()
    end = serializers.DateField()
    kind = serializers.ChoiceField(choices=COMPARISONS, help_text="which comparison this is (the compare parameter)")
    same_age = serializers.BooleanField(help_text="a cohort as it stood at the previous window's end")
    numerator = serializers.FloatField(required=False, allow_null=True)
    denominator = serializers.FloatField(required=False, allow_null=True)


class KpiJudgedSerializer(serializers.Serializer):
    """A value and its judgement: the fields a result and each breakdown row share."""

    value = serializers.FloatField(allow_null=True)
    numerator = serializers.FloatField(allow_null=True)
    denominator = serializers.FloatField(allow_null=True)
    previous = KpiPreviousSerializer()
    change = KpiChangeSerializer(allow_null=True)
    mature = KpiMatureSerializer(required=False, help_text="cohort rates only")
    target = KpiTargetSerializer(allow_null=True, help_text="this slice's own target, or null")


class KpiBreakdownItemSerializer(KpiJudgedSerializer):
    key = serializers.CharField()
    label = serializers.CharField()


class KpiResultSerializer(KpiJudgedSerializer):
    metric = serializers.ChoiceField(list(METRICS))
    label = serializers.CharField()
    unit = serializers.CharField()
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


class KpiView(APIView):
    permission_classes = [IsAuthenticated]
    renderer_classes = [FastJSONRenderer, BrowsableAPIRenderer]

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
        responses={200: KpiReportSerializer},
    )
    def get(self, request: Request) -> Response:
        params = request.query_params
        metrics = [key.strip() for key in params.get("metrics", "").split(",") if key.strip()]
        filters = {name: [v for v in params[name].split(",") if v] for name in DIMENSIONS if params.get(name)}
        try:
            compare = comparison_for(params.get("compare"))
            window = window_for(params.get("window", "mtd"), as_of=params.get("as_of"),
                                start=params.get("start"), end=params.get("end"))
            dimension = params.get("dimension") or None

            # Only answers computed for this request count: custom windows, breakdowns and
            # filters are the costly ones; an answer cached for an earlier reader costs nothing.
            report = kpi_report_cached(
                metrics=metrics, window=window, dimension=dimension, filters=filters or None, compare=compare,
                on_compute=lambda: heavy_query_check(user_id=request.user.pk, window=window, dimension=dimension,
                                                     filtered=bool(filters)))
        except HeavyQueryRefused as refused:
            raise Throttled(wait=refused.wait, detail=f"Too many custom-window or breakdown queries: "
                                                      f"try again in {refused.wait} s.") from None
        except (KpiQueryError, WindowError, ValueError) as error:
            return Response(errors(str(error)), status=400)
        return Response(report)
