"""Real servers on 127.0.0.1 that are not dask schedulers, for the --scheduler cases (no mocks)."""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Iterator


@contextlib.contextmanager
def tcp_server(greeting: bytes | None, *, close: bool = False) -> Iterator[str]:
    """A TCP server on 127.0.0.1 that sends ``greeting`` (None: nothing) to whoever connects, then holds the
    connection (or closes it); yields its ``tcp://`` address."""
    srv = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()
    conns: list[socket.socket] = []

    def serve() -> None:
        srv.settimeout(0.1)
        while not stop.is_set():
            try:
                conn, _ = srv.accept()
            except TimeoutError:
                continue
            conns.append(conn)
            if greeting:
                conn.sendall(greeting)
            if close:
                conn.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"tcp://127.0.0.1:{srv.getsockname()[1]}"
    finally:
        stop.set()
        thread.join()
        for c in conns:
            c.close()
        srv.close()


@contextlib.contextmanager
def http_server() -> Iterator[str]:
    """An HTTP server on 127.0.0.1 (it waits for a request, as dask's dashboard does); yields its address."""
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    srv = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"tcp://127.0.0.1:{srv.server_address[1]}"
    finally:
        srv.shutdown()
        srv.server_close()


def closed_port() -> int:
    """A port on 127.0.0.1 where nothing listens (bound, then released)."""
    with socket.create_server(("127.0.0.1", 0)) as s:
        return int(s.getsockname()[1])
