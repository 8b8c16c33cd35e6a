"""``python -m coverplan``: the command line, as the ``coverplan`` script runs it."""

from coverplan.cli import main

main(prog_name="coverplan")
