"""Prometheus metrics at `/metrics`: request latency by view (measured here), and the state
of recomputes, queues, digests and imports (read from the database and Redis at scrape time,
so every web process reports the same figures whichever process did the work).

With several web processes (gunicorn), set PROMETHEUS_MULTIPROC_DIR to an empty folder
shared by them: the latency histograms are then summed over all processes.
"""

from __future__ import annotations

import hmac
import ipaddress
import os
import time
from collections.abc import Callable, Iterator

from django.conf import settings
from django.db.models import Count, Min
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector

from smarketing.digests.models import Delivery, DeliveryStatus
from smarketing.funnel.models import ImportJob
from smarketing.kpis.models import DirtyDay
from smarketing.kpis.selectors import facts_as_of
from smarketing.kpis.services import recompute_last

from .auth import client_address

REQUESTS = CollectorRegistry(auto_describe=True)
REQUEST_SECONDS = Histogram(
    "smarketing_http_request_duration_seconds", "Time to answer an HTTP request, by view.",
    ["view", "method", "status"], registry=REQUESTS,
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
CELERY_QUEUES = ("celery",)


class RequestMetricsMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        response = self.get_response(request)
        match = getattr(request, "resolver_match", None)
        # Unresolved paths (404s, scanners) share one label so they cannot grow the series.
        view = match.view_name if match and match.view_name else "unresolved"
        REQUEST_SECONDS.labels(view, request.method, str(response.status_code)).observe(
            time.perf_counter() - started)
        return response


def _gauge(name: str, text: str, value: float | None) -> GaugeMetricFamily:
    gauge = GaugeMetricFamily(name, text)
    if value is not None:
        gauge.add_metric([], value)
    return gauge


def _by_status(name: str, text: str, model, statuses: list[str]) -> GaugeMetricFamily:
    counts = dict.fromkeys(statuses, 0)
    counts.update(model.objects.values_list("status").annotate(n=Count("id")).order_by())
    gauge = GaugeMetricFamily(name, text, labels=["status"])
    for status, count in sorted(counts.items()):
        gauge.add_metric([status], count)
    return gauge


def _queue_depths() -> dict[str, int]:
    import redis

    client = redis.Redis.from_url(settings.REDIS_URL, socket_timeout=2, socket_connect_timeout=2)
    try:
        return {queue: client.llen(queue) for queue in CELERY_QUEUES}
    finally:
        client.close()


class StateCollector:
    """Figures read at scrape time from where the work leaves its traces."""

    def collect(self) -> Iterator[GaugeMetricFamily]:
        now = timezone.now()
        as_of = facts_as_of()
        yield _gauge("smarketing_facts_age_seconds", "Seconds since the last recompute of the daily facts finished.",
                     None if as_of is None else (now - as_of).total_seconds())
        dirty = DirtyDay.objects.aggregate(n=Count("id"), oldest=Min("marked_at"))
        yield _gauge("smarketing_recompute_dirty_days", "Days (per family) waiting for a recompute.", dirty["n"])
        yield _gauge("smarketing_recompute_lag_seconds", "Age of the oldest day waiting for a recompute (0: none).",
                     (now - dirty["oldest"]).total_seconds() if dirty["oldest"] else 0)
        last = recompute_last()
        yield _gauge("smarketing_recompute_last_duration_seconds", "Duration of the last recompute.",
                     last["seconds"] if last else None)
        if settings.REDIS_URL:
            depth = GaugeMetricFamily("smarketing_queue_depth", "Tasks waiting in a Celery queue.", labels=["queue"])
            for queue, length in _queue_depths().items():
                depth.add_metric([queue], length)
            yield depth
        yield _by_status("smarketing_digest_deliveries", "Digest deliveries by status (sent, failed, …).",
                         Delivery, list(DeliveryStatus.values))
        yield _by_status("smarketing_import_jobs", "Upload-page import jobs by status (done, failed, …).",
                         ImportJob, list(ImportJob.Status.values))


def metrics_allowed(request: HttpRequest) -> bool:
    token = settings.METRICS_TOKEN
    header = request.META.get("HTTP_AUTHORIZATION", "")
    if token and hmac.compare_digest(header.encode(), f"Bearer {token}".encode()):
        return True
    try:
        address = ipaddress.ip_address(client_address(request))
    except ValueError:
        return False
    for allowed in settings.METRICS_ALLOWED_IPS:
        try:
            if address in ipaddress.ip_network(allowed, strict=False):
                return True
        except ValueError:
            continue
    return False


def exposition() -> bytes:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        requests = CollectorRegistry()
        MultiProcessCollector(requests)
    else:
        requests = REQUESTS
    state = CollectorRegistry(auto_describe=True)
    state.register(StateCollector())
    return generate_latest(requests) + generate_latest(state)


@never_cache
def metrics(request: HttpRequest) -> HttpResponse:
    if not metrics_allowed(request):
        return HttpResponse("Metrics need METRICS_TOKEN or an address in METRICS_ALLOWED_IPS.\n",
                            status=403, content_type="text/plain")
    return HttpResponse(exposition(), content_type=CONTENT_TYPE_LATEST)
