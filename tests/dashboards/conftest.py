import pytest
from django.core.cache import cache


@pytest.fixture(autouse=True)
def _fresh_page_cache():
    """Dashboard pages are cached by facts_as_of; a frozen clock would share it between tests."""
    cache.clear()
    yield
    cache.clear()
