"""A real HTTP server on 127.0.0.1 for the fetch tests: files with Range support, answers to POSTs, faults.

No mocks: the code under test talks HTTP over a socket to this server, as it would to a provider. The server
counts every request and every body byte it sends, per path, so tests can say "a second init makes no request"
and "the window read moved under 30 % of the tile".
"""

from __future__ import annotations

import contextlib
import re
import threading
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


@dataclass
class Fault:
    """One planned answer instead of the file: a status (with headers), or the file cut short after ``cut``
    bytes of its body."""

    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    cut: int | None = None


@dataclass
class FetchServer:
    """The state of a running server: ``files`` by path, ``posts`` (path -> function of the form body),
    ``faults`` (path -> answers to give first, in order), and the counters."""

    url: str = ""
    files: dict[str, bytes] = field(default_factory=dict)
    posts: dict[str, Callable[[dict[str, list[str]]], bytes]] = field(default_factory=dict)
    faults: dict[str, list[Fault]] = field(default_factory=lambda: defaultdict(list))
    requests: list[tuple[str, str, str]] = field(default_factory=list)  # (method, path, range)
    bytes_sent: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    lock: threading.Lock = field(default_factory=threading.Lock)

    def count(self, path: str | None = None, method: str | None = None) -> int:
        with self.lock:
            return sum(1 for m, p, _ in self.requests if (path is None or p == path)
                       and (method is None or m == method))

    def reset(self) -> None:
        with self.lock:
            self.requests.clear()
            self.bytes_sent.clear()


_RANGE = re.compile(r"bytes=(\d+)-(\d*)")


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    state: FetchServer

    def log_message(self, *args: object) -> None:  # quiet
        pass

    def _fault(self, path: str) -> Fault | None:
        with self.state.lock:
            queue = self.state.faults.get(path)
            return queue.pop(0) if queue else None

    def _send(self, status: int, body: bytes, headers: dict[str, str], *, head: bool = False,
              cut: int | None = None, path: str = "") -> None:
        self.send_response(status)
        for k, v in headers.items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if head:
            return
        out = body if cut is None else body[:cut]
        self.wfile.write(out)
        with self.state.lock:
            self.state.bytes_sent[path] += len(out)
        if cut is not None:
            self.close_connection = True

    def _record(self, path: str) -> None:
        with self.state.lock:
            self.state.requests.append((self.command, path, self.headers.get("Range", "")))

    def do_HEAD(self) -> None:
        self._get(head=True)

    def do_GET(self) -> None:
        self._get(head=False)

    def _get(self, *, head: bool) -> None:
        path = urlsplit(self.path).path
        self._record(path)
        fault = self._fault(path)
        if fault is not None and fault.cut is None:
            self._send(fault.status, fault.body, fault.headers, head=head, path=path)
            return
        body = self.state.files.get(path)
        if body is None:
            self._send(404, b"not found", {"Content-Type": "text/plain"}, head=head, path=path)
            return
        rng = _RANGE.fullmatch(self.headers.get("Range", "").strip())
        if rng and not head:
            start = int(rng.group(1))
            end = min(int(rng.group(2)) if rng.group(2) else len(body) - 1, len(body) - 1)
            part = body[start:end + 1]
            self._send(206, part, {"Content-Range": f"bytes {start}-{end}/{len(body)}",
                                   "Accept-Ranges": "bytes"}, cut=fault.cut if fault else None, path=path)
            return
        self._send(200, body, {"Accept-Ranges": "bytes", "Content-Type": "application/octet-stream"},
                   head=head, cut=fault.cut if fault else None, path=path)

    def do_POST(self) -> None:
        path = urlsplit(self.path).path
        self._record(path)
        n = int(self.headers.get("Content-Length", "0"))
        form = parse_qs(self.rfile.read(n).decode("utf-8"))
        fault = self._fault(path)
        if fault is not None and fault.cut is None:
            self._send(fault.status, fault.body, fault.headers, path=path)
            return
        answer = self.state.posts.get(path)
        if answer is None:
            self._send(404, b"not found", {}, path=path)
            return
        self._send(200, answer(form), {"Content-Type": "application/json"},
                   cut=fault.cut if fault else None, path=path)


def _handler(state: FetchServer) -> type[BaseHTTPRequestHandler]:
    return type("Handler", (_Handler,), {"state": state})


@contextlib.contextmanager
def fetch_server() -> Iterator[FetchServer]:
    """Start a server on 127.0.0.1 (a free port); yields its state, ``url`` its base (``http://127.0.0.1:N``)."""
    state = FetchServer()
    srv = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    srv.daemon_threads = True
    state.url = f"http://127.0.0.1:{srv.server_address[1]}"
    thread = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        srv.shutdown()
        srv.server_close()
        thread.join(timeout=5)
