"""Command-line entry point: ``tmbcalc <subcommand> ...``.

Parsing and printing only.  Subcommands live in :mod:`tmbcalc.commands` (one module each,
discovered automatically) and call the API.  Exit codes: 0 success, 1 input/runtime error,
2 bad arguments.  Errors are one line on stderr, prefixed ``tmbcalc: error:``; set
``TMBCALC_DEBUG=1`` to see a traceback.  SIGTERM, SIGINT and SIGHUP stop a run cleanly: temporary
files are removed and the exit code is 128 + the signal number (143, 130, 129).  Before a command
runs, its inputs are collected from the arguments (outputs may not replace them) and stream inputs
are read once into private files (see :func:`prepare_paths`).
"""
from __future__ import annotations

import os

# The kernels are single-pass streams; idle BLAS worker threads only cost CPU on a 2-core box.
# Must be set before numpy is first imported (command modules import it).
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import errno  # noqa: E402
import importlib  # noqa: E402
import re  # noqa: E402
import signal  # noqa: E402
import sys  # noqa: E402
import threading  # noqa: E402
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


# -- inputs and outputs named on the command line ---------------------------------------------------

# dests naming outputs (True: a folder); every other argument naming an existing path is an input
OUTPUT_DESTS = {"output": False, "out_dir": True, "plots": True}
_NOT_PATHS = {"func", "command", "msi_command", "calibrate_command", "panels_command", "output_suffixes"}


def _path_values(value: object) -> list[str]:
    if isinstance(value, (str, os.PathLike)):
        return [os.fspath(value)]  # type: ignore[list-item]
    if isinstance(value, (list, tuple)):
        return [os.fspath(v) for v in value if isinstance(v, (str, os.PathLike))]  # type: ignore[misc]
    return []


def prepare_paths(args: argparse.Namespace) -> list[str]:
    """Check the output names and collect the run's inputs from the parsed arguments.

    Every argument value naming an existing path (other than the outputs) is an input: the output
    set refuses to write over it.  A stream (named FIFO, ``<(command)``) is read once into a private
    file (:func:`tmbcalc.io.inputs.open_input`) and the argument replaced by it; a BAM/CRAM stream is
    refused.  Returns the inputs as the user named them.
    """
    from .output import check_prefix

    inputs: list[str] = []
    for dest, value in vars(args).items():
        if dest in _NOT_PATHS or value is None:
            continue
        if dest in OUTPUT_DESTS:
            if not OUTPUT_DESTS[dest]:
                for v in _path_values(value):
                    check_prefix(v, "-o/--output")
            continue
        paths = _path_values(value)
        if not paths:
            continue
        new = [_open_path(dest, v) for v in paths]
        inputs.extend(v for v in paths if os.path.lexists(v))
        if new != paths:
            setattr(args, dest, new if isinstance(value, (list, tuple)) else new[0])
    _check_planned_outputs(args, inputs)
    return inputs


def _check_planned_outputs(args: argparse.Namespace, inputs: list[str]) -> None:
    """Refuse, before any work, outputs the command declares (``output_suffixes``) that would
    replace an input or a folder; the output set checks every file again when it writes it."""
    from .output import OutputSet

    prefix = getattr(args, "output", None)
    if prefix is None:
        return
    outs = OutputSet(prefix, inputs=inputs)
    for suffix in getattr(args, "output_suffixes", ()):
        outs.check(suffix)


def _open_path(dest: str, value: str) -> str:
    from .io.inputs import is_stream, open_input, require_seekable

    if not is_stream(value):
        return value
    what = dest.replace("_", " ")
    if "bam" in dest:
        require_seekable(value, f"{what} (BAM/CRAM)")
        return value
    return open_input(value, what)


# -- signals ------------------------------------------------------------------------------------------

_SIGNALS = tuple(getattr(signal, n) for n in ("SIGTERM", "SIGINT", "SIGHUP") if hasattr(signal, n))


class Interrupted(BaseException):
    """Raised in the main thread by SIGTERM/SIGINT/SIGHUP so that every ``with`` block (output
    sets, readers) cleans up; not an ``Exception``, so no ``except Exception`` swallows it."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


def _on_signal(signum: int, frame: object) -> None:
    from .output import defer_signal

    if defer_signal(signum):  # a set is being moved into place: finish it first
        return
    for s in _SIGNALS:
        signal.signal(s, signal.SIG_IGN)  # a second signal must not interrupt the clean-up
    raise Interrupted(signum)


def _install_signal_handlers() -> dict[int, object]:
    if threading.current_thread() is not threading.main_thread():
        return {}
    return {s: signal.signal(s, _on_signal) for s in _SIGNALS}


def _cleanup() -> None:
    from .output import cleanup_all

    cleanup_all()
    if "tmbcalc.io.inputs" in sys.modules:
        sys.modules["tmbcalc.io.inputs"].cleanup()


# -- errors -------------------------------------------------------------------------------------------

def _user_names(text: str) -> str:
    """Error text with private stream copies named as the user gave them."""
    if "tmbcalc.io.inputs" not in sys.modules:
        return text
    return sys.modules["tmbcalc.io.inputs"].user_names(text)


def _os_error_line(exc: OSError, args: argparse.Namespace) -> str:
    where = exc.filename
    problem = getattr(exc, "strerror", None) or str(exc)
    if where is None and exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
        # raised by a write that does not know its file name (a temporary spool beside the outputs)
        where = getattr(args, "output", None) or getattr(args, "out_dir", None)
        problem = f"cannot write outputs: {problem}; nothing was published"
    return _user_names(f"{where}: {problem}" if where else problem)


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
    previous = _install_signal_handlers()
    try:
        from .output import run_inputs

        with run_inputs(prepare_paths(args)):
            return int(args.func(args) or 0)
    except Interrupted as exc:
        _cleanup()
        print(f"tmbcalc: stopped by {signal.Signals(exc.signum).name}; temporary files removed, "
              f"no partial output", file=sys.stderr)
        return 128 + exc.signum
    except TmbcalcError as exc:
        if os.environ.get("TMBCALC_DEBUG"):
            raise
        print(f"tmbcalc: error: {_user_names(in_option_names(exc, args))}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        _cleanup()
        print("tmbcalc: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 1
    except (OSError, MemoryError) as exc:
        if os.environ.get("TMBCALC_DEBUG"):
            raise
        line = _os_error_line(exc, args) if isinstance(exc, OSError) else str(exc) or "out of memory"
        print(f"tmbcalc: error: {line}", file=sys.stderr)
        return 1
    except Exception as exc:
        if os.environ.get("TMBCALC_DEBUG") or not _is_input_parsing_error(exc):
            raise
        # last resort: a parsing library failed on input that no check above caught (a bug to report:
        # the message cannot name the file); one line, never a traceback
        text = (str(exc).splitlines() or [""])[0][:200]
        print(f"tmbcalc: error: unreadable input ({type(exc).__name__}: {text}); set TMBCALC_DEBUG=1 for "
              f"details", file=sys.stderr)
        return 1
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)  # type: ignore[arg-type]


def _is_input_parsing_error(exc: BaseException) -> bool:
    """Errors that input-parsing libraries raise on malformed input (decode, decompression,
    overflow, JSON/TOML/CSV parsing), as opposed to programming errors, which keep their traceback."""
    import gzip
    import json
    import tomllib
    import zlib

    kinds: tuple[type[BaseException], ...] = (UnicodeError, zlib.error, gzip.BadGzipFile, EOFError,
                                              OverflowError, json.JSONDecodeError, tomllib.TOMLDecodeError)
    pandas = sys.modules.get("pandas")
    if pandas is not None:
        kinds += (pandas.errors.ParserError, pandas.errors.EmptyDataError)
    return isinstance(exc, kinds)


def in_option_names(exc: TmbcalcError, args: argparse.Namespace) -> str:
    """The error message with each parameter it names (``exc.params``) written as the option a
    command-line user types: ``tumor_bam`` -> ``--tumor-bam``."""
    text = str(exc)
    options, api_names = _OPTION_NAMES.get(getattr(args, "command", None) or "", ({}, {}))
    for name in exc.params:
        dest = api_names.get(name, name)
        flag = options.get(dest) or "--" + dest.replace("_", "-")
        # a name in quotes is a value (a rule called 'min_depth'), not the parameter
        text = re.sub(rf"(?<![\w'-]){re.escape(name)}(?![\w'-])", flag, text)
    return text


def run() -> None:
    code = main()
    if code > 128:
        # stopped by a signal, clean-up done: do not wait for worker threads still finishing a block
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    sys.exit(code)


__all__ = ["main", "build_parser", "UsageError"]
