"""Typed errors.  Everything the user can cause is a :class:`TmbcalcError`.

The CLI prints ``tmbcalc: error: <message>`` on one line and exits 1 for these (2 for bad
arguments); library callers catch them as ordinary exceptions.  Messages name the file and say
what is wrong and, where possible, what to do.
"""
from __future__ import annotations

from pathlib import Path


class TmbcalcError(Exception):
    """Base class of every user-facing error (exit code 1).

    Messages speak the API's language: they name parameters (``tumor_bam``, ``min_coverage``).
    ``params`` lists the parameter names a message mentions; the command line replaces each by
    its option (``--tumor-bam``), so a CLI user reads flags and an API user reads arguments.
    """

    exit_code = 1

    def __init__(self, message: str, path: str | Path | None = None, *, params: tuple[str, ...] = ()) -> None:
        self.path = None if path is None else str(path)
        self.message = message
        self.params = tuple(params)
        super().__init__(f"{self.path}: {message}" if self.path else message)


class InputError(TmbcalcError):
    """An input file is missing, unreadable, truncated or malformed."""


class ContigMismatchError(InputError):
    """Files do not share contig names or genome build."""


class MissingFieldError(InputError):
    """A rule needs a FORMAT/INFO field or MAF column that the input lacks."""


class UsageError(TmbcalcError):
    """Arguments are inconsistent (exit code 2)."""

    exit_code = 2


def require_readable(path: str | Path, what: str = "file") -> Path:
    """Return ``path`` as a Path, or raise InputError if it is missing or unreadable."""
    p = Path(path)
    if not p.exists():
        raise InputError(f"{what} does not exist", p)
    if p.is_dir():
        raise InputError(f"{what} is a directory, expected a file", p)
    try:
        with open(p, "rb") as fh:
            fh.read(1)
    except OSError as exc:
        raise InputError(f"cannot read {what}: {exc.strerror}", p) from None
    return p
