"""Open a saved HTML page in a real headless Chromium and report what it shows.

Used by the map tests and the end-to-end run::

    from tests.browser import render_in_chromium, elements_with_class

    page = render_in_chromium(html_path, tmp_path)
    assert not page.js_errors
    assert elements_with_class(page.dom, "leaflet-container")

Chromium is Debian's ``chromium`` (``apt-get install chromium``), or the
binary named by ``$COVERPLAN_CHROMIUM``. Without it the test is skipped,
except under ``$CI``, where a missing browser fails the test: CI installs it.

The page is copied beside the screenshot with a small probe script put first
in its ``<head>``: it records uncaught errors, unhandled promise rejections,
``console.error`` calls and resources that failed to load, and writes them as
JSON into ``<div id="js-errors">`` once the page has loaded, so the errors
come back in the dumped DOM (more reliable than parsing Chromium's log). The
browser resolves no host names (``--host-resolver-rules``), so anything the
page tries to fetch from the network fails and is reported: a page that works
here works offline.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import warnings
from html.parser import HTMLParser
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pytest

CHROMIUM_ENV = "COVERPLAN_CHROMIUM"
CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
TIMEOUT_S = 120

PROBE_ID = "js-errors"
PROBE = """<script>
(function () {
  var errors = [];
  function record(message) {
    errors.push(String(message));
    var div = document.getElementById("@ID@");
    if (div) { div.textContent = JSON.stringify(errors); }
  }
  window.addEventListener("error", function (e) {
    if (e instanceof ErrorEvent) {
      record("uncaught: " + e.message + " at " + e.filename + ":" + e.lineno + ":" + e.colno);
    } else if (e.target && e.target !== window) {
      record("failed to load <" + e.target.tagName.toLowerCase() + "> " + (e.target.src || e.target.href || ""));
    }
  }, true);
  window.addEventListener("unhandledrejection", function (e) { record("unhandled rejection: " + e.reason); });
  var consoleError = console.error;
  console.error = function () {
    record("console.error: " + Array.prototype.map.call(arguments, String).join(" "));
    return consoleError.apply(console, arguments);
  };
  window.addEventListener("load", function () {
    var div = document.createElement("div");
    div.id = "@ID@";
    div.setAttribute("data-probe", "loaded");
    div.style.display = "none";
    div.textContent = JSON.stringify(errors);
    document.body.appendChild(div);
  });
})();
</script>
""".replace("@ID@", PROBE_ID)

COMMON_FLAGS = (
    "--headless",
    "--no-sandbox",  # tests may run as root in containers
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--hide-scrollbars",
    "--host-resolver-rules=MAP * ~NOTFOUND",  # no network: a page needing it shows errors
    "--enable-logging=stderr",
    "--v=0",
)


class BrowserRender(NamedTuple):
    """What Chromium made of a page."""

    dom: str
    """The DOM after scripts ran (``--dump-dom``)."""
    js_errors: list[str]
    """Errors the probe recorded: uncaught, rejected, console.error, failed loads."""
    screenshot: Path
    """PNG of the window."""


def find_chromium() -> str | None:
    """Path of a Chromium binary, or None."""
    named = os.environ.get(CHROMIUM_ENV)
    if named:
        return shutil.which(named) or (named if Path(named).is_file() else None)
    for name in CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    return None


def require_chromium() -> str:
    """Chromium's path; skip the test without it, or fail it under CI."""
    found = find_chromium()
    if found is None:
        reason = (f"Chromium not found (looked for ${CHROMIUM_ENV}, {', '.join(CANDIDATES)}); "
                  "install it with: apt-get install chromium")
        if os.environ.get("CI"):
            pytest.fail(f"{reason}. CI must install it.")
        pytest.skip(reason)
    return found


def with_probe(page: str) -> str:
    """The page with the error probe as the first thing in its <head>."""
    lower = page.lower()
    start = lower.find("<head")
    if start >= 0:
        end = lower.find(">", start) + 1
        return page[:end] + "\n" + PROBE + page[end:]
    return PROBE + page


def _run(cmd: list[str], what: str) -> subprocess.CompletedProcess[str]:
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=TIMEOUT_S, check=False)
    except subprocess.TimeoutExpired as exc:
        raise AssertionError(f"Chromium did not finish the {what} in {TIMEOUT_S} s: {' '.join(cmd)}") from exc
    if proc.returncode != 0:
        raise AssertionError(f"Chromium failed the {what} (exit {proc.returncode}): {' '.join(cmd)}\n"
                             f"{proc.stderr[-3000:]}")
    return proc


def render_in_chromium(
    html_path: str | os.PathLike[str],
    tmp_path: Path,
    *,
    window_size: tuple[int, int] = (1200, 900),
    budget_ms: int = 5000,
) -> BrowserRender:
    """Load a page in headless Chromium: its DOM, its JavaScript errors, a screenshot.

    ``budget_ms`` is Chromium's virtual time budget: the page's timers and
    loads run until it is spent (or nothing is left to do), then the DOM is
    dumped or the screenshot taken.
    """
    chromium = require_chromium()
    work = Path(tmp_path) / "chromium"
    work.mkdir(parents=True, exist_ok=True)
    page = work / "page.html"
    page.write_text(with_probe(Path(html_path).read_text(encoding="utf-8")), encoding="utf-8")
    url = page.resolve().as_uri()
    flags = [*COMMON_FLAGS, f"--virtual-time-budget={budget_ms}", f"--window-size={window_size[0]},{window_size[1]}"]

    dom = _run([chromium, *flags, f"--user-data-dir={work / 'profile-dom'}", "--dump-dom", url], "DOM dump").stdout
    if PROBE_ID not in dom:
        raise AssertionError(f"the page did not finish loading in Chromium (no #{PROBE_ID} in the DOM): {url}")
    shot = work / "screenshot.png"
    _run([chromium, *flags, f"--user-data-dir={work / 'profile-shot'}", f"--screenshot={shot}", url], "screenshot")
    if not shot.is_file() or shot.stat().st_size == 0:
        raise AssertionError(f"Chromium wrote no screenshot for {url}")
    return BrowserRender(dom, _probe_errors(dom), shot)


class _Collector(HTMLParser):
    """Start tags of a document with their attributes, and the text of one element by id."""

    def __init__(self, want_id: str | None = None) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str]]] = []
        self.want_id = want_id
        self.text: str | None = None
        self._depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: (v or "") for k, v in attrs}
        self.tags.append((tag, a))
        if self._depth:
            self._depth += 1
        elif self.want_id is not None and a.get("id") == self.want_id:
            self._depth = 1
            self.text = ""

    def handle_endtag(self, tag: str) -> None:
        if self._depth:
            self._depth -= 1

    def handle_data(self, data: str) -> None:
        if self._depth and self.text is not None:
            self.text += data


def _probe_errors(dom: str) -> list[str]:
    parser = _Collector(PROBE_ID)
    parser.feed(dom)
    if parser.text is None:
        raise AssertionError(f"no #{PROBE_ID} element in the DOM")
    errors = json.loads(parser.text or "[]")
    return [str(e) for e in errors]


def elements(dom: str, tag: str | None = None, cls: str | None = None) -> list[dict[str, str]]:
    """Attributes of the elements of a DOM with a tag and/or a class."""
    parser = _Collector()
    parser.feed(dom)
    return [
        attrs for t, attrs in parser.tags
        if (tag is None or t == tag) and (cls is None or cls in attrs.get("class", "").split())
    ]


def elements_with_class(dom: str, cls: str) -> list[dict[str, str]]:
    """Attributes of the elements carrying a class."""
    return elements(dom, cls=cls)


def read_png(path: Path) -> np.ndarray:
    """Pixels of a PNG as (bands, rows, cols) uint8, decoded by GDAL through rasterio."""
    import rasterio
    from rasterio.errors import NotGeoreferencedWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NotGeoreferencedWarning)
        with rasterio.open(path) as ds:
            return ds.read()
