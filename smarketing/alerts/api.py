"""/api/v1/alerts/destinations/ and /api/v1/alerts/rules/: thin adapters over alerts.services.

A destination's `target` and `secret` are write-only: answers carry `target_hint` only.
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import serializers, status, viewsets
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from smarketing.funnel.models import Team

from .conditions import CONDITION_TYPES, RULE_WINDOWS, RuleError
from .models import Destination, DestinationKind, Rule
from .selectors import destinations_visible, rules_visible
from .services import destination_save, rule_save


def _invalid(error: RuleError) -> ValidationError:
    return ValidationError({error.field: [error.message]})


class DestinationSerializer(serializers.ModelSerializer):
    kind = serializers.ChoiceField(DestinationKind.values)
    target = serializers.CharField(write_only=True, required=False,
                                   help_text="e-mail address or incoming-webhook URL (write-only)")
    secret = serializers.CharField(write_only=True, required=False, trim_whitespace=False,
                                   help_text="webhook signing secret, at least 16 characters (write-only)")
    owner = serializers.CharField(source="owner.username", read_only=True)

    class Meta:
        model = Destination
        fields = ["id", "name", "kind", "target", "secret", "target_hint", "owner", "created_at", "updated_at"]
        read_only_fields = ["target_hint", "created_at", "updated_at"]


class RuleSerializer(serializers.ModelSerializer):
    dimension = serializers.CharField(required=False, allow_blank=True, allow_null=True, default="")
    key = serializers.CharField(required=False, allow_blank=True, allow_null=True, default="")
    window = serializers.ChoiceField(RULE_WINDOWS)
    condition = serializers.JSONField(help_text=f"type: one of {', '.join(CONDITION_TYPES)}; "
                                      '{"type": "below", "value": N}, {"type": "above", "value": N}, '
                                      '{"type": "change", "percent": P, "direction": "any"|"up"|"down"}')
    destinations = serializers.PrimaryKeyRelatedField(many=True, queryset=Destination.objects.all(),
                                                      required=False)
    owner = serializers.CharField(source="owner.username", read_only=True)
    team = serializers.ChoiceField(["", *Team.values], required=False, allow_blank=True, default="",
                                   help_text="a team (set by a data manager) whose members may edit the rule; "
                                             "empty: the owner's own rule")

    class Meta:
        model = Rule
        fields = ["id", "name", "metric", "dimension", "key", "window", "condition", "destinations", "active",
                  "state", "state_since", "last_value", "last_reference", "last_as_of", "owner", "team"]
        read_only_fields = ["state", "state_since", "last_value", "last_reference", "last_as_of"]

    def validate_destinations(self, value: list[Destination]) -> list[Destination]:
        mine = set(destinations_visible(self.context["request"].user).values_list("pk", flat=True))
        foreign = [destination.pk for destination in value if destination.pk not in mine]
        if foreign:
            raise ValidationError(f"destinations {foreign} are not yours")
        return value


class _ServiceWrites(viewsets.ModelViewSet):
    """Writes go through alerts.services (each view set's `_save`), which checks and seals; the serializer only
    parses. PUT is left out: PATCH changes what it names, a missing target keeps the stored one."""

    permission_classes = [IsAuthenticated]
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return self._save(serializer, None)

    def partial_update(self, request, *args, **kwargs):
        instance = self.get_object()
        serializer = self.get_serializer(instance, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        return self._save(serializer, instance)


@extend_schema_view(create=extend_schema(summary="Create an alert destination"),
                    partial_update=extend_schema(summary="Change an alert destination (send target or secret "
                                                         "to replace them)"))
class DestinationViewSet(_ServiceWrites):
    serializer_class = DestinationSerializer
    queryset = Destination.objects.none()  # the schema's model; requests get get_queryset()

    def get_queryset(self):
        return destinations_visible(self.request.user).order_by("pk")

    def _save(self, serializer, instance: Destination | None) -> Response:
        data = serializer.validated_data
        try:
            destination = destination_save(
                owner=instance.owner if instance else self.request.user,
                name=data.get("name", instance.name if instance else ""),
                kind=data.get("kind", instance.kind if instance else ""),
                target=data.get("target"), secret=data.get("secret"), destination=instance)
        except RuleError as error:
            raise _invalid(error) from None
        return Response(DestinationSerializer(destination).data,
                        status=status.HTTP_200_OK if instance else status.HTTP_201_CREATED)



@extend_schema_view(create=extend_schema(summary="Create an alert rule"),
                    partial_update=extend_schema(summary="Change an alert rule"))
class RuleViewSet(_ServiceWrites):
    serializer_class = RuleSerializer
    queryset = Rule.objects.none()  # the schema's model; requests get get_queryset()

    def get_queryset(self):
        return rules_visible(self.request.user).order_by("pk")

    def _save(self, serializer, instance: Rule | None) -> Response:
        data = serializer.validated_data

        def pick(name: str, default=""):
            if name in data:
                return data[name] if data[name] is not None else default
            return getattr(instance, name) if instance else default

        try:
            rule = rule_save(
                owner=instance.owner if instance else self.request.user, name=pick("name"),
                metric=pick("metric"), dimension=pick("dimension"), key=pick("key"), window=pick("window"),
                condition=pick("condition", None),
                destinations=data["destinations"] if "destinations" in data else
                (list(instance.destinations.all()) if instance else []),
                active=pick("active", True), rule=instance, team=pick("team"), actor=self.request.user)
        except RuleError as error:
            raise _invalid(error) from None
        return Response(RuleSerializer(rule, context=self.get_serializer_context()).data,
                        status=status.HTTP_200_OK if instance else status.HTTP_201_CREATED)

