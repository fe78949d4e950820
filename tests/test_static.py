"""The production path: hashed static names cached for good, Brotli and gzip copies, pages compressed."""

from __future__ import annotations

import gzip
import json

import brotli
import pytest
from django.conf import settings
from django.core.management import call_command
from django.templatetags.static import static
from django.test import Client, override_settings

ORIGINAL = settings.BASE_DIR / "static" / "js" / "dashboards.js"
PRODUCTION = {**settings.STORAGES,
              "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"}}


@pytest.fixture(scope="module")
def collected(tmp_path_factory):
    """The project's own static files collected once with the production storage (the admin's
    and the API docs' files are left out: they add a minute of compression and nothing to test)."""
    root = tmp_path_factory.mktemp("static")
    with override_settings(STORAGES=PRODUCTION, STATIC_ROOT=root, DEBUG=False,
                           STATICFILES_FINDERS=["django.contrib.staticfiles.finders.FileSystemFinder"]):
        call_command("collectstatic", no_input=True, verbosity=0)
        yield root


def test_collectstatic_stores_hashed_names_with_brotli_and_gzip_copies(collected):
    hashed = json.loads((collected / "staticfiles.json").read_text())["paths"]["js/dashboards.js"]
    assert hashed != "js/dashboards.js" and hashed.startswith("js/dashboards.")
    assert static("js/dashboards.js") == f"/static/{hashed}"
    original = ORIGINAL.read_bytes()
    assert (collected / hashed).read_bytes() == original
    assert brotli.decompress((collected / f"{hashed}.br").read_bytes()) == original
    assert gzip.decompress((collected / f"{hashed}.gz").read_bytes()) == original


@pytest.mark.django_db
def test_a_hashed_file_is_served_compressed_and_immutable(collected):
    client = Client()  # its middleware reads the collected files
    url = static("js/dashboards.js")
    response = client.get(url, headers={"accept-encoding": "gzip, br"})
    assert response.status_code == 200
    assert response["Content-Encoding"] == "br"
    assert "immutable" in response["Cache-Control"] and "max-age=315360000" in response["Cache-Control"]
    assert brotli.decompress(b"".join(response.streaming_content)) == ORIGINAL.read_bytes()
    gzipped = client.get(url, headers={"accept-encoding": "gzip"})
    assert gzipped["Content-Encoding"] == "gzip"
    assert gzip.decompress(b"".join(gzipped.streaming_content)) == ORIGINAL.read_bytes()
    # An unhashed name is still served, but only briefly cached: it can change.
    plain = client.get("/static/js/dashboards.js")
    assert plain.status_code == 200 and "immutable" not in plain["Cache-Control"]


@pytest.mark.django_db
def test_pages_are_compressed_for_clients_that_accept_gzip(client):
    page = client.get("/accounts/login/", headers={"accept-encoding": "gzip"})
    assert page.status_code == 200
    assert page["Content-Encoding"] == "gzip"
    html = gzip.decompress(page.content).decode()
    assert "<form" in html
    assert len(page.content) < len(html)
    assert "<form" in client.get("/accounts/login/").content.decode()  # and plain for the rest
