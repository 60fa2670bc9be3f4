"""One sample's work, run in a worker (a local pool process, a Dask worker, or in process).

:func:`run_sample` never raises for a problem of the sample's inputs: any error is returned as a
``failed`` outcome with its one-line message, after the files this attempt wrote are removed, so
one bad sample cannot stop or pollute the others.  On success a marker ``SAMPLE.batch.json``
(fingerprint, outputs, time, peak memory) is written last and atomically: a sample counts as
done only when its marker exists (see :mod:`tmbcalc.batch.resume`).

Per-sample figures: ``seconds`` is wall time; ``peak_rss_mb`` the worker process's peak resident
memory during the sample (Linux: the high-water mark is reset before each sample through
``/proc/self/clear_refs``; elsewhere the process peak so far).  ``TMBCALC_BATCH_DEBUG_SLEEP``
(seconds) delays each sample's start - a testing aid to kill a worker mid-sample.
"""
from __future__ import annotations

import contextlib
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import adapters
from .plan import msi_kwargs, msi_normal, prefix_of, steps, tmb_kwargs
from .sheet import SampleSpec


@dataclass(frozen=True)
class SampleJob:
    """What a worker needs (picklable): the row, where to write, and how to identify this run."""

    spec: SampleSpec
    outdir: str
    fingerprint: dict[str, Any]
    checksums: bool = True


@dataclass
class Outcome:
    sample: str
    run_status: str               # "ok", "failed" or "reused"
    error: str = ""
    seconds: float | None = None
    peak_rss_mb: float | None = None
    outputs: list[str] = field(default_factory=list)
    worker: str = ""
    attempts: int = 1


def warm_up() -> None:
    """Import what every sample needs once per worker (and make the provenance's list of loaded
    libraries the same in every worker, whatever ran before)."""
    import numpy  # noqa: F401
    import pandas  # noqa: F401

    from .. import tmb  # noqa: F401


def run_sample(job: SampleJob) -> Outcome:
    """Run every step of one sample's row; never raises for the sample's own problems."""
    from ..provenance import set_checksums

    warm_up()
    spec = job.spec
    prefix = prefix_of(job.outdir, spec.sample)
    delay = float(os.environ.get("TMBCALC_BATCH_DEBUG_SLEEP", "0") or 0)
    if delay > 0:
        time.sleep(delay)
    t0 = time.perf_counter()
    _reset_peak()
    written: list[Path] = []
    try:
        prefix.parent.mkdir(parents=True, exist_ok=True)
        clear_sample_dir(prefix)
        set_checksums(job.checksums)
        for step in steps(spec, job.outdir):
            with _argv(step.argv):
                written += _run_step(step.name, spec, prefix)
        outputs = sorted(p.name for p in written)
        seconds, peak = time.perf_counter() - t0, _peak_mb()
        from .resume import write_marker

        write_marker(prefix, job.fingerprint, outputs, seconds, peak)
        return Outcome(spec.sample, "ok", "", seconds, peak, outputs, worker=_worker_name())
    except Exception as exc:  # isolation: any failure of this sample is recorded, the batch goes on
        with contextlib.suppress(OSError):
            clear_sample_dir(prefix)
        return Outcome(spec.sample, "failed", error_line(exc), time.perf_counter() - t0, _peak_mb(),
                       worker=_worker_name())


def _run_step(name: str, spec: SampleSpec, prefix: Path) -> list[Path]:
    if name == "tmb":
        opts = tmb_kwargs(spec)
        return adapters.run_tmb(list(spec.calls), prefix, sample=spec.sample, panel=spec.panel,
                                bed=list(spec.bed), profile=spec.profile, tumor_bam=spec.tumor_bam,
                                normal_bam=spec.normal_bam, calibrate_to=spec.calibrate_to,
                                calibration_method=spec.option("calibration_method"), options=opts)
    if name == "msi":
        return adapters.run_msi_score(str(spec.tumor_bam), prefix, sample=spec.sample, loci=str(spec.loci),
                                      normal_bam=msi_normal(spec), baseline=spec.baseline,
                                      options=msi_kwargs(spec))
    return adapters.run_msi_mutations(list(spec.calls), Path(f"{prefix}.calls"), sample=spec.sample, loci=str(spec.loci),
                                      panel=spec.panel, bed=list(spec.bed),
                                      tumor_sample=spec.option("tumor_sample"))


def error_line(exc: BaseException) -> str:
    """The one-line message the single command would print after ``tmbcalc: error:``."""
    from ..errors import TmbcalcError

    if isinstance(exc, TmbcalcError):
        text = str(exc)
    elif isinstance(exc, OSError):
        where = f"{exc.filename}: " if getattr(exc, "filename", None) else ""
        text = f"{where}{exc.strerror or exc}"
    elif isinstance(exc, MemoryError):
        text = "out of memory"
    else:
        text = f"internal error ({type(exc).__name__}: {exc}); please report it"
    return " ".join(text.split())


def clear_sample_dir(prefix: Path) -> None:
    """Remove this sample's files (``SAMPLE.*`` and hidden temporaries ``.SAMPLE.*``) from its
    folder, and the temporary folders that killed runs left for its prefixes (``.SAMPLE.calls...``),
    and nothing else: files a user put there are left alone."""
    from ..output import TMP_TAG, remove_stale

    folder, name = prefix.parent, prefix.name
    if not folder.is_dir():
        return
    for p in folder.iterdir():
        if (p.name.startswith(name + ".") or p.name.startswith("." + name + ".")) and p.is_file():
            p.unlink()
        elif p.name.startswith("." + name) and TMP_TAG in p.name and p.is_dir():
            remove_stale(folder, p.name[1:p.name.index(TMP_TAG)])


@contextlib.contextmanager
def _argv(argv: tuple[str, ...]):
    """Record the equivalent single command as the provenance's command line (not the worker's)."""
    saved = sys.argv
    sys.argv = list(argv)
    try:
        yield
    finally:
        sys.argv = saved


def _reset_peak() -> None:
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
    except OSError:
        pass


def _peak_mb() -> float:
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    import resource

    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def _worker_name() -> str:
    return f"pid {os.getpid()}"
