"""The ``coverplan`` command line: one thin command per stage."""

from __future__ import annotations

import atexit
import gc
import logging
import signal
import threading
from collections.abc import Iterator, Mapping, MutableMapping
from typing import Any

import click

from coverplan import __version__
from coverplan.errors import CoverplanError

__all__ = ["main"]


class CoverplanGroup(click.Group):
    """A click group that turns coverplan errors into one line and exit 2, and Ctrl-C or SIGTERM into one line
    and 128 + the signal's number (130, 143), once the partial outputs are removed."""

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        # the process's own entry (the coverplan script, python -m coverplan): CliRunner and library callers use
        # .main, and keep the interpreter's usual exit
        _fewer_full_collections()
        atexit.unregister(_skip_final_collection)  # once, however many times a caller runs the command line
        atexit.register(_skip_final_collection)
        return super().__call__(*args, **kwargs)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except CoverplanError as exc:
            raise UserError(str(exc)) from None
        except click.UsageError as exc:
            # one line, not the usage block: the message names the option
            raise UserError(exc.format_message()) from None
        except KeyboardInterrupt as exc:  # Ctrl-C, or SIGTERM through Interrupted: the writers have cleaned up
            signum = getattr(exc, "signum", signal.SIGINT)
            click.echo(f"Error: interrupted by {signal.Signals(signum).name}; partial outputs were removed and "
                       "earlier outputs are unchanged", err=True)
            raise click.exceptions.Exit(128 + signum) from None


#: The garbage collector's oldest-generation threshold at the process's entry (CPython's default is 10).
FULL_COLLECTION_THRESHOLD = 100


def _fewer_full_collections() -> None:
    """A full collection at most once per :data:`FULL_COLLECTION_THRESHOLD` collections of the middle generation
    (about 700,000 new container objects with CPython's other defaults) instead of 10: starting a command creates
    millions of long-lived objects (numba's registries, pandas), and each full collection traverses all of them
    (three of 50-80 ms each in a one-site coverage run, 0.17 s of CPU; ``benchmarks/bench_fixed_cost.py``). The
    young generations, where most reference cycles die, are collected as often as before; CPython still also
    waits for the old generation to grow by a quarter before a full collection."""
    young, middle, old = gc.get_threshold()
    gc.set_threshold(young, middle, max(old, FULL_COLLECTION_THRESHOLD))


def _skip_final_collection() -> None:
    """At the interpreter's exit, after the other exit handlers: move every object to the garbage collector's
    permanent generation, so that the interpreter's shutdown neither traverses numba's, pandas' and the other
    libraries' millions of objects in a last full collection nor frees their cycles one by one (0.4 s of CPU of
    a one-site ``coverplan coverage`` run, ``benchmarks/bench_fixed_cost.py``). Only the process's exit is
    affected: the files are written and closed, the exit handlers (logging's flush among them) have run, and
    objects in reference cycles still alive at exit are left to the operating system, as CPython may always do
    (their ``__del__`` is not guaranteed to run at exit)."""
    gc.freeze()


class Interrupted(KeyboardInterrupt):
    """SIGTERM, raised like Ctrl-C so that every ``finally`` and clean-up runs; ``signum`` is the signal."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


def _stop_on_sigterm(ctx: click.Context) -> None:
    """While the command runs, SIGTERM (``kill``, a scheduler's time limit) stops it the way Ctrl-C does."""
    if threading.current_thread() is not threading.main_thread():
        return
    previous = signal.getsignal(signal.SIGTERM)

    def on_sigterm(signum: int, frame: object) -> None:
        signal.signal(signum, signal.SIG_IGN)  # once: the clean-up runs to its end (kill -9 still stops it)
        raise Interrupted(signum)

    signal.signal(signal.SIGTERM, on_sigterm)
    ctx.call_on_close(lambda: signal.signal(signal.SIGTERM, previous if previous is not None else signal.SIG_DFL))


class UserError(click.ClickException):
    """Bad input: printed as one line on stderr, exit status 2."""

    exit_code = 2


@click.group(cls=CoverplanGroup)
@click.version_option(__version__, prog_name="coverplan")
@click.option("-v", "--verbose", count=True, help="More log output (-vv for debug).")
@click.option("-q", "--quiet", is_flag=True, help="Only errors.")
def main(verbose: int, quiet: bool) -> None:
    """Coverage planning for satellite and mobile networks in mountainous regions."""
    level = logging.ERROR if quiet else (logging.WARNING, logging.INFO, logging.DEBUG)[min(verbose, 2)]
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    # basicConfig does nothing when the root logger has handlers already (a notebook, a test runner): the
    # level -q/-v ask for holds all the same, and with it whether progress bars show
    logging.getLogger().setLevel(level)
    _stop_on_sigterm(click.get_current_context())


#: Each command's module and object: a command's module (and what it imports) loads when the command runs or its
#: help is shown, so that ``coverplan coverage`` does not import the report, map and fetch stacks (``--help``
#: lists them all, and loads them all).
COMMANDS = {
    "init": ("coverplan.cli.fetch", "init_cmd"),
    "fetch": ("coverplan.cli.fetch", "fetch_group"),
    "run": ("coverplan.cli.run", "run_cmd"),
    "compare": ("coverplan.cli.compare", "compare_cmd"),
    "report": ("coverplan.cli.report", "report_cmd"),
    "coverage": ("coverplan.cli.coverage", "coverage_cmd"),
    "deadzones": ("coverplan.cli.deadzones", "deadzones_cmd"),
    "plan": ("coverplan.cli.plan", "plan_cmd"),
    "site": ("coverplan.cli.plan", "site_cmd"),
    "calibrate": ("coverplan.cli.calibrate", "calibrate_cmd"),
    "viewshed": ("coverplan.cli.terrain", "viewshed_cmd"),
    "horizon": ("coverplan.cli.terrain", "horizon_cmd"),
    "profile": ("coverplan.cli.terrain", "profile_cmd"),
}


class LazyCommands(MutableMapping[str, click.Command]):
    """A group's commands by name, each imported from its module on first use (``main.commands["run"]``)."""

    def __init__(self, spec: Mapping[str, tuple[str, str]]) -> None:
        self._spec = dict(spec)
        self._loaded: dict[str, click.Command] = {}

    def __getitem__(self, name: str) -> click.Command:
        if name not in self._loaded:
            if name not in self._spec:
                raise KeyError(name)
            import importlib

            module, attr = self._spec[name]
            self._loaded[name] = getattr(importlib.import_module(module), attr)
        return self._loaded[name]

    def __setitem__(self, name: str, command: click.Command) -> None:
        self._loaded[name] = command

    def __delitem__(self, name: str) -> None:
        if name not in self._loaded and name not in self._spec:
            raise KeyError(name)
        self._loaded.pop(name, None)
        self._spec.pop(name, None)

    def __iter__(self) -> Iterator[str]:
        return iter(dict.fromkeys([*self._spec, *self._loaded]))

    def __len__(self) -> int:
        return len(set(self._spec) | set(self._loaded))


main.commands = LazyCommands(COMMANDS)
