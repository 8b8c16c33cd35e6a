"""The command line as a process: its garbage collection (``coverplan.cli.CoverplanGroup.__call__``).

The process's entry makes full collections rarer and freezes the garbage collector's objects at exit, so that
the interpreter's shutdown skips a last full collection over every library's objects; these tests check that it
happens only there, and that the outputs of a whole process are the ones the same command writes in-process.
"""

from __future__ import annotations

import gc
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from coverplan.cli import FULL_COLLECTION_THRESHOLD, main
from coverplan.testing import write_synthetic_scenario

ROOT = Path(__file__).resolve().parents[1]


def _run(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=False,
                          timeout=300)


def test_the_process_entry_freezes_the_objects_at_exit() -> None:
    """An exit handler registered before ``main`` runs after the command line's own (last in, first out): it
    sees every object frozen; without the command line, none is."""
    probe = ("import atexit, gc, sys\n"
             "atexit.register(lambda: print('frozen', gc.get_freeze_count(), file=sys.stderr))\n"
             "{}")
    called = _run(probe.format("from coverplan.cli import main\nmain(['--version'], prog_name='coverplan')"))
    assert called.returncode == 0, called.stderr
    frozen = int(called.stderr.split("frozen ")[1].split()[0])
    assert frozen > 10_000, called.stderr
    plain = _run(probe.format("import coverplan.cli"))
    assert plain.returncode == 0 and "frozen 0" in plain.stderr, plain.stderr


def test_the_process_entry_makes_full_collections_rarer() -> None:
    """The oldest generation's threshold is raised to FULL_COLLECTION_THRESHOLD, the young ones kept (a larger
    one set by the user is kept too)."""
    probe = ("import gc\ngc.set_threshold(500, 7, {})\nfrom coverplan.cli import main\n"
             "try:\n    main(['--version'])\nexcept SystemExit:\n    pass\nprint(*gc.get_threshold())")
    for old, want in ((10, FULL_COLLECTION_THRESHOLD), (1000, 1000)):
        res = _run(probe.format(old))
        assert res.returncode == 0, res.stderr
        assert res.stdout.split()[-3:] == ["500", "7", str(want)], res.stdout


def test_clirunner_and_library_callers_keep_the_usual_collection_and_exit() -> None:
    """``main.main`` (what CliRunner calls) changes nothing: a test session's objects stay collectable."""
    before, thresholds = gc.get_freeze_count(), gc.get_threshold()
    result = CliRunner().invoke(main, ["--version"])
    assert result.exit_code == 0, result.output
    assert gc.get_freeze_count() == before and gc.get_threshold() == thresholds
    assert not _registered_at_exit()


def _registered_at_exit() -> bool:
    """Whether the command line's exit handler is registered in this process (``atexit.unregister`` says nothing;
    ``atexit._ncallbacks`` counts them)."""
    import atexit

    from coverplan.cli import _skip_final_collection

    n = atexit._ncallbacks()
    atexit.unregister(_skip_final_collection)
    return atexit._ncallbacks() != n


def test_a_whole_process_writes_what_the_command_writes_in_process(tmp_path: Path) -> None:
    """``python -m coverplan coverage`` (frozen at exit) and the same command through CliRunner: the same
    GeoTIFFs, byte for byte."""
    scenario = write_synthetic_scenario(tmp_path / "syn")
    args = ["-q", "coverage", "--dem", str(scenario.parent / "dem.tif"), "--sites", str(scenario.parent / "sites.csv"),
            "--model", "itm", "--radius-km", "1"]
    res = subprocess.run([sys.executable, "-m", "coverplan", *args, "-o", str(tmp_path / "process")],
                         capture_output=True, text=True, cwd=ROOT, check=False, timeout=300)
    assert res.returncode == 0, res.stderr
    result = CliRunner().invoke(main, [*args, "-o", str(tmp_path / "runner")])
    assert result.exit_code == 0, result.output
    names = sorted(p.name for p in (tmp_path / "process").glob("*.tif"))
    assert names and names == sorted(p.name for p in (tmp_path / "runner").glob("*.tif"))
    for name in names:
        assert (tmp_path / "process" / name).read_bytes() == (tmp_path / "runner" / name).read_bytes(), name
