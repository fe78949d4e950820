"""Every KPI test starts from empty facts, whatever other modules committed before it."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _empty_facts(request):
    # Module-scoped seeds elsewhere commit records and so, through the signal, facts.
    if "django_db" not in request.keywords and "services" not in request.keywords:
        return
    from smarketing.kpis.models import DirtyDay, Fact, FactsState

    request.getfixturevalue("transactional_db" if "services" in request.keywords else "db")
    Fact.objects.all().delete()
    DirtyDay.objects.all().delete()
    FactsState.objects.all().delete()
