"""Open a dashboard page in headless Chromium and report console errors and broken images.

Why the Chrome DevTools Protocol over a small websocket client (``websocket-client``) instead of
Playwright or Selenium: both of those want to download and manage their own browser build; the
system Chromium (Debian's ``/usr/bin/chromium``) plus ~150 lines of CDP does the three things
needed here -- collect console/log errors, check every ``<img>`` decoded, take a screenshot.

``python -m reports.browser reports/out/index.html --screenshot reports/out/screenshot.png``
exits 1 when the page has an error.
"""

from __future__ import annotations

import argparse
import base64
import itertools
import json
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import websocket

CHROMIUM = "/usr/bin/chromium"
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run",
         "--remote-debugging-port=0", "--hide-scrollbars")
# Widths (CSS px) the page needs: every table's and the whole document's scroll width. A
# table wider than the window means columns an engineer has to scroll to.
WIDTHS_JS = """JSON.stringify({tables: Array.from(document.querySelectorAll('table'))
  .map(t => t.scrollWidth), document: document.documentElement.scrollWidth})"""
IMAGES_JS = """JSON.stringify(Array.from(document.images).map(i => ({
  src: i.getAttribute('src'), complete: i.complete, width: i.naturalWidth})))"""


class BrowserError(RuntimeError):
    """Chromium could not be started or did not answer; the message says what and where."""


@dataclass
class PageReport:
    url: str
    errors: list[str] = field(default_factory=list)
    images: list[dict[str, Any]] = field(default_factory=list)
    title: str = ""
    table_widths: list[int] = field(default_factory=list)
    document_width: int = 0

    @property
    def broken_images(self) -> list[str]:
        return [str(i["src"]) for i in self.images if not i["complete"] or i["width"] == 0]

    @property
    def ok(self) -> bool:
        return not self.errors and not self.broken_images


class Cdp:
    """A minimal synchronous CDP session on one page target."""

    def __init__(self, ws_url: str, timeout: float) -> None:
        self.ws = websocket.create_connection(ws_url, timeout=timeout, suppress_origin=True)
        self.ids = itertools.count(1)
        self.events: list[dict[str, Any]] = []

    def call(self, method: str, **params: Any) -> dict[str, Any]:
        ident = next(self.ids)
        self.ws.send(json.dumps({"id": ident, "method": method, "params": params}))
        while True:
            message = json.loads(self.ws.recv())
            if message.get("id") == ident:
                if "error" in message:
                    raise BrowserError(f"CDP {method} failed: {message['error']}")
                return message.get("result", {})
            if "method" in message:
                self.events.append(message)

    def wait_event(self, method: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        if any(e["method"] == method for e in self.events):
            return
        while time.monotonic() < deadline:
            message = json.loads(self.ws.recv())
            if "method" in message:
                self.events.append(message)
                if message["method"] == method:
                    return
        raise BrowserError(f"page did not fire {method} within {timeout:.0f} s")

    def close(self) -> None:
        self.ws.close()


def _devtools_port(profile: Path, proc: subprocess.Popen, timeout: float) -> int:
    marker = profile / "DevToolsActivePort"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise BrowserError(f"chromium exited with {proc.returncode} before DevTools started")
        if marker.is_file() and marker.read_text().strip():
            return int(marker.read_text().splitlines()[0])
        time.sleep(0.05)
    raise BrowserError(f"chromium did not open a DevTools port within {timeout:.0f} s")


def _errors(events: list[dict[str, Any]]) -> list[str]:
    found = []
    for event in events:
        params = event.get("params", {})
        if event["method"] == "Runtime.exceptionThrown":
            details = params.get("exceptionDetails", {})
            found.append(f"exception: {details.get('exception', {}).get('description') or details}")
        elif event["method"] == "Runtime.consoleAPICalled" and params.get("type") in (
                "error", "assert"):
            text = " ".join(str(a.get("value", a.get("description", ""))) for a in params["args"])
            found.append(f"console.{params['type']}: {text}")
        elif event["method"] == "Log.entryAdded" and params["entry"]["level"] == "error":
            entry = params["entry"]
            found.append(f"{entry.get('source')}: {entry.get('text')} {entry.get('url', '')}")
    return found


def check_page(page: Path, screenshot: Path | None = None, chromium: str = CHROMIUM,
               width: int = 1400, timeout: float = 30.0, shot_height: int | None = None
               ) -> PageReport:
    """Load ``page`` from disk, collect errors and image states, optionally save a screenshot
    (the whole page, or its top ``shot_height`` px)."""
    if shutil.which(chromium) is None:
        raise BrowserError(f"chromium not found at {chromium} (apt install chromium)")
    url = page.resolve().as_uri()
    # Chromium may still flush its profile after exit: cleanup must not fail the check.
    with tempfile.TemporaryDirectory(prefix="gptnano-chromium-", ignore_cleanup_errors=True) as tmp:
        profile = Path(tmp)
        proc = subprocess.Popen([chromium, *FLAGS, f"--user-data-dir={profile}", "about:blank"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            port = _devtools_port(profile, proc, timeout)
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=timeout) as r:
                targets = json.load(r)
            target = next(t for t in targets if t.get("type") == "page")
            cdp = Cdp(target["webSocketDebuggerUrl"], timeout)
            try:
                for domain in ("Page", "Runtime", "Log"):
                    cdp.call(f"{domain}.enable")
                cdp.call("Emulation.setDeviceMetricsOverride", width=width, height=900,
                         deviceScaleFactor=1, mobile=False)
                cdp.events.clear()
                cdp.call("Page.navigate", url=url)
                cdp.wait_event("Page.loadEventFired", timeout)
                images = json.loads(cdp.call("Runtime.evaluate", expression=IMAGES_JS,
                                             returnByValue=True)["result"]["value"])
                title = cdp.call("Runtime.evaluate", expression="document.title",
                                 returnByValue=True)["result"]["value"]
                widths = json.loads(cdp.call("Runtime.evaluate", expression=WIDTHS_JS,
                                             returnByValue=True)["result"]["value"])
                report = PageReport(url, _errors(cdp.events), images, title,
                                    widths["tables"], widths["document"])
                if screenshot is not None:
                    clip = {} if shot_height is None else {"clip": {
                        "x": 0, "y": 0, "width": width, "height": shot_height, "scale": 1}}
                    shot = cdp.call("Page.captureScreenshot", format="png",
                                    captureBeyondViewport=True, **clip)
                    screenshot.parent.mkdir(parents=True, exist_ok=True)
                    screenshot.write_bytes(base64.b64decode(shot["data"]))
            finally:
                cdp.close()
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m reports.browser", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("page", type=Path)
    parser.add_argument("--screenshot", type=Path)
    parser.add_argument("--chromium", default=CHROMIUM)
    parser.add_argument("--height", type=int, help="screenshot only the top HEIGHT px")
    args = parser.parse_args(argv)
    report = check_page(args.page, args.screenshot, args.chromium, shot_height=args.height)
    print(f"{report.url}: {len(report.images)} images, {len(report.broken_images)} broken, "
          f"{len(report.errors)} errors; widest table {max(report.table_widths, default=0)} px, "
          f"page {report.document_width} px (window 1400 px)")
    for line in report.errors + [f"broken image: {s}" for s in report.broken_images]:
        print(f"  {line}")
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
