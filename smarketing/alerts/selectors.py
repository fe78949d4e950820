"""What a person may see and edit of alerts: their own rules and destinations and the rules of
their team; a data manager sees and edits all."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from smarketing.funnel.selectors import is_data_manager, user_team

from .models import AlertEvent, DeliveryAttempt, Destination, Rule


def rules_visible(user) -> QuerySet[Rule]:
    """The rules the user may see and edit: their own and their team's (a data manager: all)."""
    query = Rule.objects.select_related("owner").prefetch_related("destinations")
    if is_data_manager(user):
        return query
    team = user_team(user)
    return query.filter(Q(owner=user) | Q(team=team)) if team else query.filter(owner=user)


def destinations_visible(user) -> QuerySet[Destination]:
    query = Destination.objects.select_related("owner")
    return query if is_data_manager(user) else query.filter(owner=user)


def events_for(rules: QuerySet[Rule], *, per_rule: int = 10) -> dict[int, list[AlertEvent]]:
    out: dict[int, list[AlertEvent]] = {}
    for event in AlertEvent.objects.filter(rule__in=rules).order_by("-created_at", "-pk")[:500]:
        bucket = out.setdefault(event.rule_id, [])
        if len(bucket) < per_rule:
            bucket.append(event)
    return out


def attempts_for(destinations: QuerySet[Destination], *, per_destination: int = 10) -> dict[int, list]:
    out: dict[int, list[DeliveryAttempt]] = {}
    for attempt in DeliveryAttempt.objects.filter(destination__in=destinations).order_by("-at", "-pk")[:500]:
        bucket = out.setdefault(attempt.destination_id, [])
        if len(bucket) < per_destination:
            bucket.append(attempt)
    return out


def watched_metrics(user) -> list[str]:
    """Metric keys an active rule the user can see watches (the bell on their tiles)."""
    return sorted(set(rules_visible(user).filter(active=True).values_list("metric", flat=True)))
