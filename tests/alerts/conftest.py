"""Alerts tests: empty facts, a fixed "today", and a real HTTP receiver on loopback."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

# Every alerts test starts from empty facts too (autouse, like the KPI tests).
from tests.kpis.conftest import _empty_facts  # noqa: F401


@pytest.fixture(autouse=True)
def _loopback_only(monkeypatch):
    """Tests post to the loopback receiver only: a slip that would reach a real host fails here."""
    from urllib.parse import urlsplit

    from smarketing.alerts import senders

    real = senders._post

    def guarded(url, body, headers):
        assert urlsplit(url).hostname in ("127.0.0.1", "localhost", "::1"), "a test tried to post off loopback"
        return real(url, body, headers)

    monkeypatch.setattr(senders, "_post", guarded)


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> dict:
        return json.loads(self.body)


@dataclass
class Receiver:
    """An incoming-webhook endpoint: records every POST and answers with the queued codes."""

    url: str
    requests: list[Received] = field(default_factory=list)
    codes: list[int] = field(default_factory=list)

    def answer(self, *codes: int) -> None:
        self.codes.extend(codes)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            state.requests.append(Received(self.path, {k: v for k, v in self.headers.items()},
                                           self.rfile.read(length)))
            code = state.codes.pop(0) if state.codes else 200
            self.send_response(code)
            self.end_headers()
            self.wfile.write(b"ok" if code < 300 else b"receiver error")

        def log_message(self, *args) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
