"""Bytes over the wire for a dashboard, first and second visit, measured in Chromium (not a test).

    python benchmarks/wire_bench.py [--url http://127.0.0.1:8000] [--dashboard shared]
        [--user demo --password demo-smarketing] [--screenshot var/screenshots/wire-shared.png]

Against a running server (`make run` serves as production does). Signs in, empties the
browser cache, then opens the dashboard twice in the same browser with its cache on,
summing what Chromium's network layer received for each visit (compressed bodies plus
headers: DevTools' `encodedDataLength`) and counting what came from the cache.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from playwright.sync_api import sync_playwright

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]


class Wire:
    """Per visit: bytes received and the requests, from DevTools' network events."""

    def __init__(self, cdp) -> None:
        self.reset()
        self.urls: dict[str, str] = {}
        cdp.on("Network.requestWillBeSent", lambda e: self.urls.__setitem__(e["requestId"], e["request"]["url"]))
        cdp.on("Network.loadingFinished", self.finished)
        cdp.on("Network.requestServedFromCache", lambda e: self.cached.add(e["requestId"]))
        cdp.on("Network.responseReceived", self.received)

    def reset(self) -> None:
        self.bytes: dict[str, int] = {}
        self.cached: set[str] = set()
        self.encodings: dict[str, str] = {}

    def received(self, event) -> None:
        response = event["response"]
        if response.get("fromDiskCache") or response.get("fromPrefetchCache"):
            self.cached.add(event["requestId"])
        headers = {k.lower(): v for k, v in response.get("headers", {}).items()}
        self.encodings[event["requestId"]] = headers.get("content-encoding", "-")

    def finished(self, event) -> None:
        self.bytes[event["requestId"]] = int(event["encodedDataLength"])

    def report(self, label: str) -> int:
        total = sum(self.bytes.values())
        print(f"{label}: {total / 1000:.1f} KB transferred, {len(self.bytes)} requests "
              f"({len(self.cached)} from the cache)")
        for request, size in sorted(self.bytes.items(), key=lambda item: -item[1]):
            where = "cache" if request in self.cached else self.encodings.get(request, "?")
            print(f"  {size / 1000:9.1f} KB  {where:6}  {self.urls.get(request, '?')}")
        return total


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", default="http://127.0.0.1:8000")
    parser.add_argument("--dashboard", default="shared")
    parser.add_argument("--user", default="demo")
    parser.add_argument("--password", default="demo-smarketing")
    parser.add_argument("--screenshot", default=None, help="save a full-page screenshot of the second visit")
    args = parser.parse_args()
    base = args.url.rstrip("/")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        context = browser.new_context(viewport={"width": 1440, "height": 1000})
        page = context.new_page()
        cdp = context.new_cdp_session(page)
        cdp.send("Network.enable")
        page.goto(f"{base}/accounts/login/")
        page.fill("input[name=username]", args.user)
        page.fill("input[name=password]", args.password)
        page.click("button[type=submit]")
        page.wait_for_load_state("networkidle")
        cdp.send("Network.clearBrowserCache")
        wire = Wire(cdp)
        path = f"{base}/dashboards/{args.dashboard}/"
        totals = []
        for label in ("first visit (empty cache)", "second visit (cache on)"):
            wire.reset()
            page.goto(path, wait_until="networkidle")
            page.wait_for_function("document.querySelectorAll('.js-plotly-plot').length === "
                                   "document.querySelectorAll('[data-figure]').length")
            totals.append(wire.report(label))
        if args.screenshot:
            Path(args.screenshot).parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=args.screenshot, full_page=True)
            print(f"screenshot: {args.screenshot}")
        browser.close()
    print(f"{args.dashboard}: first visit {totals[0] / 1000:.1f} KB, second visit {totals[1] / 1000:.1f} KB")


if __name__ == "__main__":
    main()
