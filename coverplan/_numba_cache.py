"""Where numba keeps coverplan's compiled kernels: a folder keyed by the kernels' source.

numba's on-disk cache (``cache=True``) checks only the source file of the
function it loads. A kernel that calls a function of another module keeps,
compiled into it, the callee as it was when the kernel was compiled: after
an upgrade that changes only the callee's module (``radio/_kernels.py``'s
diffraction, say, called from ``radio/_polar.py``'s radial kernel), the
cache would load the old code and the run would print the old figures.

So the cache lives in a folder named by a hash of every kernel module's
source (the ``_*.py`` modules of the package's sub-packages, where the
kernels are: ``tests/test_structure.py`` checks that no ``@njit`` is
elsewhere): any change of any kernel gives a new, empty folder, and every
kernel is compiled afresh once. The folder is ``numba-<key>`` in
``$NUMBA_CACHE_DIR`` when the user sets it, else in the platform's user
cache folder for coverplan (``platformdirs``: ``~/.cache/coverplan`` on
Linux). Folders of other keys not used for :data:`STALE_DAYS` days are
removed, best effort. This runs when ``coverplan`` is imported, before any
kernel module imports numba.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sys
import time
from pathlib import Path

__all__ = ["STALE_DAYS", "configure", "kernel_sources", "source_key"]

#: Folders of other keys untouched this long are removed.
STALE_DAYS = 14

_PACKAGE = Path(__file__).resolve().parent


def kernel_sources() -> list[Path]:
    """The modules that may hold numba kernels: ``coverplan/<sub-package>/_*.py`` (not ``__init__.py``), sorted."""
    return sorted(p for p in _PACKAGE.glob("*/_*.py") if not p.name.startswith("__"))


def source_key() -> str:
    """A hash of the kernel modules' names and contents (16 hex digits)."""
    h = hashlib.blake2b(digest_size=8)
    for path in kernel_sources():
        h.update(path.relative_to(_PACKAGE).as_posix().encode())
        h.update(b"\0")
        h.update(path.read_bytes())
        h.update(b"\0")
    return h.hexdigest()


def configure() -> Path | None:
    """Point numba's cache at the folder of this source's key (created if need be); the folder, or None when no
    folder can be made (numba then keeps its own default)."""
    base = os.environ.get("NUMBA_CACHE_DIR")
    try:
        name = f"numba-{source_key()}"
    except OSError:
        return None
    if base and Path(base).name == name:  # set by this function in a parent process (a worker, a subprocess)
        parent = Path(base).parent
    elif base:
        parent = Path(base).expanduser()
    else:
        import platformdirs

        parent = Path(platformdirs.user_cache_dir("coverplan", appauthor=False))
    try:
        folder = parent / name
        folder.mkdir(parents=True, exist_ok=True)
        os.utime(folder)  # in use: the pruning below (of another version's process) leaves it
    except OSError:
        return None
    # numba reads NUMBA_CACHE_DIR when it is imported; if it already was, its config is set as well (a kernel
    # module's functions find their cache folder when they are decorated, which comes after this)
    os.environ["NUMBA_CACHE_DIR"] = str(folder)
    numba_config = sys.modules.get("numba.core.config")
    if numba_config is not None:
        numba_config.CACHE_DIR = str(folder)  # type: ignore[attr-defined]
    _prune(parent, folder)
    return folder


def _prune(parent: Path, keep: Path) -> None:
    """Remove ``numba-*`` folders of ``parent`` other than ``keep`` untouched for :data:`STALE_DAYS` days."""
    cutoff = time.time() - STALE_DAYS * 86400.0
    try:
        old = [p for p in parent.glob("numba-*") if p != keep and p.is_dir() and p.stat().st_mtime < cutoff]
    except OSError:
        return
    for p in old:
        shutil.rmtree(p, ignore_errors=True)
