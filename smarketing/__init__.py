"""smarketing: the shared sales and marketing KPI dashboard."""

from smarketing.celery import app as celery_app

__all__ = ["celery_app"]
