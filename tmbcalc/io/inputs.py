"""Open every input once: streams become private regular files, read once and hashed meanwhile.

Readers open an input several times (format sniffing, the kernel, the checksum), which a named
FIFO or a process substitution (``<(zcat x.vcf.gz)``, seen as ``/dev/fd/63``) cannot serve: the
second open hangs or finds the stream drained.  :func:`open_input` is the one door: for a regular
file it returns the path unchanged (one ``stat``); for a stream it copies the content once into a
private temporary folder (under ``$TMPDIR``), hashing it on the way for provenance
(:class:`tmbcalc.provenance.HashingCopy`), and returns the copy's path, the same for every later
call with the same name.  Provenance and error messages name the stream as the user gave it.

A stream that delivers nothing for ``$TMBCALC_STREAM_TIMEOUT`` seconds (default 600; also a FIFO
nobody writes to) is an error, not a hang.  BAM/CRAM inputs need their index and random access:
:func:`require_seekable` refuses a stream with a one-line message.
"""
from __future__ import annotations

import atexit
import errno
import itertools
import os
import select
import shutil
import stat
import tempfile
from pathlib import Path
from typing import Any, TypeVar

from ..errors import InputError
from ..output import TMP_TAG, host_tag, remove_stale
from ..provenance import HashingCopy, stream_copy, stream_name, stream_names

TIMEOUT_ENV = "TMBCALC_STREAM_TIMEOUT"
DEFAULT_TIMEOUT_S = 600.0
_SPOOL_NAME = "tmbcalc-inputs"
_CHUNK = 1 << 20

P = TypeVar("P", str, Path)

_spool_dir: Path | None = None
_by_identity: dict[tuple[int, int], str] = {}
_counter = itertools.count()


def is_stream(path: str | os.PathLike) -> bool:
    """True for an existing input that is neither a regular file nor a folder (FIFO, pipe,
    character device, socket)."""
    try:
        mode = os.stat(path).st_mode
    except (OSError, ValueError):
        return False
    return not (stat.S_ISREG(mode) or stat.S_ISDIR(mode))


def open_input(path: P, what: str = "input") -> P:
    """A regular file holding the content of ``path`` (``path`` itself unless it is a stream).

    Raises :class:`InputError` when the input is missing, a folder, a socket, or a stream that
    stays silent for the stream timeout.  The returned value has the type of ``path``.
    """
    text = os.fspath(path)
    known = stream_copy(text)
    if known is not None:
        return type(path)(known)
    try:
        st = os.stat(text)
    except FileNotFoundError:
        raise InputError(f"{what} does not exist", text) from None
    except OSError as exc:
        raise InputError(f"cannot read {what}: {exc.strerror}", text) from None
    if stat.S_ISREG(st.st_mode):
        return path
    if stat.S_ISDIR(st.st_mode):
        raise InputError(f"{what} is a directory, expected a file", text)
    if stat.S_ISSOCK(st.st_mode):
        raise InputError(f"{what} is a socket; give a file, a named pipe or <(command)", text)
    ident = (st.st_dev, st.st_ino)
    if ident in _by_identity:  # the same pipe under another name (/dev/fd/N, /proc/self/fd/N)
        return type(path)(_by_identity[ident])
    copy = _spool(text, what)
    _by_identity[ident] = copy
    return type(path)(copy)


def open_inputs(*values: Any) -> tuple[Any, ...]:
    """:func:`open_input` over several arguments, each a path, a list of paths or None (kept)."""
    def one(v: Any) -> Any:
        if v is None or not isinstance(v, (str, os.PathLike, list, tuple)):
            return v
        if isinstance(v, (list, tuple)):
            return type(v)(one(x) for x in v)
        return open_input(v)
    return tuple(one(v) for v in values)


def require_seekable(path: P | None, what: str = "BAM/CRAM") -> P | None:
    """``path`` unchanged when it is a regular file (or None); a stream is refused (random access
    and an index are needed)."""
    if path is not None and is_stream(path):
        raise InputError(f"{what} is a pipe or stream; it must be a regular, indexed file (random access "
                         f"through its .bai/.crai/.csi index)", os.fspath(path))
    return path


def display_name(path: str | os.PathLike) -> str:
    """The name the user gave for ``path`` (the stream's name for a private copy)."""
    return stream_name(os.fspath(path)) or os.fspath(path)


def user_names(text: str) -> str:
    """``text`` (an error message) with every private stream copy named as the user gave it."""
    for copy, given in stream_names().items():
        text = text.replace(copy, given)
    return text


def _timeout() -> float:
    try:
        value = float(os.environ.get(TIMEOUT_ENV, DEFAULT_TIMEOUT_S))
    except ValueError:
        value = DEFAULT_TIMEOUT_S
    return value if value > 0 else DEFAULT_TIMEOUT_S


def _spool(text: str, what: str) -> str:
    """Copy the stream ``text`` to a private file while hashing it; returns the copy's path."""
    folder = _folder() / str(next(_counter))
    folder.mkdir()
    dest = folder / _safe(Path(text).name)  # the copy keeps the stream's name (reports show it)
    timeout = _timeout()
    try:
        fd = os.open(text, os.O_RDONLY | os.O_NONBLOCK)
    except OSError as exc:
        raise InputError(f"cannot read {what}: {exc.strerror}", text) from None
    sink = HashingCopy(dest)
    try:
        poller = select.poll()
        poller.register(fd, select.POLLIN | select.POLLHUP | select.POLLERR)
        while True:
            if not poller.poll(int(timeout * 1000)):
                raise InputError(f"{what} is a stream that delivered no data for {timeout:g} s (is the "
                                 f"command writing it running? ${TIMEOUT_ENV} sets the wait)", text)
            try:
                chunk = os.read(fd, _CHUNK)
            except BlockingIOError:
                continue
            except OSError as exc:
                raise InputError(f"cannot read {what}: {exc.strerror}", text) from None
            if not chunk:
                break
            try:
                sink.write(chunk)
            except OSError as exc:
                if exc.errno in (errno.ENOSPC, errno.EDQUOT):
                    raise InputError(f"cannot copy the {what} stream to {folder}: {exc.strerror} (set "
                                     f"TMPDIR to a larger disk)", text) from None
                raise
        sink.finish(text)
    except BaseException:
        sink.close()
        with_suppressed_unlink(dest)
        raise
    finally:
        os.close(fd)
    return str(dest)


def with_suppressed_unlink(path: Path) -> None:
    try:
        path.unlink()
    except OSError:
        pass


def _safe(name: str) -> str:
    return "".join(c if c.isalnum() or c in "._-" else "_" for c in name)[:80] or "stream"


def _folder() -> Path:
    global _spool_dir
    if _spool_dir is None or not _spool_dir.is_dir():
        base = Path(tempfile.gettempdir())
        remove_stale(base, _SPOOL_NAME)
        # named like an output set's temporary folder, so the same sweep removes those of dead runs
        _spool_dir = Path(tempfile.mkdtemp(prefix=f".{_SPOOL_NAME}{TMP_TAG}{host_tag()}-{os.getpid()}-", dir=base))
        atexit.register(cleanup)
    return _spool_dir


def cleanup() -> None:
    """Remove this process's stream copies (at exit; the CLI also calls it on SIGTERM/SIGINT)."""
    global _spool_dir
    if _spool_dir is not None:
        shutil.rmtree(_spool_dir, ignore_errors=True)
        _spool_dir = None


__all__ = ["open_input", "open_inputs", "require_seekable", "is_stream", "display_name", "user_names", "cleanup", "TIMEOUT_ENV"]
