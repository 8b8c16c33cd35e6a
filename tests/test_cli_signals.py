"""A run stopped while it writes (SIGTERM, SIGKILL) and two runs to one folder, as real processes.

``python -m coverplan run`` runs the synthetic scenario in a subprocess with
the test-only hook ``COVERPLAN_TEST_PAUSE_WRITE`` (coverplan.writing), which
pauses it after the first file of its output folder is written into the
temporary folder: the test kills it there, or starts a second run.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from coverplan.cli import main
from coverplan.outfolder import MARKER, read_marker
from coverplan.output import OUTPUT_FILES
from coverplan.output.files import zone_map_files
from coverplan.testing import write_synthetic_scenario
from coverplan.writing import TEST_PAUSE_ENV

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_synthetic_scenario(tmp_path_factory.mktemp("syn"))


def _start(scenario: Path, out: Path, *extra: str, pause_s: float) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), TEST_PAUSE_ENV: str(pause_s)}
    # as from a terminal: pytest-xdist's workers ignore SIGINT, and a child inherits that (as a background job of
    # a script does, rightly), so the run starts with the default disposition, which Python turns into Ctrl-C
    return subprocess.Popen([sys.executable, "-m", "coverplan", "-q", "run", str(scenario), "-o", str(out), *extra],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=_default_sigint)


def _default_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _partial(out: Path) -> list[Path]:
    return sorted(out.parent.glob(f".{out.name}.*.part"))


def _wait_for_partial(proc: subprocess.Popen[str], out: Path, timeout_s: float = 120.0) -> Path:
    """The writer's temporary folder, once it holds a file of the main thread's (the writer is then paused).

    The GeoTIFFs are written on a thread of their own, which may put coverage.tif there before the main thread
    reaches its first write and the pause: a signal sent then lands on a busy main thread, so wait for a file
    the main thread writes (every one but the .tif).
    """
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout_s:
        found = [p for p in _partial(out) if any(f.suffix != ".tif" for f in p.iterdir())]
        if found:
            return found[0]
        if proc.poll() is not None:
            pytest.fail(f"the run ended ({proc.returncode}) before it wrote: {proc.communicate()[1]}")
        time.sleep(0.05)
    proc.kill()
    pytest.fail(f"no temporary folder beside {out} after {timeout_s} s")


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def _complete(out: Path) -> None:
    marker = read_marker(out)
    files = [*OUTPUT_FILES, *zone_map_files(1)]  # the synthetic region's one dead zone has a zoomed map
    assert marker is not None and marker["files"] == sorted(files)
    assert sorted(p.name for p in out.iterdir()) == sorted([MARKER, *files])
    assert all((out / name).stat().st_size > 0 for name in files)


def _only(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


@pytest.fixture
def good(synthetic: Path, tmp_path: Path) -> tuple[Path, dict[str, bytes]]:
    """An earlier, complete output folder, and its bytes."""
    out = tmp_path / "out"
    res = CliRunner().invoke(main, ["-q", "run", str(synthetic), "-o", str(out), "--no-map"])
    assert res.exit_code == 0, res.output
    return out, _snapshot(out)


@pytest.mark.parametrize(("sig", "code"), [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_sigterm_or_ctrl_c_while_writing_cleans_up_and_exits_128_plus_the_signal(
        synthetic: Path, good: tuple[Path, dict[str, bytes]], sig: signal.Signals, code: int) -> None:
    out, before = good
    proc = _start(synthetic, out, "--overwrite", pause_s=120)
    part = _wait_for_partial(proc, out)
    assert any(part.iterdir())
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=180)
    assert proc.returncode == code
    assert err == (f"Error: interrupted by {sig.name}; partial outputs were removed and earlier outputs are "
                   "unchanged\n")
    assert _snapshot(out) == before  # the earlier output, byte for byte
    assert _only(out.parent) == ["out"]  # no temporary folder, no lock file
    res = CliRunner().invoke(main, ["-q", "run", str(synthetic), "-o", str(out), "--overwrite"])
    assert res.exit_code == 0, res.output
    _complete(out)


def test_sigkill_while_writing_is_swept_by_the_next_run(synthetic: Path, good: tuple[Path, dict[str, bytes]]) -> None:
    out, before = good
    proc = _start(synthetic, out, "--overwrite", pause_s=120)
    part = _wait_for_partial(proc, out)
    proc.kill()
    proc.communicate(timeout=180)
    assert proc.returncode == -signal.SIGKILL
    # kill -9 cannot be cleaned up after: the earlier output is intact, the debris waits for the next run
    assert _snapshot(out) == before
    assert part.is_dir() and (out.parent / f".{out.name}.coverplan-lock").exists()
    res = CliRunner().invoke(main, ["-q", "run", str(synthetic), "-o", str(out), "--overwrite"])
    assert res.exit_code == 0, res.output
    _complete(out)
    assert _only(out.parent) == ["out"]


def test_sigkill_of_a_first_write_leaves_no_folder_and_the_next_run_completes(synthetic: Path, tmp_path: Path
                                                                              ) -> None:
    out = tmp_path / "new"
    proc = _start(synthetic, out, pause_s=120)
    _wait_for_partial(proc, out)
    proc.kill()
    proc.communicate(timeout=180)
    assert not out.exists()
    res = CliRunner().invoke(main, ["-q", "run", str(synthetic), "-o", str(out)])
    assert res.exit_code == 0, res.output
    _complete(out)
    assert _only(tmp_path) == ["new"]


def test_two_runs_to_one_folder_one_wins_the_other_is_refused(synthetic: Path, tmp_path: Path) -> None:
    other = synthetic.parent / f"other-{tmp_path.name}.toml"  # beside its inputs
    other.write_text(synthetic.read_text(encoding="utf-8").replace('name = "synthetic ridge"', 'name = "second run"'),
                     encoding="utf-8")
    out = tmp_path / "out"
    first = _start(synthetic, out, pause_s=3)
    _wait_for_partial(first, out)
    res = CliRunner().invoke(main, ["-q", "run", str(other), "-o", str(out), "--overwrite"])
    assert res.exit_code == 2
    assert res.stderr.startswith(f"Error: {out}: another coverplan run (pid {first.pid} on ")
    assert res.stderr.endswith(") is writing it; wait for it to finish or choose another output folder\n")
    assert res.stderr.count("\n") == 1
    _, err = first.communicate(timeout=120)
    assert first.returncode == 0, err
    _complete(out)
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["scenario"] == "synthetic ridge"  # the winner's results, whole
    assert _only(tmp_path) == ["out"]
