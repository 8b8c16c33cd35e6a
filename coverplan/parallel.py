"""Per-site and per-tile work, in-process or on a dask.distributed cluster.

:func:`ordered_map` applies a function to a list of tasks and yields the
results in task order. In-process (the default) it simply loops: the numba
kernels inside each task already use every core. With ``threads=n`` (n > 1)
it runs the tasks in ``n`` threads of the process instead, each task's numba
kernels single-threaded (``numba.set_num_threads(1)`` is per thread), at
most :data:`LOOKAHEAD` tasks per thread ahead of the one the caller takes:
a task's kernels must release the GIL (``nogil=True``) for this to pay.
Given a dask.distributed
scheduler address (``"tcp://host:8786"``) or a ``distributed.Client``, the
tasks run on the cluster's workers, large shared arguments (the terrain)
are scattered once, and results stream back; a small reorder buffer keeps
the order, so results (and any best-server ties) do not depend on which
worker finished first.

Every worker receives the shared arguments whole: for the terrain, memory
grows with the region. :mod:`coverplan.radio.tiled` computes the signal
without that (each task reads its own DEM window; :func:`connected` gives it
the client).

``dask.distributed`` is optional: ``pip install 'coverplan[dask]'``.
:func:`check_scheduler` checks an address within :data:`CONNECT_TIMEOUT_S`
(5 s) before any work; :func:`coverplan.pipeline.run` calls it first.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterator, Sequence
from typing import Any, TypeVar

from coverplan.errors import InputError

__all__ = ["CONNECT_TIMEOUT_S", "LOOKAHEAD", "check_scheduler", "connected", "kernel_threads", "ordered_map"]

log = logging.getLogger(__name__)

R = TypeVar("R")

#: Seconds to wait for a scheduler to accept a connection, and then to greet it (a dask scheduler greets at
#: once with its handshake); past them an address is refused as not a reachable dask scheduler.
CONNECT_TIMEOUT_S = 5.0
#: A dask scheduler's greeting is about 60 bytes; a first frame longer than this is something else talking.
_MAX_GREETING_BYTES = 1 << 20
#: In-process threads: tasks started, per thread, ahead of the result the caller takes next (so at most
#: ``threads * (1 + LOOKAHEAD)`` results wait or are computed at once).
LOOKAHEAD = 1


def ordered_map(
    fn: Callable[..., R],
    tasks: Sequence[tuple[Any, ...]],
    *,
    shared: dict[str, Any] | None = None,
    scheduler: Any = None,
    threads: int = 1,
) -> Iterator[R]:
    """Yield ``fn(*task, **shared)`` for every task, in task order.

    Parameters
    ----------
    fn : callable
        A module-level function (it is pickled for remote workers).
    tasks : sequence of tuples
        Positional arguments of each call.
    shared : dict, optional
        Keyword arguments common to every call; on a cluster they are
        scattered to the workers once.
    scheduler : str or distributed.Client, optional
        A scheduler address or a client; ``None`` runs in-process.
    threads : int
        In-process only: run the tasks in this many threads, each with
        single-threaded numba kernels (1: one after the other in the
        caller's thread, the kernels on every core). The results and their
        order are the same.
    """
    kwargs = dict(shared or {})
    if scheduler is None:
        if threads > 1 and len(tasks) > 1:
            yield from _threaded(fn, tasks, kwargs, threads)
            return
        for task in tasks:
            yield fn(*task, **kwargs)
        return
    client, own = _client(scheduler)
    try:
        from distributed import as_completed

        # hash=False: a key of its own per call. With content keys, two loops scattering the same terrain share
        # one key, and the first loop's release can drop it under the second ("lost dependencies")
        remote = {k: client.scatter(v, broadcast=True, hash=False) for k, v in kwargs.items()}
        futures: list[Any] = [client.submit(fn, *task, **remote, pure=False) for task in tasks]
        index = {f.key: i for i, f in enumerate(futures)}
        waiting: dict[int, Any] = {}
        nxt = 0
        for future in as_completed(futures):
            waiting[index[future.key]] = future
            while nxt in waiting:
                yield waiting.pop(nxt).result()
                futures[nxt] = None  # drop the reference: the worker may free it
                nxt += 1
    finally:
        if own:
            client.close()


def kernel_threads() -> int:
    """The number of threads numba's parallel kernels use in the calling thread (``NUMBA_NUM_THREADS``, all cores,
    unless ``numba.set_num_threads`` lowered it): the default ``threads`` of a per-site :func:`ordered_map`."""
    import numba

    return int(numba.get_num_threads())


def _threaded(fn: Callable[..., R], tasks: Sequence[tuple[Any, ...]], kwargs: dict[str, Any],
              threads: int) -> Iterator[R]:
    """:func:`ordered_map` in ``threads`` threads: tasks submitted in order, at most ``threads * (1 +
    LOOKAHEAD)`` not yet taken, results yielded in order (a task's exception is raised when its turn comes).
    Closing the iterator early cancels the tasks not started and waits for the running ones."""
    import collections
    from concurrent.futures import Future, ThreadPoolExecutor

    import numba

    n = min(threads, len(tasks))
    pending: collections.deque[Future[R]] = collections.deque()
    pool = ThreadPoolExecutor(max_workers=n, thread_name_prefix="coverplan-site",
                              initializer=numba.set_num_threads, initargs=(1,))
    try:
        todo = iter(tasks)
        for task in todo:
            pending.append(pool.submit(fn, *task, **kwargs))
            if len(pending) >= n * (1 + LOOKAHEAD):
                break
        while pending:
            result = pending.popleft().result()
            for task in todo:
                pending.append(pool.submit(fn, *task, **kwargs))
                break
            yield result
            del result  # the caller's copy only: a finished window is not kept here until the next one
    finally:
        for future in pending:
            future.cancel()
        pool.shutdown(wait=True)


@contextlib.contextmanager
def connected(scheduler: Any) -> Iterator[Any]:
    """A ``distributed.Client`` for a scheduler address (checked first, closed at the end) or the client given."""
    client, own = _client(scheduler)
    try:
        yield client
    finally:
        if own:
            client.close()


def check_scheduler(scheduler: Any, *, timeout_s: float = CONNECT_TIMEOUT_S) -> None:
    """Check, within a few seconds and before any work, that ``scheduler`` is a dask.distributed scheduler.

    ``None`` (in-process) and a ``distributed.Client`` pass. An address
    (``"tcp://host:8786"``) must parse, and a ``tcp://`` address must accept a
    connection and greet the way a dask scheduler does within ``timeout_s``
    (:data:`CONNECT_TIMEOUT_S`): connecting ``distributed.Client`` to a
    server that is something else can hang for good (its handshake waits
    with no timeout) or read an HTTP reply as a frame length of exabytes.
    Every failure is an :class:`~coverplan.errors.InputError` naming the
    address and the fix.
    """
    if scheduler is None:
        return
    client_type = _distributed(scheduler).Client
    if isinstance(scheduler, client_type):
        return
    if not isinstance(scheduler, str) or not scheduler:
        raise InputError(f"scheduler must be an address such as 'tcp://host:8786' or a distributed.Client, "
                         f"got {scheduler!r}")
    from distributed.comm.addressing import parse_address, parse_host_port

    fix = "give tcp://HOST:PORT, e.g. tcp://10.0.0.5:8786 (8786 is a dask scheduler's default port)"
    try:
        scheme, loc = parse_address(scheduler)
        host, port = parse_host_port(loc) if scheme in ("tcp", "tls") else (loc, None)
    except ValueError:
        raise InputError(f"scheduler {scheduler!r} is not an address; {fix}") from None
    if scheme == "tcp" and port is not None:
        _probe(scheduler, str(host), int(port), timeout_s)


def _distributed(scheduler: Any) -> Any:
    try:
        import distributed
    except ImportError:
        raise InputError(f"scheduler {scheduler!r}: dask.distributed is not installed; pip install "
                         "'coverplan[dask]', or leave the scheduler (--scheduler) out to run in-process") from None
    return distributed


def _probe(address: str, host: str, port: int, timeout_s: float) -> None:
    """Connect to ``host:port`` and read the first frame a dask scheduler sends; raise if none comes."""
    import socket
    import struct
    import time

    deadline = time.monotonic() + timeout_s
    other = ("something else listens there (a dashboard, 8787 by default, or another service); give the "
             "scheduler's own address (tcp://HOST:8786 by default)")
    try:
        sock = socket.create_connection((host, port), timeout=timeout_s)
    except socket.gaierror as exc:
        raise InputError(f"cannot reach the dask scheduler at {address}: no host {host!r} ({exc.strerror}); "
                         "check the address") from None
    except ConnectionRefusedError:
        raise InputError(f"cannot reach the dask scheduler at {address}: nothing listens on port {port} of {host}; "
                         "start the scheduler (dask scheduler) or check the address") from None
    except TimeoutError:
        raise InputError(f"cannot reach the dask scheduler at {address}: no answer within {timeout_s:g} s "
                         "(a firewall, or the wrong host?); check the address") from None
    except OSError as exc:
        raise InputError(f"cannot reach the dask scheduler at {address} ({exc}); check the address") from None
    with sock:
        head = _read(sock, 8, deadline)
        if head is None:
            raise InputError(f"{address} accepted the connection but did not greet as a dask scheduler within "
                             f"{timeout_s:g} s: {other}")
        if not head:
            raise InputError(f"{address} closed the connection without greeting as a dask scheduler: {other}")
        size = struct.unpack("<Q", head)[0] if len(head) == 8 else 0
        body = _read(sock, size, deadline) if 8 <= size <= _MAX_GREETING_BYTES else b""
        if body is None or len(body) < size or not 8 <= size <= _MAX_GREETING_BYTES:
            raise InputError(f"{address} answered, but not as a dask scheduler (it sent {head!r}): {other}")


def _read(sock: Any, n: int, deadline: float) -> bytes | None:
    """Up to ``n`` bytes (fewer if the peer closes); None if nothing at all came before ``deadline``."""
    import time

    data = b""
    while len(data) < n:
        left = deadline - time.monotonic()
        if left <= 0:
            return data or None
        sock.settimeout(left)
        try:
            chunk = sock.recv(n - len(data))
        except TimeoutError:
            return data or None
        except OSError:
            return data
        if not chunk:
            return data
        data += chunk
    return data


def _client(scheduler: Any) -> tuple[Any, bool]:
    check_scheduler(scheduler)
    from distributed import Client

    if isinstance(scheduler, Client):
        return scheduler, False
    try:
        return Client(scheduler, timeout=f"{CONNECT_TIMEOUT_S}s"), True
    except (OSError, TimeoutError, ValueError) as exc:
        raise InputError(f"cannot reach the dask scheduler at {scheduler} ({exc}); is it running?") from None
