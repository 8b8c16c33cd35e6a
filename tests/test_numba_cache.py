"""numba's cache folder is keyed by every kernel module's source (coverplan._numba_cache)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from coverplan import _numba_cache

PACKAGE = Path(_numba_cache.__file__).resolve().parent


def test_every_kernel_is_in_a_keyed_module() -> None:
    """A numba function anywhere else would escape the key: its callees' changes would not reach its cache."""
    decorated = re.compile(r"^\s*@(numba\.)?(njit|jit|vectorize|guvectorize|cfunc|stencil)\b", re.M)
    keyed = set(_numba_cache.kernel_sources())
    holders = {p for p in PACKAGE.rglob("*.py") if decorated.search(p.read_text(encoding="utf-8"))}
    assert holders, "no numba kernel found: the pattern is wrong"
    assert holders <= keyed, f"numba kernels outside the keyed modules: {sorted(map(str, holders - keyed))}"
    assert PACKAGE / "radio" / "_polar.py" in keyed and PACKAGE / "radio" / "_kernels.py" in keyed


def test_the_key_follows_any_kernel_modules_source(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    copy = tmp_path / "coverplan"
    for p in _numba_cache.kernel_sources():
        dst = copy / p.relative_to(PACKAGE)
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(p, dst)
    monkeypatch.setattr(_numba_cache, "_PACKAGE", copy)
    key = _numba_cache.source_key()
    assert key == _numba_cache.source_key() and re.fullmatch(r"[0-9a-f]{16}", key)
    callee = copy / "radio" / "_kernels.py"
    callee.write_text(callee.read_text(encoding="utf-8") + "\n# a change of a callee only\n", encoding="utf-8")
    assert _numba_cache.source_key() != key


def test_configure_nests_once_in_the_users_folder_and_prunes_old_keys(tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    old = tmp_path / "numba-0000000000000000"
    old.mkdir()
    recent = tmp_path / "numba-1111111111111111"
    recent.mkdir()
    past = time.time() - (_numba_cache.STALE_DAYS + 1) * 86400.0
    os.utime(old, (past, past))
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(tmp_path))
    config = sys.modules.get("numba.core.config")
    if config is not None:  # configure() sets it; this process's later kernels keep the session's folder
        monkeypatch.setattr(config, "CACHE_DIR", config.CACHE_DIR)
    folder = _numba_cache.configure()
    assert folder == tmp_path / f"numba-{_numba_cache.source_key()}" and folder.is_dir()
    assert os.environ["NUMBA_CACHE_DIR"] == str(folder)
    assert not old.exists() and recent.exists()  # another version's folder in use recently is left
    assert _numba_cache.configure() == folder  # a subprocess inheriting the variable: the same folder, not nested


def test_numba_caches_in_the_keyed_folder(tmp_path: Path) -> None:
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path)}
    code = "import coverplan, numba.core.config as c, os; print(c.CACHE_DIR); print(os.environ['NUMBA_CACHE_DIR'])"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    want = str(tmp_path / f"numba-{_numba_cache.source_key()}")
    assert out.stdout.split() == [want, want]
    # numba imported before coverplan: its config is set too
    code = "import numba.core.config as c, coverplan; print(c.CACHE_DIR)"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == want
