"""The ``coverplan`` command line: one thin command per stage."""

from __future__ import annotations

import logging
import signal
import threading
from typing import Any

import click

from coverplan import __version__
from coverplan.errors import CoverplanError

__all__ = ["main"]


class CoverplanGroup(click.Group):
    """A click group that turns coverplan errors into one line and exit 2, and Ctrl-C or SIGTERM into one line
    and 128 + the signal's number (130, 143), once the partial outputs are removed."""

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


def _register() -> None:
    from coverplan.cli.calibrate import calibrate_cmd
    from coverplan.cli.compare import compare_cmd
    from coverplan.cli.coverage import coverage_cmd
    from coverplan.cli.deadzones import deadzones_cmd
    from coverplan.cli.fetch import fetch_group, init_cmd
    from coverplan.cli.plan import plan_cmd, site_cmd
    from coverplan.cli.report import report_cmd
    from coverplan.cli.run import run_cmd
    from coverplan.cli.terrain import horizon_cmd, profile_cmd, viewshed_cmd

    main.add_command(init_cmd)
    main.add_command(fetch_group)
    main.add_command(run_cmd)
    main.add_command(compare_cmd)
    main.add_command(report_cmd)
    main.add_command(coverage_cmd)
    main.add_command(deadzones_cmd)
    main.add_command(plan_cmd)
    main.add_command(site_cmd)
    main.add_command(calibrate_cmd)

    main.add_command(viewshed_cmd)
    main.add_command(horizon_cmd)
    main.add_command(profile_cmd)


_register()
