"""`/api/v1/me/`: the signed-in user, and the language the product speaks to them."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from smarketing.accounts.models import LANGUAGE_CODES
from smarketing.accounts.services import request_language, set_language, user_language


class MeSerializer(serializers.Serializer):
    username = serializers.CharField(read_only=True)
    email = serializers.CharField(read_only=True)
    # The user's own setting; null: none, the request's Accept-Language decides.
    language = serializers.ChoiceField(choices=LANGUAGE_CODES, allow_null=True)
    # What this answer (and every page) uses: the setting, else the negotiated language.
    effective_language = serializers.CharField(read_only=True)


def _me(request: Request) -> dict:
    user = request.user
    return {"username": user.get_username(), "email": user.email, "language": user_language(user),
            "effective_language": request_language(request)}


class MeView(APIView):
    serializer_class = MeSerializer

    @extend_schema(responses=MeSerializer)
    def get(self, request: Request) -> Response:
        return Response(MeSerializer(_me(request)).data)

    @extend_schema(request=MeSerializer, responses=MeSerializer)
    def patch(self, request: Request) -> Response:
        serializer = MeSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        if "language" in serializer.validated_data:
            set_language(request.user, serializer.validated_data["language"])
        return Response(MeSerializer(_me(request)).data)
