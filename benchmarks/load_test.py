"""Mixed load with and without hostile custom-window requests (issue 14; not a test).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/NAME REDIS_URL=redis://127.0.0.1:6379/N \\
    .venv/bin/python benchmarks/load_test.py [--users 30] [--seconds 60] [--hostile-rate 2]
        [--contacts 20000] [--workers 3] [--port 8765]

Sets up the database (migrate; `seed_demo` when it holds no contacts; a full recompute),
signs in `--users` users plus one hostile user (sessions made in the database), starts
gunicorn on 127.0.0.1 with `DEBUG=false`, then runs the same mix twice for `--seconds`:
each user loops over dashboard pages (standard windows), KPI API calls and record lists
with a short pause; the second run adds `--hostile-rate` requests per second of
uncached custom windows (random spans up to the 1,100-day limit, dashboards and API
breakdowns) from the hostile user. Reports per run: requests, errors (5xx, timeouts,
connection failures), hostile answers by status, and the normal pages' p50 / p95.
Only 127.0.0.1 is ever contacted.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import random
import statistics
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
PASSWORD = "load-test-password-42"
NORMAL_PATHS = [
    *(f"/dashboards/{key}/?window={window}" for key in ("shared", "executive", "sales_manager", "email_marketing")
      for window in ("mtd", "qtd", "ytd", "last_30")),
    "/api/v1/kpis/?metrics=leads,mqls,lead_to_mql_rate,revenue&window=mtd",
    "/api/v1/kpis/?metrics=leads,sqls,win_rate&window=ytd",
    "/api/v1/contacts/",
    "/api/v1/deals/",
]


def _env(**extra: str) -> dict[str, str]:
    return {**os.environ, "DEBUG": "false", "ALLOWED_HOSTS": HOST, **extra}


def _manage(*args: str) -> None:
    subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=_env(), check=True)


def _sessions(users: int) -> list[str]:
    """Session cookies of `users` viewers and, last, the hostile one (created when missing)."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "smarketing.settings")
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.contrib.sessions.backends.db import SessionStore

    model = get_user_model()
    cookies = []
    for name in [f"load-{i:02d}" for i in range(users)] + ["load-hostile"]:
        user = model.objects.filter(username=name).first() or model.objects.create_user(name, password=PASSWORD)
        session = SessionStore()
        session["_auth_user_id"] = str(user.pk)
        session["_auth_user_backend"] = "django.contrib.auth.backends.ModelBackend"
        session["_auth_user_hash"] = user.get_session_auth_hash()
        session.create()
        cookies.append(f"sessionid={session.session_key}")
    return cookies


def _contacts() -> int:
    from smarketing.funnel.models import Contact

    return Contact.objects.count()


class Client:
    """One keep-alive HTTP/1.1 connection to 127.0.0.1 (Content-Length and chunked bodies)."""

    def __init__(self, port: int, cookie: str) -> None:
        self.port, self.cookie = port, cookie
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def get(self, path: str, timeout: float = 60.0) -> int:
        try:
            return await asyncio.wait_for(self._get(path), timeout)
        except (TimeoutError, OSError, asyncio.IncompleteReadError, ValueError):
            await self.close()
            return 0

    async def _get(self, path: str) -> int:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(HOST, self.port)
        self.writer.write(f"GET {path} HTTP/1.1\r\nHost: {HOST}\r\nCookie: {self.cookie}\r\n"
                          "Connection: keep-alive\r\n\r\n".encode())
        await self.writer.drain()
        status_line = await self.reader.readline()
        status = int(status_line.split()[1])
        headers = {}
        while (line := await self.reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.decode("latin-1").partition(":")
            headers[name.strip().lower()] = value.strip()
        if "content-length" in headers:
            await self.reader.readexactly(int(headers["content-length"]))
        elif headers.get("transfer-encoding") == "chunked":
            while size := int((await self.reader.readline()).strip(), 16):
                await self.reader.readexactly(size + 2)
            await self.reader.readline()
        else:
            await self.reader.read()
        if headers.get("connection", "").lower() == "close" or "content-length" not in headers:
            await self.close()
        return status

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            self.writer = self.reader = None


def _hostile_path(rng: random.Random) -> str:
    start = dt.date(1970, 1, 1) + dt.timedelta(days=rng.randrange(130 * 365))
    end = min(start + dt.timedelta(days=rng.randrange(30, 1100)), dt.date(2100, 12, 31))
    if rng.random() < 0.5:
        return f"/dashboards/shared/?window=custom&start={start}&end={end}"
    return f"/api/v1/kpis/?metrics=leads,mqls,revenue,win_rate&window=custom&start={start}&end={end}&dimension=channel"


async def _run(port: int, cookies: list[str], *, seconds: float, hostile_rate: float) -> dict:
    normal: list[float] = []
    errors: Counter = Counter()
    hostile: Counter = Counter()
    statuses: Counter = Counter()
    deadline = time.monotonic() + seconds

    async def user(cookie: str, seed: int) -> None:
        rng = random.Random(seed)
        client = Client(port, cookie)
        while time.monotonic() < deadline:
            path = rng.choice(NORMAL_PATHS)
            started = time.monotonic()
            status = await client.get(path)
            statuses[status] += 1
            if status == 200:
                normal.append(time.monotonic() - started)
            else:
                errors[f"{status} {path.split('?')[0]}"] += 1
            await asyncio.sleep(rng.uniform(0.2, 1.0))
        await client.close()

    async def attacker(cookie: str) -> None:
        rng = random.Random(99)
        pending = set()

        async def one() -> None:
            client = Client(port, cookie)
            status = await client.get(_hostile_path(rng))
            hostile[status] += 1
            await client.close()

        while hostile_rate and time.monotonic() < deadline:
            pending.add(asyncio.ensure_future(one()))
            await asyncio.sleep(1 / hostile_rate)
        if pending:
            await asyncio.wait(pending)

    await asyncio.gather(*(user(cookie, i) for i, cookie in enumerate(cookies[:-1])), attacker(cookies[-1]))
    normal.sort()
    return {
        "requests": sum(statuses.values()),
        "ok": len(normal),
        "errors": dict(errors),
        "hostile": dict(hostile),
        "p50_ms": round(statistics.median(normal) * 1000, 1) if normal else None,
        "p95_ms": round(normal[int(len(normal) * 0.95) - 1] * 1000, 1) if normal else None,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=30)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--hostile-rate", type=float, default=2)
    parser.add_argument("--contacts", type=int, default=20_000)
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--port", type=int, default=8765)
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        sys.exit("set DATABASE_URL to a PostgreSQL database (and REDIS_URL) for this benchmark")
    _manage("migrate", "--no-input", "-v", "0")
    cookies = _sessions(args.users)
    if not _contacts():
        _manage("seed_demo", "--contacts", str(args.contacts), "--no-progress")
    _manage("recompute_kpis", "--full")
    server = subprocess.Popen(
        [str(Path(sys.executable).parent / "gunicorn"), "-w", str(args.workers), "-b", f"{HOST}:{args.port}",
         "--timeout", "30", "smarketing.wsgi:application"], cwd=ROOT, env=_env(),
        stdout=subprocess.DEVNULL, stderr=(ROOT / "var" / "load_test_gunicorn.log").open("wb"))
    try:
        time.sleep(3)
        asyncio.run(_run(args.port, cookies, seconds=5, hostile_rate=0))  # warm the page cache
        print(f"{args.users} users, {args.seconds:.0f} s, {args.workers} gunicorn workers, "
              f"load average {os.getloadavg()[0]:.2f}")
        for rate in (0, args.hostile_rate):
            report = asyncio.run(_run(args.port, cookies, seconds=args.seconds, hostile_rate=rate))
            print(f"hostile {rate}/s: {report}  (load average {os.getloadavg()[0]:.2f})")
    finally:
        server.terminate()
        server.wait(timeout=30)


if __name__ == "__main__":
    main()
