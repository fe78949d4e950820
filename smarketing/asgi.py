"""ASGI entry point."""

import os

from django.core.asgi import get_asgi_application

from smarketing.collector import collector_tune

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "smarketing.settings")
application = get_asgi_application()
collector_tune()
