"""``python -m eightstep`` runs the CLI."""

from eightstep.cli import main

main(prog_name="eightstep")
