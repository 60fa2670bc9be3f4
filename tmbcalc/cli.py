"""Command-line entry point: ``tmbcalc <subcommand> ...``.

Parsing and printing only.  Subcommands live in :mod:`tmbcalc.commands` (one module each,
discovered automatically) and call the API.  Exit codes: 0 success, 1 input/runtime error,
2 bad arguments.  Errors are one line on stderr, prefixed ``tmbcalc: error:``; set
``TMBCALC_DEBUG=1`` to see a traceback.
"""
from __future__ import annotations

import os

# The kernels are single-pass streams; idle BLAS worker threads only cost CPU on a 2-core box.
# Must be set before numpy is first imported (command modules import it).
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import importlib  # noqa: E402
import re  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402
from collections.abc import Sequence  # noqa: E402

from . import commands  # noqa: E402
from ._version import __version__  # noqa: E402
from .errors import TmbcalcError, UsageError  # noqa: E402


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # one line, exit 2
        self.exit(2, f"tmbcalc: error: {self.prog}: {message}\n")


def _command_names() -> list[str]:
    """Subcommand names: one module per command in :mod:`tmbcalc.commands` (module name = NAME)."""
    # a folder listing rather than pkgutil.iter_modules, which imports inspect (~1 MB, 4 ms)
    return sorted(p.stem for p in Path(commands.__file__).parent.glob("*.py") if not p.stem.startswith("_"))


def _selected_command(argv: Sequence[str], names: Sequence[str]) -> str | None:
    """The subcommand named on the command line, if any (the first argument not starting with '-')."""
    for arg in argv:
        if not arg.startswith("-"):
            return arg if arg in names else None
    return None


# command -> (option dest -> its long option, API parameter name -> option dest), for messages
_OPTION_NAMES: dict[str, tuple[dict[str, str], dict[str, str]]] = {}


def _long_options(parser: argparse.ArgumentParser) -> dict[str, str]:
    """dest -> its first long option string, over a parser and its sub-commands' parsers."""
    out: dict[str, str] = {}
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                out.update(_long_options(sub))
        elif action.option_strings and action.dest != "help":
            out.setdefault(action.dest, next((o for o in action.option_strings if o.startswith("--")),
                                                 action.option_strings[0]))
    return out


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The argument parser.  Given ``argv`` naming a subcommand, only that command's module is
    imported and its options registered (the others stay bare choices); for ``tmbcalc -h`` /
    ``--version`` every module is imported for its HELP line but none registers options, since
    registering may import heavy modules.  Without ``argv`` every subcommand is registered."""
    parser = _Parser(prog="tmbcalc", description="Immunotherapy biomarkers from sequencing data: tumor "
                     "mutational burden, callable footprint, panel calibration and microsatellite instability.")
    parser.add_argument("--version", action="version", version=f"tmbcalc {__version__}")
    parser.add_argument("--no-checksums", action="store_true",
                        help="do not sha256 the input files for provenance (identify them by name, size and "
                             "modification time): for very large BAM/CRAM inputs")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    names = _command_names()
    chosen = _selected_command(argv, names) if argv is not None else None
    register_all = argv is None
    for name in names:
        if chosen is not None and name != chosen:
            sub.add_parser(name)  # a valid choice; its module is not even imported
            continue
        mod = importlib.import_module(f"{commands.__name__}.{name}")
        if mod.NAME != name:  # pragma: no cover - guards the module-name convention
            raise RuntimeError(f"tmbcalc.commands.{name} declares NAME={mod.NAME!r}")
        p = sub.add_parser(mod.NAME, help=mod.HELP, description=mod.HELP)
        if register_all or chosen == name:
            mod.register(p)
            _OPTION_NAMES[name] = (_long_options(p), getattr(mod, "API_NAMES", {}))
            if p.get_default("func") is None:
                p.set_defaults(func=mod.run)
            # also accepted after the command name (SUPPRESS: absent here leaves the top-level value)
            p.add_argument("--no-checksums", action="store_true", default=argparse.SUPPRESS,
                           help="do not sha256 the input files for provenance (see tmbcalc -h)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(argv)
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help(sys.stderr)
        return 2
    if args.no_checksums:
        from .provenance import set_checksums

        set_checksums(False)
    try:
        return int(args.func(args) or 0)
    except TmbcalcError as exc:
        if os.environ.get("TMBCALC_DEBUG"):
            raise
        print(f"tmbcalc: error: {in_option_names(exc, args)}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("tmbcalc: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 1
    except (OSError, MemoryError) as exc:
        if os.environ.get("TMBCALC_DEBUG"):
            raise
        where = f"{exc.filename}: " if getattr(exc, "filename", None) else ""
        print(f"tmbcalc: error: {where}{getattr(exc, 'strerror', None) or exc}", file=sys.stderr)
        return 1


def in_option_names(exc: TmbcalcError, args: argparse.Namespace) -> str:
    """The error message with each parameter it names (``exc.params``) written as the option a
    command-line user types: ``tumor_bam`` -> ``--tumor-bam``."""
    text = str(exc)
    options, api_names = _OPTION_NAMES.get(getattr(args, "command", None) or "", ({}, {}))
    for name in exc.params:
        dest = api_names.get(name, name)
        flag = options.get(dest) or "--" + dest.replace("_", "-")
        text = re.sub(rf"(?<![\w-]){re.escape(name)}(?![\w-])", flag, text)
    return text


def run() -> None:
    sys.exit(main())


__all__ = ["main", "build_parser", "UsageError"]
