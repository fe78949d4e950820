"""GET /api/v1/attention/: a dashboard's "needs attention" list (a thin adapter)."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from smarketing.api.errors import errors
from smarketing.api.kpis import KpiWindowSerializer
from smarketing.dashboards.attention import dashboard_attention
from smarketing.dashboards.layouts import DASHBOARDS
from smarketing.kpis.attention import KINDS
from smarketing.kpis.windows import WINDOW_NAMES, WindowError


class AttentionItemSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(KINDS)
    metric = serializers.CharField()
    dimension = serializers.CharField(allow_null=True)
    key = serializers.CharField(allow_null=True)
    value = serializers.FloatField(allow_null=True)
    reference = serializers.FloatField(allow_null=True, help_text="the target, pace or previous value")
    message = serializers.CharField()


class AttentionSerializer(serializers.Serializer):
    dashboard = serializers.ChoiceField(list(DASHBOARDS))
    as_of = serializers.DateField()
    window = KpiWindowSerializer()
    items = AttentionItemSerializer(many=True)


class AttentionView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        summary="What needs attention on a dashboard",
        description="The one attention list of kpi-catalogue.md (rule 6): kinds sla, target, change, funnel "
        "in that order, each metric and slice once, for the metrics and slices the dashboard shows.",
        parameters=[
            OpenApiParameter("dashboard", OpenApiTypes.STR, required=True, enum=list(DASHBOARDS)),
            OpenApiParameter("window", OpenApiTypes.STR, enum=list(WINDOW_NAMES), description="Default mtd."),
            OpenApiParameter("as_of", OpenApiTypes.DATE,
                             description="Default yesterday (company time zone): complete days only."),
            OpenApiParameter("start", OpenApiTypes.DATE, description="custom window start"),
            OpenApiParameter("end", OpenApiTypes.DATE, description="custom window end"),
        ],
        responses={200: AttentionSerializer},
    )
    def get(self, request: Request) -> Response:
        params = request.query_params
        key = params.get("dashboard") or ""
        if key not in DASHBOARDS:
            return Response(errors(f"dashboard: {key!r} is not a dashboard key (use one of {', '.join(DASHBOARDS)})",
                                   field="dashboard"), status=400)
        try:
            report = dashboard_attention(key, params.get("window") or "mtd", params.get("as_of") or None,
                                         start=params.get("start"), end=params.get("end"))
        except WindowError as error:
            return Response(errors(str(error)), status=400)
        return Response(report)
