"""Per-site and per-tile work, in-process or on a dask.distributed cluster.

:func:`ordered_map` applies a function to a list of tasks and yields the
results in task order. In-process (the default) it simply loops: the numba
kernels inside each task already use every core. Given a dask.distributed
scheduler address (``"tcp://host:8786"``) or a ``distributed.Client``, the
tasks run on the cluster's workers, large shared arguments (the terrain)
are scattered once, and results stream back; a small reorder buffer keeps
the order, so results (and any best-server ties) do not depend on which
worker finished first.

``dask.distributed`` is optional: ``pip install 'coverplan[dask]'``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from typing import Any, TypeVar

from coverplan.errors import InputError

__all__ = ["ordered_map"]

log = logging.getLogger(__name__)

R = TypeVar("R")

#: Seconds to wait for a scheduler to answer.
CONNECT_TIMEOUT_S = 10.0


def ordered_map(
    fn: Callable[..., R],
    tasks: Sequence[tuple[Any, ...]],
    *,
    shared: dict[str, Any] | None = None,
    scheduler: Any = None,
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
    """
    kwargs = dict(shared or {})
    if scheduler is None:
        for task in tasks:
            yield fn(*task, **kwargs)
        return
    client, own = _client(scheduler)
    try:
        from distributed import as_completed

        remote = {k: client.scatter(v, broadcast=True) for k, v in kwargs.items()}
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


def _client(scheduler: Any) -> tuple[Any, bool]:
    try:
        from distributed import Client
    except ImportError:
        raise InputError("a scheduler was given but dask.distributed is not installed; "
                         "pip install 'coverplan[dask]'") from None
    if isinstance(scheduler, Client):
        return scheduler, False
    if not isinstance(scheduler, str) or not scheduler:
        raise InputError(f"scheduler must be an address such as 'tcp://host:8786' or a distributed.Client, "
                         f"got {scheduler!r}")
    try:
        return Client(scheduler, timeout=f"{CONNECT_TIMEOUT_S}s"), True
    except OSError as exc:
        raise InputError(f"cannot reach the dask scheduler at {scheduler} ({exc}); is it running?") from None
