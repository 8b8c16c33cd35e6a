"""The ``coverplan`` command line: one thin command per stage."""

from __future__ import annotations

import logging
from typing import Any

import click

from coverplan import __version__
from coverplan.errors import CoverplanError

__all__ = ["main"]


class CoverplanGroup(click.Group):
    """A click group that turns coverplan errors into one line and exit 2."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except CoverplanError as exc:
            raise UserError(str(exc)) from None
        except click.UsageError as exc:
            # one line, not the usage block: the message names the option
            raise UserError(exc.format_message()) from None


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


def _register() -> None:
    from coverplan.cli.coverage import coverage_cmd
    from coverplan.cli.deadzones import deadzones_cmd
    from coverplan.cli.plan import plan_cmd, site_cmd
    from coverplan.cli.run import run_cmd
    from coverplan.cli.terrain import horizon_cmd, profile_cmd, viewshed_cmd

    main.add_command(run_cmd)
    main.add_command(coverage_cmd)
    main.add_command(deadzones_cmd)
    main.add_command(plan_cmd)
    main.add_command(site_cmd)

    main.add_command(viewshed_cmd)
    main.add_command(horizon_cmd)
    main.add_command(profile_cmd)


_register()
