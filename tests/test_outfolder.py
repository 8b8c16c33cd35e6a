"""The output folder (coverplan.outfolder): the marker, what --overwrite may replace, the lock and the sweep."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from click.testing import CliRunner

from coverplan.cli import main
from coverplan.errors import OutputBusyError, OutputExistsError, OutputFolderError
from coverplan.outfolder import MARKER, checked_target, claim_output, output_folder, read_marker
from coverplan.output import OUTPUT_FILES
from coverplan.output.files import MAP_FILES, zone_map_files
from coverplan.testing import write_synthetic_scenario
from coverplan.writing import atomic_path, owner_tag


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_synthetic_scenario(tmp_path_factory.mktemp("syn"))


def _listing(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def _dead_pid() -> int:
    """The id of a process that has ended (and been reaped)."""
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def _run(*args: str) -> tuple[int, str]:
    res = CliRunner().invoke(main, ["-q", *args])
    return res.exit_code, res.stderr


# --- the marker and --overwrite -----------------------------------------------------------------------------


def test_every_output_folder_has_the_marker(synthetic: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    code, err = _run("run", str(synthetic), "-o", str(out))
    assert code == 0, err
    files = [*OUTPUT_FILES, *zone_map_files(1)]  # the synthetic region's one dead zone has a zoomed map
    assert _listing(out) == sorted([MARKER, *files])
    marker = read_marker(out)
    assert marker is not None
    assert marker["command"] == "coverplan run" and marker["written_by"].startswith("coverplan ")
    assert marker["files"] == sorted(files)


def test_overwrite_refuses_a_folder_coverplan_did_not_write(synthetic: Path, tmp_path: Path) -> None:
    out = tmp_path / "notes"
    out.mkdir()
    (out / "my_notes.txt").write_text("mine")
    for extra in ([], ["--overwrite"]):
        code, err = _run("run", str(synthetic), "-o", str(out), *extra)
        assert code == 2
        assert err == (f"Error: {out}: exists and coverplan did not write it (it has no {MARKER} file); choose an "
                       "empty or new output folder (--overwrite replaces only a coverplan output folder)\n")
    assert _listing(out) == ["my_notes.txt"] and (out / "my_notes.txt").read_text() == "mine"
    assert _listing(tmp_path) == ["notes"]


def test_overwrite_replaces_a_coverplan_folder(synthetic: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert _run("run", str(synthetic), "-o", str(out))[0] == 0
    code, err = _run("run", str(synthetic), "-o", str(out))
    assert (code, err) == (2, f"Error: {out}: exists; pass --overwrite to replace it\n")
    code, err = _run("run", str(synthetic), "-o", str(out), "--overwrite", "--no-map")
    assert code == 0, err
    assert _listing(out) == sorted({MARKER, *OUTPUT_FILES} - set(MAP_FILES))  # no maps: no zoomed maps either
    assert _listing(tmp_path) == ["out"]  # the old folder, set aside, is gone


def test_overwrite_refuses_a_coverplan_folder_holding_a_users_file(synthetic: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert _run("run", str(synthetic), "-o", str(out), "--no-map")[0] == 0
    (out / "my_notes.txt").write_text("mine")
    (out / ".DS_Store").write_bytes(b"finder")  # a file browser's leftovers do not count
    code, err = _run("run", str(synthetic), "-o", str(out), "--overwrite")
    assert code == 2
    assert err == (f"Error: {out}: holds my_notes.txt, which coverplan did not write; --overwrite replaces the whole "
                   "folder, so move them out of it or choose an empty or new folder\n")
    assert (out / "my_notes.txt").read_text() == "mine"
    (out / "my_notes.txt").unlink()
    assert _run("run", str(synthetic), "-o", str(out), "--overwrite")[0] == 0
    assert "map.html" in _listing(out) and ".DS_Store" not in _listing(out)


def test_a_broken_marker_is_no_marker(synthetic: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / MARKER).write_text("{not json")
    (out / "summary.json").write_text("{}")
    code, err = _run("run", str(synthetic), "-o", str(out), "--overwrite")
    assert code == 2 and "coverplan did not write it" in err
    assert _listing(out) == sorted([MARKER, "summary.json"])


def test_an_empty_folder_is_used_as_it_is(synthetic: Path, tmp_path: Path) -> None:
    out = tmp_path / "empty"
    out.mkdir()
    code, err = _run("run", str(synthetic), "-o", str(out), "--no-map")
    assert code == 0, err
    assert MARKER in _listing(out)


@pytest.mark.parametrize("where", [".", "..", "{cwd}", "{cwd}/."])
def test_the_working_folder_and_its_parents_are_refused(synthetic: Path, tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch, where: str) -> None:
    cwd = tmp_path / "work" / "here"
    cwd.mkdir(parents=True)
    monkeypatch.chdir(cwd)
    arg = where.format(cwd=cwd)
    for extra in ([], ["--overwrite"]):
        code, err = _run("run", str(synthetic), "-o", arg, *extra)
        assert code == 2
        assert err.count("\n") == 1 and err.startswith(f"Error: {Path(arg)}"), err
        assert ": is the working folder or holds it; coverplan replaces its output folder whole, so give a new " \
            "folder (such as ./coverplan-out)" in err
    assert _listing(tmp_path) == ["work"] and _listing(tmp_path / "work") == ["here"] and _listing(cwd) == []


def test_a_marked_working_folder_is_not_replaced(synthetic: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                                 ) -> None:
    out = tmp_path / "out"
    assert _run("run", str(synthetic), "-o", str(out), "--no-map")[0] == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    monkeypatch.chdir(out)
    code, err = _run("run", str(synthetic), "-o", ".", "--overwrite")
    assert code == 2 and "is the working folder or holds it" in err
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert _listing(tmp_path) == ["out"]


def test_a_folder_holding_the_inputs_is_refused(synthetic: Path, tmp_path: Path) -> None:
    inputs = sorted(p.name for p in synthetic.parent.iterdir())
    for folder in (synthetic.parent, synthetic.parent.parent):
        code, err = _run("run", str(synthetic), "-o", str(folder), "--overwrite")
        assert code == 2
        assert err.startswith(f"Error: {folder}: holds ") and ", an input of this run; give a new folder" in err
    assert sorted(p.name for p in synthetic.parent.iterdir()) == inputs


def test_checked_target_protects_every_input(tmp_path: Path) -> None:
    (tmp_path / "in").mkdir()
    dem = tmp_path / "in" / "dem.tif"
    dem.write_bytes(b"x")
    with pytest.raises(OutputFolderError, match=r"holds .*dem.tif, an input of this run"):
        checked_target(tmp_path / "in", protect=[dem])
    with pytest.raises(OutputFolderError, match="is a symbolic link"):
        (tmp_path / "link").symlink_to(tmp_path / "in")
        checked_target(tmp_path / "link")
    assert checked_target(tmp_path / "in" / "out", protect=[dem]) == tmp_path / "in" / "out"


def test_output_folder_without_overwrite_keeps_an_existing_one(tmp_path: Path) -> None:
    out = tmp_path / "out"
    with output_folder(out, command="test") as tmp:
        (tmp / "a.txt").write_text("1")
    with pytest.raises(OutputExistsError), output_folder(out) as tmp:
        pytest.fail("the block must not run")  # pragma: no cover
    with pytest.raises(RuntimeError, match="boom"), output_folder(out, overwrite=True) as tmp:
        (tmp / "a.txt").write_text("2")
        raise RuntimeError("boom")
    assert (out / "a.txt").read_text() == "1"
    assert _listing(tmp_path) == ["out"]


# --- the lock ------------------------------------------------------------------------------------------------


def test_a_second_writer_is_refused_while_the_first_holds_the_folder(tmp_path: Path) -> None:
    out = tmp_path / "out"
    script = ("import sys, time\nfrom coverplan.outfolder import claim_output\n"
              "with claim_output(sys.argv[1]):\n    print('held', flush=True)\n    time.sleep(60)\n")
    holder = subprocess.Popen([sys.executable, "-c", script, str(out)], stdout=subprocess.PIPE, text=True,
                              env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])})
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "held\n"
        busy = rf"{out}: another coverplan run \(pid {holder.pid} on .*\) is writing it; wait for it to finish or " \
            "choose another output folder"
        with pytest.raises(OutputBusyError, match=busy), output_folder(out):
            pass  # pragma: no cover
    finally:
        holder.kill()
        holder.wait()
    # the kernel let go of the lock with the process: the folder is free again, and the stale lock file goes too
    with output_folder(out) as tmp:
        (tmp / "a.txt").write_text("1")
    assert _listing(tmp_path) == ["out"]


def test_the_lock_is_taken_again_inside_a_claim_but_not_by_another_thread(tmp_path: Path) -> None:
    out = tmp_path / "out"
    seen: list[BaseException] = []
    with claim_output(out):
        with output_folder(out) as tmp:  # the CLI's case: the claim, then the write
            (tmp / "a.txt").write_text("1")

        def other() -> None:
            try:
                with output_folder(out, overwrite=True):
                    pass  # pragma: no cover
            except BaseException as exc:
                seen.append(exc)

        t = threading.Thread(target=other)
        t.start()
        t.join()
    assert len(seen) == 1 and isinstance(seen[0], OutputBusyError) and "another thread" in str(seen[0])
    assert _listing(tmp_path) == ["out"]


# --- the sweep -------------------------------------------------------------------------------------------------


def test_the_sweep_removes_what_dead_writers_left_and_nothing_of_live_ones(tmp_path: Path) -> None:
    host = owner_tag().split(".", 1)[1]
    dead = _dead_pid()
    stale = tmp_path / f".out.{dead}.{host}.abcd1234.part"
    stale.mkdir()
    (stale / "coverage.tif").write_bytes(b"half")
    live = tmp_path / f".out.{os.getpid()}.{host}.live0001.part"  # this very process: alive
    live.mkdir()
    other_host = tmp_path / f".out.{dead}.elsewhere.abcd1234.part"  # cannot be told from here: kept
    other_host.mkdir()
    old_format = tmp_path / ".out.k2j3h4l5.part"  # no owner in the name: kept
    old_format.mkdir()
    stale_file = tmp_path / f".r.tif.{dead}.{host}.abcd1234.part.tif"
    stale_file.write_bytes(b"half")
    with output_folder(tmp_path / "out") as tmp:
        (tmp / "a.txt").write_text("1")
    with atomic_path(tmp_path / "r.tif") as tmp_file:
        tmp_file.write_bytes(b"whole")
    assert _listing(tmp_path) == sorted([live.name, other_host.name, old_format.name, "out", "r.tif"])


def test_the_sweep_puts_back_a_folder_a_dead_writer_set_aside(tmp_path: Path) -> None:
    # killed between its two renames: the previous output was set aside and the new one not yet in place
    host = owner_tag().split(".", 1)[1]
    aside = tmp_path / f".out.{_dead_pid()}.{host}.abcd1234.old"
    aside.mkdir()
    (aside / MARKER).write_text(json.dumps({"kind": "coverplan output folder", "files": ["a.txt"]}))
    (aside / "a.txt").write_text("previous")
    with claim_output(tmp_path / "out", overwrite=True) as out:
        assert (out / "a.txt").read_text() == "previous"
    assert _listing(tmp_path) == ["out"]
