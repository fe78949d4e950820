"""The served application's garbage collector settings (smarketing/collector.py)."""

from __future__ import annotations

import gc
import importlib
import sys

import pytest

from smarketing.collector import FIRST_GENERATION, OLDER_GENERATIONS


@pytest.mark.parametrize("entry", ["smarketing.wsgi", "smarketing.asgi"])
def test_the_served_application_tunes_the_garbage_collector(entry):
    before = gc.get_threshold()
    sys.modules.pop(entry, None)
    try:
        module = importlib.import_module(entry)
        assert module.application is not None
        # The loaded application is frozen out of the collector's scans, and it runs less often.
        assert gc.get_threshold() == (FIRST_GENERATION, *OLDER_GENERATIONS)
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)
        sys.modules.pop(entry, None)
