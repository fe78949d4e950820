"""Dashboard page speed on PostgreSQL under gunicorn with 8 concurrent clients (not a test).

    .venv/bin/python benchmarks/dashboard_bench.py [--contacts 1000000] [--skip-seed]
        [--requests 80] [--clients 8] [--workers 2] [--window mtd] [--database bench_dashboards]
        [--board24]   # only a 24-panel own board (run it with --cold: the cost of computing it)
        [--start 2025-12-27 --end 2026-11-23] [--as-of 2026-11-23]

Sets up database `bench_dashboards` (migrate, `seed_demo --contacts N` unless it already
holds contacts or --skip-seed, `recompute_kpis --full`), starts gunicorn with this file
as its settings module (the project's settings plus a timing middleware and a bare 20 KB
template page as the ceiling), then per dashboard reports: server time p50/p95 (inside
Django, from the X-Server-Ms header), client latency p95, throughput, HTML size, and
HTML + app CSS/JS size (plotly.js excluded: cached, vendored).
"""

from __future__ import annotations

import os

if os.environ.get("DASHBOARD_BENCH_SERVER") == "1":
    # gunicorn imports this module as DJANGO_SETTINGS_MODULE and as ROOT_URLCONF.
    import time as _time

    from django.http import HttpResponse
    from django.template import engines
    from django.urls import include, path

    from smarketing.settings import *  # noqa: F403
    from smarketing.settings import MIDDLEWARE

    DEBUG = False
    if os.environ.get("DASHBOARD_BENCH_COLD") == "1":
        # Every request computes its page: the cost without the facts_as_of page cache.
        CACHES = {"default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}}
    ROOT_URLCONF = "benchmarks.dashboard_bench"
    MIDDLEWARE = ["benchmarks.dashboard_bench.ServerTiming", *MIDDLEWARE]

    class ServerTiming:
        def __init__(self, get_response):
            self.get_response = get_response

        def __call__(self, request):
            started = _time.perf_counter()
            response = self.get_response(request)
            response["X-Server-Ms"] = f"{(_time.perf_counter() - started) * 1000:.2f}"
            return response

    _BARE = None

    def bare(request):
        """The ceiling: a 20 KB page through the Django template engine, no queries."""
        global _BARE
        if _BARE is None:
            _BARE = engines["django"].from_string(
                "<!doctype html><html><body>{% for row in rows %}<p class=\"row\">Row {{ row }}: "
                "the quick brown fox jumps over the lazy dog, again and again.</p>{% endfor %}</body></html>"
            )
        return HttpResponse(_BARE.render({"rows": range(250)}, request))

    def __getattr__(name: str):
        # The URLconf is read after the apps are ready, the settings before: build it lazily.
        if name == "urlpatterns":
            return [path("bench/bare/", bare), path("", include("smarketing.urls"))]
        raise AttributeError(name)

else:
    import argparse
    import http.client
    import statistics
    import subprocess
    import sys
    import threading
    import time
    from pathlib import Path

    ROOT = Path(__file__).resolve().parent.parent
    DATABASE = "bench_dashboards"
    PORT = 8124  # the dev server of this branch uses 8104

    REDIS = {"url": ""}
    PORTS = {"port": PORT}

    def _env(database_url: str) -> dict:
        return {**os.environ, "DATABASE_URL": database_url, "DEBUG": "0", "REDIS_URL": REDIS["url"],
                "ALLOWED_HOSTS": "127.0.0.1,localhost", "PYTHONPATH": str(ROOT)}

    def _manage(database_url: str, *args: str) -> None:
        subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=_env(database_url), check=True)

    def _percentile(values: list[float], pct: float) -> float:
        ordered = sorted(values)
        index = max(0, min(len(ordered) - 1, round(pct / 100 * len(ordered) + 0.5) - 1))
        return ordered[index]

    def _fetch(path: str, cookie: str) -> tuple[int, bytes, float, float]:
        started = time.perf_counter()
        connection = http.client.HTTPConnection("127.0.0.1", PORTS["port"], timeout=60)
        connection.request("GET", path, headers={"Cookie": cookie, "Accept-Encoding": "identity"})
        response = connection.getresponse()
        body = response.read()
        server_ms = float(response.getheader("X-Server-Ms") or "nan")
        connection.close()
        return response.status, body, (time.perf_counter() - started) * 1000, server_ms

    def _load(path: str, cookie: str, *, requests: int, clients: int) -> dict:
        """`clients` threads issue `requests` GETs in all, back to back."""
        server: list[float] = []
        client: list[float] = []
        sizes: list[int] = []
        errors: list[int] = []
        lock = threading.Lock()
        remaining = [requests]

        def worker() -> None:
            while True:
                with lock:
                    if remaining[0] <= 0:
                        return
                    remaining[0] -= 1
                status, body, client_ms, server_ms = _fetch(path, cookie)
                with lock:
                    if status != 200:
                        errors.append(status)
                    server.append(server_ms)
                    client.append(client_ms)
                    sizes.append(len(body))

        started = time.perf_counter()
        threads = [threading.Thread(target=worker) for _ in range(clients)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.perf_counter() - started
        return {
            "server_p50": statistics.median(server), "server_p95": _percentile(server, 95),
            "client_p95": _percentile(client, 95), "rps": len(client) / elapsed,
            "bytes": max(sizes), "errors": errors,
        }

    def _session_cookie(database_url: str) -> str:
        os.environ["DATABASE_URL"] = database_url
        os.environ["REDIS_URL"] = ""
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "smarketing.settings")
        sys.path.insert(0, str(ROOT))
        import django

        django.setup()
        from django.contrib.auth import get_user_model
        from django.test import Client

        user, _ = get_user_model().objects.get_or_create(username="bench")
        client = Client()
        client.force_login(user)
        return f"sessionid={client.cookies['sessionid'].value}"

    # Every panel kind, many metrics and slices: what a large own board asks of the engine.
    BOARD24 = [
        {"kind": "tile", "metrics": ["leads", "mqls", "sqls", "customers"], "width": 3},
        {"kind": "tile", "metrics": ["revenue", "revenue_pipeline", "average_deal_size"], "width": 2},
        {"kind": "tile", "metrics": ["lead_to_mql_rate", "mql_to_opportunity_rate"], "width": 1},
        {"kind": "series", "metrics": ["leads", "mqls"], "width": 2},
        {"kind": "series", "metrics": ["revenue"], "width": 1},
        {"kind": "breakdown", "metrics": ["leads", "lead_to_mql_rate"], "dimension": "channel", "width": 2},
        {"kind": "breakdown", "metrics": ["leads"], "dimension": "campaign", "width": 1},
        {"kind": "breakdown", "metrics": ["revenue"], "dimension": "owner", "width": 1},
        {"kind": "funnel", "metrics": ["visits", "leads", "mqls", "sqls", "opportunities", "customers"], "width": 2},
        {"kind": "sla", "metrics": ["leads_delivered", "leads_worked_rate", "sla_attempt_compliance"],
         "dimension": "owner", "width": 3},
        {"kind": "tile", "metrics": ["mqls"], "filter": {"dimension": "channel", "key": "email"}, "width": 1},
        {"kind": "tile", "metrics": ["leads"], "filter": {"dimension": "channel", "key": ["social", "paid_social"]},
         "width": 1},
        {"kind": "tile", "metrics": ["revenue"], "window": "ytd", "width": 1},
        {"kind": "series", "metrics": ["mqls"], "window": "ytd", "width": 3},
        {"kind": "breakdown", "metrics": ["opportunity_to_customer_rate"], "dimension": "owner", "width": 1},
        {"kind": "breakdown", "metrics": ["cost_per_lead"], "dimension": "campaign", "width": 1},
        {"kind": "breakdown", "metrics": ["mql_rejection_rate"], "dimension": "disqualification_reason", "width": 1},
        {"kind": "breakdown", "metrics": ["leads", "lead_to_customer_rate"], "dimension": "industry", "width": 2},
        {"kind": "breakdown", "metrics": ["leads"], "dimension": "offer", "width": 1},
        {"kind": "tile", "metrics": ["open_rate", "click_rate"], "width": 1},
        {"kind": "breakdown", "metrics": ["open_rate"], "dimension": "email_type", "width": 1},
        {"kind": "tile", "metrics": ["roi", "customer_acquisition_cost", "marketing_spend"], "width": 2},
        {"kind": "velocity", "metrics": ["avg_days_lead_to_mql", "avg_days_mql_to_sql"], "width": 1},
        {"kind": "tile", "metrics": ["blog_visits", "social_reach"], "width": 1},
    ]

    def _board24() -> int:
        """The bench user's 24-panel board (created once), through the same save as the API."""
        from django.contrib.auth import get_user_model

        from smarketing.dashboards.boards import board_save
        from smarketing.dashboards.models import Board

        user = get_user_model().objects.get(username="bench")
        data = {"title": "Bench: 24 panels", "description": "", "visibility": "private", "panels": BOARD24}
        board = Board.objects.filter(owner=user, title=data["title"]).first()
        return board_save(user=user, data=data, board=board).pk

    def _load_avg() -> str:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())

    def _contacts(database_url: str) -> int:
        import psycopg

        with psycopg.connect(database_url) as connection:
            return connection.execute("select count(*) from funnel_contact").fetchone()[0]

    def main() -> None:
        parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
        parser.add_argument("--contacts", type=int, default=1_000_000)
        parser.add_argument("--skip-seed", action="store_true")
        parser.add_argument("--skip-recompute", action="store_true")
        parser.add_argument("--requests", type=int, default=80, help="requests per dashboard per run")
        parser.add_argument("--runs", type=int, default=3, help="runs per page; the median run is reported")
        parser.add_argument("--clients", type=int, default=8)
        parser.add_argument("--workers", type=int, default=2)
        parser.add_argument("--window", default="mtd")
        parser.add_argument("--cold", action="store_true", help="no page cache: every request computes")
        parser.add_argument("--redis", default="", help="REDIS_URL for the server (the services-mode cache)")
        parser.add_argument("--database", default=DATABASE, help="PostgreSQL database (created if missing)")
        parser.add_argument("--board24", action="store_true", help="only a 24-panel own board's page")
        parser.add_argument("--port", type=int, default=PORT, help="gunicorn's port (another bench may hold 8124)")
        parser.add_argument("--start", default=None, help="custom window start (with --end)")
        parser.add_argument("--end", default=None, help="custom window end (with --start)")
        parser.add_argument("--as-of", default=None, help="as_of of the standard windows (seeded --today)")
        parser.add_argument("--only", default="", help="comma-separated dashboard keys (default: every one)")
        args = parser.parse_args()
        REDIS["url"] = args.redis
        PORTS["port"] = args.port

        database_url = f"postgres://postgres@127.0.0.1:5432/{args.database}"
        subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-qc", f"create database {args.database}"],
                       capture_output=True)
        _manage(database_url, "migrate", "-v0")
        # The server runs with DEBUG off: its pages name hashed static files from the manifest.
        subprocess.run(["make", "static"], cwd=ROOT, check=True, capture_output=True)
        if not args.skip_seed and _contacts(database_url) == 0:
            _manage(database_url, "seed_demo", "--contacts", str(args.contacts), "--no-progress")
        if not args.skip_recompute:
            started = time.perf_counter()
            _manage(database_url, "recompute_kpis", "--full")
            print(f"recompute_kpis --full: {time.perf_counter() - started:.1f} s")
        print(f"contacts in {args.database}: {_contacts(database_url):,}; load {_load_avg()}")

        cookie = _session_cookie(database_url)
        from smarketing.dashboards.layouts import DASHBOARDS

        board_pk = _board24() if args.board24 else None

        static_bytes = sum((ROOT / "static" / name).stat().st_size for name in ("css/app.css", "js/dashboards.js"))
        query = f"window={args.window}"
        if args.start and args.end:
            query = f"window=custom&start={args.start}&end={args.end}"
        if args.as_of:
            query += f"&as_of={args.as_of}"
        env = {**_env(database_url), "DASHBOARD_BENCH_SERVER": "1", "KPI_HEAVY_QUERY_RATE": "0/minute", "DJANGO_SETTINGS_MODULE": "benchmarks.dashboard_bench",
               "DASHBOARD_BENCH_COLD": "1" if args.cold else "0"}
        server = subprocess.Popen(
            [str(Path(sys.executable).parent / "gunicorn"), "-w", str(args.workers), "-b", f"127.0.0.1:{args.port}",
             "--chdir", str(ROOT), "--log-level", "warning", "smarketing.wsgi:application"],
            env=env, start_new_session=True,
        )
        try:
            for _ in range(100):
                if server.poll() is not None:
                    raise SystemExit(f"gunicorn exited ({server.returncode}): is port {args.port} free?")
                try:
                    if _fetch("/bench/bare/", cookie)[0] == 200:
                        break
                except OSError:
                    pass
                time.sleep(0.2)
            else:
                raise SystemExit("gunicorn did not answer /bench/bare/ within 20 s")
            pages = [("bare 20 KB template", "/bench/bare/")] + ([
                ("board: 24 panels", f"/boards/{board_pk}/?{query}")] if board_pk else [
                (key, f"/dashboards/{key}/?{query}") for key in DASHBOARDS
                if not args.only or key in args.only.split(",")
            ])
            rows = []
            for name, path in pages:
                for _ in range(3):  # warm each worker: imports, connections, template cache
                    _fetch(path, cookie)
                runs = [_load(path, cookie, requests=args.requests, clients=args.clients) for _ in range(args.runs)]
                runs.sort(key=lambda run: run["server_p95"])
                result = runs[len(runs) // 2]
                rows.append((name, result))
            ceiling = rows[0][1]["rps"]
            cache_kind = "no page cache" if args.cold else f"page cache in {'Redis' if args.redis else 'process memory'}"
            print(f"\n{cache_kind}: "
                  f"{args.clients} clients, gunicorn -w {args.workers}, {query}, load {_load_avg()}, "
                  f"{args.requests} requests x {args.runs} runs per page (median run)")
            print(f"{'page':26} {'srv p50':>8} {'srv p95':>8} {'cli p95':>8} {'req/s':>7} {'ratio':>6} "
                  f"{'HTML KB':>8} {'+css/js':>8}  errors")
            for name, result in rows:
                html_kb = result["bytes"] / 1024
                print(f"{name:26} {result['server_p50']:8.1f} {result['server_p95']:8.1f} {result['client_p95']:8.1f} "
                      f"{result['rps']:7.1f} {result['rps'] / ceiling:6.2f} {html_kb:8.1f} "
                      f"{html_kb + static_bytes / 1024:8.1f}  {len(result['errors']) or ''}")
        finally:
            if server.poll() is None:
                os.killpg(server.pid, 15)
                server.wait(timeout=30)

    if __name__ == "__main__":
        main()
