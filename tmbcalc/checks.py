"""Range checks for numbers from any source: command-line options, profiles, models, baselines.

A number a lab's result depends on must be finite and inside its domain; NaN compares false with
everything, so an unchecked NaN threshold silently switches a rule off, and ``inf`` silently turns
every call one way.  :func:`check_number` raises a :class:`~tmbcalc.errors.TmbcalcError` (a
``UsageError`` by default) naming what was checked; :func:`number_arg` is the same check as an
``argparse`` ``type=`` (a bad value is a one-line usage error naming the option, exit 2).

Integers are bounded by :data:`INT32_MAX` unless told otherwise (depths, read counts, positions
and thread counts are 32-bit in htslib and in the kernels).
"""
from __future__ import annotations

import argparse
import math
from collections.abc import Callable
from pathlib import Path

from .errors import TmbcalcError, UsageError

INT32_MAX = 2**31 - 1


def _text(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else f"{x:g}"


def _describe(lo: float | None, hi: float | None, lo_open: bool, hi_open: bool) -> str:
    if lo is not None and hi is not None:
        return f"in {'(' if lo_open else '['}{_text(lo)}, {_text(hi)}{')' if hi_open else ']'}"
    if lo is not None:
        return f"{'>' if lo_open else '>='} {_text(lo)}"
    if hi is not None:
        return f"{'<' if hi_open else '<='} {_text(hi)}"
    return "finite"


def range_problem(value: object, *, lo: float | None = None, hi: float | None = None, lo_open: bool = False,
                  hi_open: bool = False, integer: bool = False) -> str | None:
    """What is wrong with ``value`` as a number in the given range, or ``None`` when it is fine.
    ``integer=True`` also requires a whole number and bounds it by :data:`INT32_MAX`."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return f"expected a number, got {value!r}"
    if not math.isfinite(value):
        return f"expected a finite number, got {value!r}"
    if integer:
        if not float(value).is_integer():
            return f"expected an integer, got {value!r}"
        hi = INT32_MAX if hi is None else hi
    below = lo is not None and (value <= lo if lo_open else value < lo)
    above = hi is not None and (value >= hi if hi_open else value > hi)
    if below or above:
        return f"{value!r} is outside the allowed range (must be {_describe(lo, hi, lo_open, hi_open)})"
    return None


def check_number(value: object, what: str, *, path: str | Path | None = None,
                 error: type[TmbcalcError] = UsageError, **bounds) -> float:
    """``value`` as a float (int when ``integer=True``) if it is finite and within ``bounds``
    (:func:`range_problem` keywords); else raise ``error`` naming ``what`` (and ``path``)."""
    problem = range_problem(value, **bounds)
    if problem:
        name = what.split(" (", 1)[0]         # a parameter name is translated to its option by the CLI
        raise error(f"{what}: {problem}", path, params=(name,) if name.isidentifier() else ())
    return int(value) if bounds.get("integer") else float(value)  # type: ignore[arg-type]


def parse_number(text: str, *, integer: bool = False) -> float:
    """A number from text: int() for integers (``1e3`` is refused), float() otherwise; ValueError if not."""
    text = text.strip()
    return int(text) if integer else float(text)


def number_arg(*, integer: bool = False, off: bool = False, **bounds) -> Callable[[str], float | int | str]:
    """An argparse ``type=`` that accepts a finite number within ``bounds`` (and ``off``/``none``
    when ``off=True``, returned as ``"off"``)."""

    def convert(text: str):
        if off and text.strip().lower() in ("off", "none"):
            return "off"
        try:
            value = parse_number(text, integer=integer)
        except ValueError:
            kind = "an integer" if integer else "a number"
            raise argparse.ArgumentTypeError(f"expected {kind}{' or off' if off else ''}, got {text!r}") from None
        problem = range_problem(value, integer=integer, **bounds)
        if problem:
            raise argparse.ArgumentTypeError(problem)
        return value

    convert.__name__ = "integer" if integer else "number"
    return convert


def numbers_arg(**bounds) -> Callable[[str], list[float]]:
    """An argparse ``type=`` for a comma-separated list of finite numbers within ``bounds``."""
    one = number_arg(**bounds)

    def convert(text: str) -> list[float]:
        items = [x for x in (t.strip() for t in text.split(",")) if x]
        if not items:
            raise argparse.ArgumentTypeError(f"expected comma-separated numbers, got {text!r}")
        return [float(one(x)) for x in items]

    convert.__name__ = "numbers"
    return convert


__all__ = ["INT32_MAX", "range_problem", "check_number", "number_arg", "numbers_arg", "parse_number"]
