"""CLI subcommands.  Each module defines ``NAME``, ``HELP``, ``register(parser)`` and
``run(args) -> int``; :mod:`tmbcalc.cli` discovers them.  Modules parse and print only: the
work is done by API functions that return result objects."""
