"""The HTTP client of ``coverplan fetch``: cached, polite, and clear when it fails.

Built on ``requests`` (the field's HTTP client; its streaming, timeouts and
connection errors are well understood) rather than the standard library. Every
request goes through :class:`Client`, which

- looks in the :class:`~coverplan.fetch.cache.Cache` first and makes no
  request for what is there (and none at all when offline);
- sends one request at a time, with a ``User-Agent`` naming coverplan (the
  Overpass and Nominatim usage policies ask for one);
- on HTTP 429 or 503 waits as long as the server's ``Retry-After`` says (in
  seconds or as an HTTP date), and on 502/504 or a connection that fails backs
  off 1, 2, 4... seconds; never more than ``retries`` times nor longer than
  ``max_wait_s`` in all, then gives up with the server's answer;
- checks a body against its ``Content-Length`` (a body cut short is an error,
  never a file);
- turns every failure into a one-line :class:`~coverplan.errors.FetchError`
  naming the source, the URL, what happened and what to do.

``requests_made`` counts the requests sent, for the summary ``init`` prints.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import json
import logging
import re
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from coverplan import __version__
from coverplan.errors import FetchError
from coverplan.fetch.cache import Cache, Entry

__all__ = ["Client", "HttpSettings", "Validator", "status_message"]

log = logging.getLogger(__name__)

#: A check of a downloaded body before it is cached: raises FetchError when the body is a server's error.
Validator = Callable[[Path], None]

_SECRET = re.compile(r"((?:key|token|api_key|apikey)=)[^&\s\"']+", re.IGNORECASE)


class _Redact(logging.Filter):
    """Hide API keys in the URLs urllib3 logs at debug level (``coverplan -vv``)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(_SECRET.sub(r"\1***", a) if isinstance(a, str) else a for a in record.args)
        if isinstance(record.msg, str):
            record.msg = _SECRET.sub(r"\1***", record.msg)
        return True


logging.getLogger("urllib3.connectionpool").addFilter(_Redact())

USER_AGENT = f"coverplan/{__version__} (coverage planning; python-requests)"
#: Statuses worth asking again: the server is busy (429, 503) or a gateway timed out (502, 504: Overpass's answer
#: when its queue is full).
RETRY_STATUSES = (429, 502, 503, 504)


@dataclass(frozen=True)
class HttpSettings:
    """How patient the client is: ``timeout_s`` per connection and read, ``retries`` after the first try,
    ``backoff_s`` the first pause when the server gives no ``Retry-After`` (doubled each time), ``max_wait_s``
    the most it waits in all for one request."""

    timeout_s: float = 60.0
    retries: int = 4
    backoff_s: float = 1.0
    max_wait_s: float = 300.0


def _host(url: str) -> str:
    return urlsplit(url).netloc or url


def retry_after_s(value: str | None, *, now: float | None = None) -> float | None:
    """A ``Retry-After`` header in seconds: a number of seconds or an HTTP date (RFC 9110 §10.2.3); None if
    absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


class Client:
    """Cached HTTP for the fetchers; see the module's text. ``progress`` shows a byte counter on stderr for
    downloads."""

    def __init__(self, cache: Cache, *, settings: HttpSettings | None = None, progress: bool = False) -> None:
        self.cache = cache
        self.settings = settings or HttpSettings()
        self.progress = progress
        self.requests_made = 0
        self._session: Any = None

    @property
    def offline(self) -> bool:
        return self.cache.offline

    def session(self) -> Any:
        if self._session is None:
            import requests

            self._session = requests.Session()
            self._session.headers["User-Agent"] = USER_AGENT
        return self._session

    # -- whole downloads --------------------------------------------------------------------------------------
    def get(self, source: str, url: str, *, params: Mapping[str, Any] | None = None, suffix: str = ".bin",
            meta: Mapping[str, Any] | None = None, hide: tuple[str, ...] = (), validate: Validator | None = None,
            timeout_s: float | None = None) -> Entry:
        """GET ``url`` into the cache (or take it from there). ``hide`` names query parameters (an API key) left out
        of the key, the sidecar and every message. ``validate(path)`` checks the body before it is cached (a
        server's error in a 200 answer): it raises :class:`~coverplan.errors.FetchError`, and nothing is kept."""
        shown = _shown_url(url, params, hide)
        key = Cache.key("GET", shown)
        return self._cached(source, key, suffix, shown, lambda: self._request(
            source, "GET", url, shown, params=params, timeout_s=timeout_s), meta, validate)

    def post(self, source: str, url: str, data: Mapping[str, str], *, suffix: str = ".json",
             meta: Mapping[str, Any] | None = None, validate: Validator | None = None,
             timeout_s: float | None = None, wait_hint: Callable[[], float | None] | None = None) -> Entry:
        """POST form ``data`` to ``url`` (an Overpass query) into the cache, keyed by the URL and the data; ``validate``
        and ``timeout_s`` as for :meth:`get`. ``wait_hint()`` says how long to wait after a busy answer that has
        no ``Retry-After`` (Overpass's own status page does), None when it cannot tell."""
        key = Cache.key("POST", url, json.dumps(dict(data), sort_keys=True))
        return self._cached(source, key, suffix, url, lambda: self._request(
            source, "POST", url, url, data=data, timeout_s=timeout_s, wait_hint=wait_hint), meta, validate)

    def text(self, url: str, *, timeout_s: float = 10.0) -> str | None:
        """One uncached GET of a small text (a status page), no retries; None on any failure."""
        import requests

        try:
            self.requests_made += 1
            response = self.session().get(url, timeout=timeout_s)
        except requests.exceptions.RequestException:
            return None
        return str(response.text) if response.ok else None

    def json(self, entry: Entry, source: str) -> Any:
        """The JSON document of a cached download; a body that is not JSON is a FetchError naming the source."""
        try:
            return json.loads(entry.path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise FetchError(f"{source}: {entry.meta.get('url', entry.path)} did not answer JSON ({exc}); the "
                             "server may be overloaded: try again later") from None

    def head(self, source: str, url: str) -> int:
        """The status of a HEAD request (200, 404...), after the retries; connection failures raise."""
        response = self._send(source, "HEAD", url, url, stream=False)
        response.close()
        return int(response.status_code)

    def _cached(self, source: str, key: str, suffix: str, shown: str, fetch: Any,
                meta: Mapping[str, Any] | None, validate: Validator | None = None) -> Entry:
        entry = self.cache.get(key, suffix)
        if entry is not None:
            return entry
        if self.offline:
            self.cache.require(key, suffix, source=source, url=shown)  # raises NotCachedError
        response = fetch()
        info = {"source": source, "url": shown, **(meta or {})}

        def write(tmp: Path) -> None:
            self._save(source, shown, response, tmp)
            if validate is not None:
                validate(tmp)

        return self.cache.put(key, suffix, write, info)

    # -- the wire ---------------------------------------------------------------------------------------------
    def _request(self, source: str, method: str, url: str, shown: str, **kw: Any) -> Any:
        response = self._send(source, method, url, shown, **kw)
        if response.status_code >= 400:
            response.close()
            raise FetchError(status_message(source, shown, int(response.status_code), response.reason or ""))
        return response

    def _send(self, source: str, method: str, url: str, shown: str, *, stream: bool = True,
              timeout_s: float | None = None, wait_hint: Callable[[], float | None] | None = None,
              **kw: Any) -> Any:
        import requests

        s = self.settings
        timeout = max(s.timeout_s, timeout_s or 0.0)
        waited, pause = 0.0, s.backoff_s
        for attempt in range(s.retries + 1):
            last = attempt == s.retries
            try:
                self.requests_made += 1
                response = self.session().request(method, url, timeout=timeout, stream=stream, **kw)
            except requests.exceptions.RequestException as exc:
                what = _network_cause(exc)
                if last or waited + pause > s.max_wait_s:
                    raise FetchError(f"{source}: {shown}: {what} after {attempt + 1} tries; check the network "
                                     "connection (or run with --offline from a filled cache)") from None
                wait = pause
                log.warning("%s: %s: %s; trying again in %.0f s", source, _host(url), what, wait)
            else:
                if response.status_code not in RETRY_STATUSES:
                    return response
                asked = retry_after_s(response.headers.get("Retry-After"))
                if asked is None and wait_hint is not None:
                    asked = wait_hint()
                wait = pause if asked is None else asked
                if last or waited + wait > s.max_wait_s:
                    return response  # the caller turns it into an error naming the status
                response.close()
                log.warning("%s: %s answered %s %s; waiting %.0f s%s, then trying again", source, _host(url),
                            response.status_code, response.reason, wait, " as it asks" if asked is not None else "")
            time.sleep(wait)
            waited += wait
            pause *= 2
        raise AssertionError("unreachable")  # pragma: no cover

    def _save(self, source: str, shown: str, response: Any, tmp: Path) -> None:
        import requests

        expected = response.headers.get("Content-Length")
        expected_n = int(expected) if expected and expected.isdigit() else None
        got = 0
        bar = self._bar(source, expected_n)
        try:
            with open(tmp, "wb") as fh:
                for block in response.iter_content(chunk_size=1 << 16):
                    fh.write(block)
                    got += len(block)
                    if bar is not None:
                        bar.update(len(block))
        except requests.exceptions.RequestException as exc:
            raise FetchError(f"{source}: {shown}: the download was cut short after {got:,} bytes "
                             f"({_network_cause(exc)}); nothing was kept: try again") from None
        finally:
            response.close()
            if bar is not None:
                bar.close()
        if expected_n is not None and got != expected_n and not response.headers.get("Content-Encoding"):
            raise FetchError(f"{source}: {shown}: the download was cut short ({got:,} of {expected_n:,} bytes); "
                             "nothing was kept: try again")

    def _bar(self, source: str, total: int | None) -> Any:
        if not self.progress:
            return None
        from tqdm import tqdm

        return tqdm(total=total, desc=source, unit="B", unit_scale=True, unit_divisor=1024, file=sys.stderr,
                    leave=False, dynamic_ncols=True)


def _shown_url(url: str, params: Mapping[str, Any] | None, hide: tuple[str, ...]) -> str:
    if not params:
        return url
    from urllib.parse import urlencode

    shown = {k: ("***" if k in hide else v) for k, v in params.items()}
    return f"{url}?{urlencode(shown)}"


def _network_cause(exc: Exception) -> str:
    import requests

    if isinstance(exc, requests.exceptions.ConnectTimeout | requests.exceptions.ReadTimeout):
        return "no answer in time (timed out)"
    if isinstance(exc, requests.exceptions.ConnectionError):
        text = str(exc)
        if "Connection refused" in text or "Errno 111" in text:
            return "connection refused (the server is down or the address is wrong)"
        if "Name or service not known" in text or "getaddrinfo" in text or "NameResolution" in text:
            return "the host name cannot be resolved (no network, or a wrong address)"
        if isinstance(exc, requests.exceptions.ChunkedEncodingError) or "IncompleteRead" in text:
            return "the connection closed before the body ended"
        return "the connection failed"
    return type(exc).__name__


_HINTS = {
    400: "the request was refused as malformed; report this as a coverplan bug",
    401: "the key or login was refused; check the API key",
    403: "access was refused; check the API key or the URL",
    404: "nothing is there; check the URL (or the source's URL template)",
    408: "the server timed out; try again later",
    410: "it is gone; check the source's URL template",
    429: "too many requests; wait a few minutes and try again (the cache keeps what was fetched)",
    500: "the server failed; try again later",
    502: "a gateway failed; try again later",
    503: "the server is busy or down; try again later",
    504: "the server timed out (Overpass does when busy, or when the area is too large); try again later or "
         "a smaller area",
}


def status_message(source: str, shown: str, code: int, reason: str = "") -> str:
    """The one-line message for an HTTP error status: the source, the URL, the status and what to do."""
    hint = _HINTS.get(code, "try again later" if code >= 500 else "check the URL")
    return f"{source}: {shown} answered HTTP {code} {reason or ''}".rstrip() + f"; {hint}"
