"""All-or-nothing, input-safe publication of a run's output files.

One :class:`OutputSet` per run and prefix.  The rules it enforces (see docs/outputs.md):

* **Outputs never hurt inputs.**  Every planned output path is compared with the run's inputs
  (the paths given to the set, the paths the CLI collected from the command line, and their
  index companions such as ``.tbi``/``.fai``): same real path or same file (``st_dev``/``st_ino``,
  so symlinks and hard links are caught) is refused with a :class:`~tmbcalc.errors.UsageError`
  (exit 2) before anything is written.
* **One set, published together.**  Files are written into a private temporary folder beside the
  target (``.NAME.tmbcalc-tmp-HOST-PID-TOKEN/``), then moved into place while an advisory lock
  (``fcntl.flock`` on ``.NAME.tmbcalc-lock`` beside the prefix) is held, so two runs on one prefix
  publish one after the other, never interleaved.  If a move fails, the files already moved are
  rolled back to their previous content (kept as hard links) and the error names the file.
* **Nothing left behind.**  The temporary folder is removed on every exit path (errors,
  SIGTERM/SIGINT via the CLI's handlers, :func:`cleanup_all` at exit); a folder left by a run that
  was killed (SIGKILL, power loss) is removed by the next run to the same prefix once its process
  is gone.  The lock file is removed after use.
* **Prefixes name files.**  ``''``, ``dir/``, ``.`` and ``..`` are refused (exit 2); missing
  parent folders are created (and removed again if the run fails before publishing).
* **Write errors name the file.**  An ``OSError`` while writing (disk full, quota, file too
  large) becomes :class:`OutputError` naming the output file, not the temporary one.
"""
from __future__ import annotations

import contextlib
import contextvars
import errno
import gzip
import io
import json
import os

import shutil
import signal
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import IO, Any

from .errors import TmbcalcError, UsageError

TMP_TAG = ".tmbcalc-tmp-"
LOCK_TAG = ".tmbcalc-lock"
# companions of an input that a tool reads with it; an output may not replace them either
INDEX_SUFFIXES = (".tbi", ".csi", ".bai", ".crai", ".fai", ".gzi", ".idx")
# Test hook (documented in docs/outputs.md): seconds to sleep after every file of a set is written
# and before it is published, announced on stderr, so tests can signal a run inside that window.
PAUSE_ENV = "TMBCALC_TEST_PAUSE_BEFORE_PUBLISH"
# Test hook: seconds to sleep after each rename while publishing (a slow filesystem).
RENAME_DELAY_ENV = "TMBCALC_TEST_RENAME_DELAY"
LOCK_TIMEOUT_ENV = "TMBCALC_LOCK_TIMEOUT"


class OutputError(TmbcalcError):
    """An output could not be written or published (exit code 1); names the output file."""


# -- the run's inputs ------------------------------------------------------------------------------

_RUN_INPUTS: contextvars.ContextVar[tuple[str, ...]] = contextvars.ContextVar("tmbcalc_run_inputs", default=())


def input_paths(obj: Any) -> list[str]:
    """Flatten paths out of ``obj``: a path, an iterable of paths, or a mapping of role -> path /
    list / provenance entry (``{"path": ...}``) as in a provenance ``inputs`` block."""
    out: list[str] = []
    if obj is None or isinstance(obj, (bool, int, float)):
        return out
    if isinstance(obj, (str, os.PathLike)):
        text = os.fspath(obj)
        if isinstance(text, str) and text:
            out.append(text)
        return out
    if isinstance(obj, Mapping):
        if "path" in obj and isinstance(obj.get("path"), (str, os.PathLike)):
            return input_paths(obj["path"])
        for v in obj.values():
            out.extend(input_paths(v))
        return out
    if isinstance(obj, Iterable):
        for v in obj:
            out.extend(input_paths(v))
    return out


@contextlib.contextmanager
def run_inputs(paths: Iterable[str | os.PathLike]) -> Iterator[None]:
    """Declare the inputs of the run in this context (the CLI wraps each command in it): every
    :class:`OutputSet` created inside refuses to write over any of them."""
    token = _RUN_INPUTS.set(_RUN_INPUTS.get() + tuple(input_paths(list(paths))))
    try:
        yield
    finally:
        _RUN_INPUTS.reset(token)


def add_run_inputs(paths: Iterable[str | os.PathLike]) -> None:
    """Add inputs to the current context's set (e.g. files a reader opened by itself)."""
    _RUN_INPUTS.set(_RUN_INPUTS.get() + tuple(input_paths(list(paths))))


class _InputIndex:
    """Identities of the inputs: real paths and (st_dev, st_ino), index companions included."""

    def __init__(self, paths: Iterable[str]) -> None:
        self.by_real: dict[str, str] = {}
        self.by_id: dict[tuple[int, int], str] = {}
        for p in dict.fromkeys(paths):
            for cand in (p, *(p + s for s in INDEX_SUFFIXES), *_bam_style_index(p)):
                self._add(cand, p)

    def _add(self, path: str, spelled: str) -> None:
        try:
            st = os.stat(path)
        except (OSError, ValueError):
            # a missing input, or an index a tool would create or look for beside it, still owns
            # its name: an output there would be taken for it
            self.by_real.setdefault(os.path.realpath(path), path)
            return
        self.by_real.setdefault(os.path.realpath(path), spelled if path == spelled else path)
        self.by_id.setdefault((st.st_dev, st.st_ino), spelled if path == spelled else path)

    def clash(self, final: Path) -> str | None:
        """The input that ``final`` would replace, or None."""
        hit = self.by_real.get(os.path.realpath(final))
        if hit is not None:
            return hit
        try:
            st = os.stat(final)
        except OSError:
            return None
        return self.by_id.get((st.st_dev, st.st_ino))


def _bam_style_index(path: str) -> list[str]:
    root, ext = os.path.splitext(path)
    return [root + ".bai"] if ext == ".bam" else ([root + ".crai"] if ext == ".cram" else [])


# -- prefixes ------------------------------------------------------------------------------------

def check_prefix(prefix: str | os.PathLike, option: str = "prefix") -> str:
    """Refuse an output prefix that names no file: empty, ending in a separator, ``.``/``..``;
    messages start with ``option`` (the command line gives its option, ``-o/--output``)."""
    text = os.fspath(prefix)
    seps = (os.sep,) + ((os.altsep,) if os.altsep else ())
    if not text or not text.strip():
        raise UsageError(f"{option}: empty output prefix; give a file prefix such as out/SAMPLE")
    if text.endswith(seps) or os.path.basename(text) in (".", ".."):
        raise UsageError(f"{option}: '{text}' names a folder, not a file prefix; give e.g. "
                         f"{os.path.join(text, 'SAMPLE')}")
    return text


def _missing_parents(folder: Path) -> list[Path]:
    """Folders to create (outermost first) so that ``folder`` exists; refuses a file in the way."""
    missing: list[Path] = []
    cur = folder
    while not cur.exists():
        if cur.is_symlink():
            raise UsageError(f"output folder '{cur}' is a dangling symbolic link")
        missing.append(cur)
        if cur.parent == cur:
            break
        cur = cur.parent
    if not cur.is_dir():
        raise UsageError(f"output folder '{cur}' is not a folder")
    return missing[::-1]


# -- the set -------------------------------------------------------------------------------------

_LIVE: set[OutputSet] = set()


class OutputSet:
    """Collect the files of one run and publish them together (see the module docstring).

    >>> with OutputSet("out/sample", inputs=[vcf, bed]) as outs:      # doctest: +SKIP
    ...     outs.write_json(".tmb.json", {...})
    ...     outs.write_text(".tmb.tsv", text)

    ``prefix`` + suffix gives each file's path; with ``folder=True`` the prefix is a folder and
    each suffix a file name inside it.  ``inputs``: paths (or a provenance ``inputs`` mapping) the
    outputs may not replace, in addition to those declared with :func:`run_inputs`.
    Creating a set has no side effect; the temporary folder is made when the first file is opened.
    """

    def __init__(self, prefix: str | os.PathLike, *, inputs: Any = None, folder: bool = False) -> None:
        text = os.fspath(prefix)
        if folder:
            if not text.strip():
                raise UsageError("output folder: empty name")
            self._dir, self._name = Path(text), ""
        else:
            check_prefix(text)
            self._dir, self._name = Path(text).parent, Path(text).name
        self.prefix = text
        self.folder = folder
        self._inputs = _InputIndex([*input_paths(inputs), *_RUN_INPUTS.get()])
        self._missing = _missing_parents(self._dir)
        self._tmpdir: Path | None = None
        self._pending: list[tuple[Path, Path]] = []
        self._made: list[Path] = []

    # planning -------------------------------------------------------------------------------
    def path(self, suffix: str) -> Path:
        return self._dir / suffix if self.folder else Path(self.prefix + suffix)

    def check(self, suffix: str) -> Path:
        """Check that PREFIX+suffix may be written (not an input, not a folder); returns it."""
        final = self.path(suffix)
        if os.path.abspath(final.parent) != os.path.abspath(self._dir):
            raise ValueError(f"output {final} is not in the folder of the set ({self._dir})")
        clash = self._inputs.clash(final)
        if clash is not None:
            same = "" if os.path.abspath(clash) == os.path.abspath(final) else f" (same file as input {clash})"
            what = "an input's index" if clash.endswith(INDEX_SUFFIXES) else "an input"
            raise UsageError(f"{final}: output would overwrite {what}{same}; choose another output name")
        if final.is_dir():
            raise UsageError(f"{final}: output path is a folder; choose another output name")
        if any(f == final for _, f in self._pending):
            raise ValueError(f"output {final} written twice in one set")
        return final

    def _temp_for(self, final_suffix: str) -> Path:
        final = self.check(final_suffix)
        tmp = self._ensure_tmpdir() / final.name
        self._pending.append((tmp, final))
        return tmp

    def _ensure_tmpdir(self) -> Path:
        if self._tmpdir is None:
            try:
                for d in self._missing:
                    os.mkdir(d)
                    self._made.append(d)
            except FileExistsError:
                pass  # another run made it meanwhile
            except OSError as exc:
                raise OutputError(f"cannot create output folder: {exc.strerror}", exc.filename) from None
            self._missing = []
            remove_stale(self._dir, self._name)
            name = f"{_hidden(self._name, TMP_TAG)}{host_tag()}-{os.getpid()}-{os.urandom(4).hex()}"
            try:
                os.mkdir(self._dir / name, 0o700)
            except OSError as exc:
                raise OutputError(f"cannot write in the output folder: {exc.strerror}", self._dir) from None
            self._tmpdir = self._dir / name
            _LIVE.add(self)
        return self._tmpdir

    # writing ---------------------------------------------------------------------------------
    def open(self, suffix: str, *, gzip_level: int | None = None) -> IO[str]:
        """A text handle to a temporary file that becomes PREFIX+suffix on commit."""
        final = self.path(suffix)
        tmp = self._temp_for(suffix)
        if gzip_level is not None or suffix.endswith(".gz"):
            # The gzip header records the final name and no time stamp: identical content gives
            # byte-identical files.
            raw = gzip.GzipFile(filename=final.name.removesuffix(".gz"), mode="wb",
                                compresslevel=gzip_level or 6, mtime=0, fileobj=_raw_open(tmp))
            return io.TextIOWrapper(_ClosingGzip(raw), encoding="utf-8", newline="\n")
        return io.TextIOWrapper(_raw_open(tmp), encoding="utf-8", newline="\n")

    def write_text(self, suffix: str, text: str) -> Path:
        with self.open(suffix) as fh:
            fh.write(text)
        return self.path(suffix)

    def write_json(self, suffix: str, obj: Any) -> Path:
        return self.write_text(suffix, json.dumps(obj, indent=2, sort_keys=False, default=json_default) + "\n")

    def write_with(self, suffix: str, writer: Callable[[Path], None]) -> Path:
        """Let ``writer(tmp_path)`` produce the file (e.g. bgzip + tabix, matplotlib savefig)."""
        writer(self._temp_for(suffix))
        return self.path(suffix)

    # publishing ------------------------------------------------------------------------------
    def commit(self) -> list[Path]:
        """Move every file into place under the prefix lock; all or nothing."""
        try:
            if not self._pending:
                return []
            for tmp, final in self._pending:
                if not os.path.lexists(tmp):
                    raise OutputError("output was not produced", final)
            _test_pause(self.prefix)
            with _PrefixLock(self._dir, self._name, self.prefix), _deferred_signals():
                _publish(self._pending, self._tmpdir)  # type: ignore[arg-type]
            done = [final for _, final in self._pending]
            self._pending.clear()
            self._made.clear()
            return done
        finally:
            self.abort()

    def abort(self) -> None:
        """Remove the temporary folder and any output folder this set created."""
        self._pending.clear()
        if self._tmpdir is not None:
            shutil.rmtree(self._tmpdir, ignore_errors=True)
            self._tmpdir = None
        for d in reversed(self._made):
            with contextlib.suppress(OSError):
                d.rmdir()
        self._made.clear()
        _LIVE.discard(self)

    def __enter__(self) -> OutputSet:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.commit()
            return
        written = self._output_of(exc) if isinstance(exc, OSError) else None
        self.abort()
        if written is not None:
            raise OutputError(write_problem(exc), written) from None

    def _output_of(self, exc: OSError) -> Path | None:
        """The output a write error concerns: the file named by the error when it is one of ours,
        the file being written when the error names none; None for an error about another file."""
        name = exc.filename
        for tmp, final in reversed(self._pending):
            if name is not None and os.fspath(name) == os.fspath(tmp):
                return final
        if name is None and self._pending:
            return self._pending[-1][1]
        if name is not None and self._tmpdir is not None and os.fspath(name).startswith(str(self._tmpdir)):
            return self._dir / Path(os.fspath(name)).name  # temporary files carry their final names
        return None


def _raw_open(tmp: Path) -> IO[bytes]:
    return open(tmp, "wb")


def write_problem(exc: OSError) -> str:
    what = exc.strerror or str(exc)
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return f"cannot write output: {what} (disk full or quota exceeded); nothing was published"
    return f"cannot write output: {what}; nothing was published"


def _publish(pending: list[tuple[Path, Path]], tmpdir: Path) -> None:
    """Rename every temporary file onto its final path.  If one rename fails, the files already
    renamed get their previous content back (kept as hard links in ``tmpdir``) or are removed."""
    done: list[tuple[Path, Path | None]] = []
    delay = float(os.environ.get(RENAME_DELAY_ENV) or 0)
    for i, (tmp, final) in enumerate(pending):
        backup: Path | None = None
        try:
            if os.path.lexists(final) and not final.is_dir():
                backup = tmpdir / f".previous-{i}"
                try:
                    os.link(final, backup, follow_symlinks=False)
                except OSError:
                    backup = None  # filesystem without hard links: no rollback for this file
            os.replace(tmp, final)
        except OSError as exc:
            for prev_final, prev_backup in reversed(done):
                with contextlib.suppress(OSError):
                    if prev_backup is not None:
                        os.replace(prev_backup, prev_final)
                    else:
                        os.unlink(prev_final)
            problem = "is a folder" if final.is_dir() else (exc.strerror or str(exc))
            raise OutputError(f"cannot publish output ({problem}); nothing was published", final) from None
        done.append((final, backup))
        if delay:
            time.sleep(delay)


def cleanup_all() -> None:
    """Remove the temporary folders of every set still open (signal and exit paths)."""
    for outs in list(_LIVE):
        outs.abort()


# -- the prefix lock -------------------------------------------------------------------------------

class _PrefixLock:
    """``fcntl.flock`` on ``.NAME.tmbcalc-lock`` beside the prefix, removed after use (a waiter
    that locked a file since removed retries on the new one)."""

    def __init__(self, folder: Path, name: str, prefix: str) -> None:
        self.path = folder / _hidden(name, LOCK_TAG)
        self.prefix = prefix
        self.fd: int | None = None

    def __enter__(self) -> _PrefixLock:
        import fcntl

        timeout = float(os.environ.get(LOCK_TIMEOUT_ENV, "600"))
        deadline = time.monotonic() + timeout
        while True:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError as exc:
                os.close(fd)
                if exc.errno not in (errno.EAGAIN, errno.EACCES):
                    raise OutputError(f"cannot lock the output prefix ({exc.strerror})", self.path) from None
                if time.monotonic() > deadline:
                    raise OutputError(f"another tmbcalc run has been publishing to '{self.prefix}' for "
                                      f"{timeout:g} s (lock {self.path}); try again", self.prefix) from None
                time.sleep(0.02)
                continue
            try:
                same = os.fstat(fd).st_ino == os.stat(self.path).st_ino
            except FileNotFoundError:
                same = False
            if same:
                self.fd = fd
                return self
            os.close(fd)  # the file was removed by its previous holder: lock the new one

    def __exit__(self, *exc: object) -> None:
        if self.fd is not None:
            with contextlib.suppress(OSError):
                os.unlink(self.path)
            os.close(self.fd)
            self.fd = None


# -- signals during publication -------------------------------------------------------------------

_CRITICAL = 0
_DEFERRED: list[int] = []


def defer_signal(signum: int) -> bool:
    """Called by the CLI's signal handler: True (and the signal is re-raised later) while a set is
    being published, so a SIGTERM cannot leave half a set in place."""
    if _CRITICAL:
        _DEFERRED.append(signum)
        return True
    return False


@contextlib.contextmanager
def _deferred_signals() -> Iterator[None]:
    global _CRITICAL
    _CRITICAL += 1
    try:
        yield
    finally:
        _CRITICAL -= 1
        if not _CRITICAL and _DEFERRED:
            signum = _DEFERRED.pop(0)
            _DEFERRED.clear()
            signal.raise_signal(signum)


def _test_pause(prefix: str) -> None:
    value = os.environ.get(PAUSE_ENV)
    if value:
        print(f"tmbcalc: test hook: pausing {value} s before publishing {prefix}", file=sys.stderr, flush=True)
        time.sleep(float(value))


# -- stale temporary folders -----------------------------------------------------------------------

def _hidden(name: str, tag: str) -> str:
    """``.NAME.tag`` beside a prefix NAME; ``.tag`` in a folder set."""
    return f".{name}{tag}" if name else tag


def host_tag() -> str:
    return "".join(c if c.isalnum() else "_" for c in os.uname().nodename)[:40] or "host"


def remove_stale(folder: Path, name: str) -> list[Path]:
    """Remove ``.NAME.tmbcalc-tmp-HOST-PID-TOKEN`` folders in ``folder`` left by runs on this host
    whose process is gone (killed); folders of other hosts and of live runs are left alone."""
    removed: list[Path] = []
    head = f"{_hidden(name, TMP_TAG)}{host_tag()}-"
    try:
        entries = [e for e in os.scandir(folder) if e.name.startswith(head)]
    except OSError:
        return removed
    for entry in entries:
        pid_text = entry.name[len(head):].split("-", 1)[0]
        if not pid_text.isdigit() or not entry.is_dir(follow_symlinks=False):
            continue
        if _alive(int(pid_text), entry.stat(follow_symlinks=False).st_mtime):
            continue
        shutil.rmtree(entry.path, ignore_errors=True)
        removed.append(Path(entry.path))
    return removed


def _alive(pid: int, since: float) -> bool:
    """Whether process ``pid`` exists and (where /proc tells) started before ``since`` (a PID
    reused by a process started after the folder was made is not its owner)."""
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    if _process_state(pid) in ("Z", "X"):      # killed and not yet reaped: it writes nothing any more
        return False
    started = _process_start(pid)
    return started is None or started <= since + 1


def _process_state(pid: int) -> str | None:
    """The one-letter state of process ``pid`` from /proc (``Z`` zombie, ``X`` dead), or None."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return None


def _process_start(pid: int) -> float | None:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
        with open("/proc/stat") as fh:
            btime = next(int(line.split()[1]) for line in fh if line.startswith("btime"))
        return btime + int(fields[19]) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError, StopIteration):
        return None


# -- helpers ----------------------------------------------------------------------------------------

class _ClosingGzip(io.RawIOBase):
    """Gzip stream that also closes the underlying file object it was given."""

    def __init__(self, gz: gzip.GzipFile) -> None:
        self._gz = gz

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        return self._gz.write(data)

    def close(self) -> None:
        if not self.closed:
            fileobj = self._gz.fileobj
            try:
                self._gz.close()
            finally:
                if fileobj is not None:
                    fileobj.close()
        super().close()


def json_default(obj: Any) -> Any:
    """``json.dumps`` default for numpy scalars/arrays and paths; non-finite numpy floats -> null."""
    import math

    import numpy as np

    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, np.floating):
        v = float(obj)
        return v if math.isfinite(v) else None
    if isinstance(obj, np.bool_):
        return bool(obj)
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, Path):
        return str(obj)
    raise TypeError(f"cannot serialise {type(obj).__name__}")


__all__ = ["OutputSet", "OutputError", "run_inputs", "add_run_inputs", "input_paths", "check_prefix",
           "cleanup_all", "remove_stale", "defer_signal", "write_problem", "json_default"]
