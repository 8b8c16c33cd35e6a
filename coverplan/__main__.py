"""``python -m coverplan``: the same command line as the ``coverplan`` script."""

from coverplan.cli import main

main(prog_name="coverplan")
