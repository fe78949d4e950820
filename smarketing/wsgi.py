"""WSGI entry point for gunicorn."""

import os

from django.core.wsgi import get_wsgi_application

from smarketing.collector import collector_tune

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "smarketing.settings")
application = get_wsgi_application()
collector_tune()
