"""``run_batch``: validate a sheet, plan (reuse or run), execute, summarize.

The order is fixed: the whole sheet is read and validated before anything is created or run;
problems are raised together as :class:`SheetError` (exit 2).  Then OUTDIR is created, samples
whose outputs are up to date are reused (unless ``force``), the others are run by the chosen
executor, and ``OUTDIR/batch.tsv`` / ``batch.json`` are written with one row per sheet row in
sheet order (whatever order the samples finished in).
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from ..errors import UsageError
from .job import Outcome, SampleJob
from .plan import prefix_of, steps
from .sheet import Problem, SampleSpec, read_sheet


class SheetError(UsageError):
    """The sample sheet has problems; all of them are listed (exit code 2)."""

    def __init__(self, sheet: Path, problems: list[Problem]) -> None:
        self.problems = problems
        n = len(problems)
        lines = "\n".join(f"  {p}" for p in problems)
        super().__init__(f"{n} problem{'s' if n > 1 else ''} in the sample sheet; nothing was run:\n{lines}",
                         sheet)


@dataclass
class BatchResult:
    """What a batch produced: one summary row per sheet row (see :mod:`tmbcalc.batch.summary`)."""

    outdir: Path
    rows: list[dict[str, Any]]
    counts: dict[str, int]
    executor: str
    outputs: list[Path] = field(default_factory=list)

    @property
    def failed(self) -> list[dict[str, Any]]:
        return [r for r in self.rows if r["run_status"] == "failed"]

    @property
    def exit_code(self) -> int:
        """0 when every sample succeeded (computed or reused), 1 when some failed."""
        return 1 if self.failed else 0

    def to_dict(self) -> dict[str, Any]:
        return {"outdir": str(self.outdir), "counts": self.counts, "executor": self.executor, "samples": self.rows}


def run_batch(sheet: str | Path, outdir: str | Path, *, workers: int | None = None, scheduler: str | None = None,
              dask_workers: int | None = None, force: bool = False, attempts: int = 2,
              skip_invalid: bool = False, aggregate_only: bool = False, quiet: bool = True,
              stream: IO[str] | None = None) -> BatchResult:
    """Score every sample of ``sheet`` into ``outdir`` (``OUTDIR/SAMPLE/`` + ``batch.tsv/json/log``).

    ``workers``: local worker processes (default: the CPU count; 0 = in this process);
    ``scheduler`` / ``dask_workers``: Dask distributed instead; ``force``: recompute samples whose
    outputs are up to date; ``attempts``: tries of a sample whose worker process dies;
    ``skip_invalid``: record rows that fail validation as failed instead of refusing the sheet;
    ``aggregate_only``: run nothing, summarize outputs already in OUTDIR (e.g. written by the
    Snakemake workflow).  Raises :class:`SheetError` for an invalid sheet; a sample's own failure
    is recorded in its row, never raised.
    """
    from .validate import validate

    sheet_path, out = Path(sheet), Path(outdir)
    if scheduler and dask_workers:
        raise UsageError("give scheduler or dask_workers, not both", params=("scheduler", "dask_workers"))
    sh = read_sheet(sheet_path)
    header = [p for p in sh.problems if p.line == 0]
    problems = sh.problems + ([] if header else validate(sh.specs, out))
    if problems and (header or not skip_invalid):
        raise SheetError(sheet_path, problems)
    out.mkdir(parents=True, exist_ok=True)
    from .progress import Progress

    prog = Progress(out / "batch.log", quiet=quiet, stream=stream)
    try:
        return _run(sh.specs, problems, sheet_path, out, prog, workers=workers, scheduler=scheduler,
                    dask_workers=dask_workers, force=force, attempts=attempts, aggregate_only=aggregate_only)
    finally:
        prog.close()


def _run(specs: list[SampleSpec], problems: list[Problem], sheet: Path, out: Path, prog, *, workers, scheduler,
         dask_workers, force, attempts, aggregate_only) -> BatchResult:
    from ..provenance import checksums_enabled
    from .resume import fingerprint, reusable

    bad = {}
    for p in problems:
        bad.setdefault(p.line, []).append(str(p))
    outcomes: dict[str, Outcome] = {}
    jobs: list[SampleJob] = []
    for spec in specs:
        if spec.line in bad:
            outcomes[spec.sample] = Outcome(spec.sample, "failed", "invalid row: " + "; ".join(bad[spec.line]))
        elif aggregate_only:
            outcomes[spec.sample] = _existing(spec, out)
        else:
            fp = fingerprint(spec, checksums_enabled())
            marker = None if force else reusable(prefix_of(out, spec.sample), fp)
            if marker is not None:
                outcomes[spec.sample] = Outcome(spec.sample, "reused", "", marker.get("seconds"),
                                                marker.get("peak_rss_mb"), sorted(marker["outputs"]))
            else:
                jobs.append(SampleJob(spec, str(out), fp, checksums_enabled()))
    executor = _executor(workers, scheduler, dask_workers, attempts, len(jobs))
    prog.log(f"{len(specs)} samples in {sheet}: {len(jobs)} to run ({executor.name}), "
             f"{sum(o.run_status == 'reused' for o in outcomes.values())} up to date, "
             f"{sum(o.run_status == 'failed' for o in outcomes.values())} invalid; output {out}")
    prog.start(len(specs))
    for o in outcomes.values():
        prog.advance(o)

    def done(o: Outcome) -> None:
        outcomes[o.sample] = o
        prog.advance(o)

    if jobs:
        executor.run(jobs, done, lambda job, w: prog.started(job.spec.sample, w))
    return _finish(specs, outcomes, sheet, out, prog, executor.name, workers, scheduler, dask_workers, force)


def _finish(specs, outcomes, sheet, out, prog, executor, workers, scheduler, dask_workers, force) -> BatchResult:
    from ..provenance import build_provenance
    from .summary import counts, summary_row, write_summary

    rows = [summary_row(prefix_of(out, s.sample), outcomes[s.sample]) for s in specs]
    params = {"executor": executor, "workers": workers, "scheduler": scheduler, "dask_workers": dask_workers,
              "force": force, "outdir": str(out)}
    paths = write_summary(out, rows, build_provenance("batch", params, {"sheet": sheet}))
    paths += cohort_outputs(out, [r["sample"] for r in rows if r["run_status"] != "failed"], prog)
    c = counts(rows)
    failed = [r["sample"] for r in rows if r["run_status"] == "failed"]
    prog.log(f"done: {c['ok']} computed, {c['reused']} reused, {c['failed']} failed"
             + (f" ({', '.join(failed[:20])}{' ...' if len(failed) > 20 else ''})" if failed else "")
             + f"; wrote {paths[0]}, {paths[1]}")
    return BatchResult(out, rows, c, executor, paths)


def cohort_outputs(out: Path, good: list[str], prog) -> list[Path]:
    """After the summary: the batch HTML report (``OUTDIR/batch.html``) and MultiQC custom content
    for the samples that have results (``OUTDIR/batch.tmbcalc_*_mqc.json``), so that ``multiqc
    OUTDIR`` shows tmbcalc's columns.  These read the written results (they never recompute); a
    failure here is logged and leaves the per-sample results and batch.tsv/json as they are."""
    from ..errors import TmbcalcError
    from ..report.interop import write_multiqc
    from ..report.load import load_results
    from ..report.render import write_batch_report

    written: list[Path] = []
    try:
        written.append(write_batch_report(out / "batch.json", out / "batch.html"))
        prefixes = [prefix_of(out, s) for s in good
                    if any(Path(str(prefix_of(out, s)) + sfx).is_file() for sfx in (".tmb.json", ".msi.json"))]
        if prefixes:
            written += write_multiqc(load_results(prefixes), out / "batch")
    except TmbcalcError as exc:
        prog.log(f"warning: cohort report not written ({exc})")
    return written


def _existing(spec: SampleSpec, out: Path) -> Outcome:
    """Aggregation only: a sample is ok when every output its steps write is present."""
    prefix = prefix_of(out, spec.sample)
    missing = [prefix.name + sfx for st in steps(spec, out) for sfx in st.suffixes
               if not Path(str(prefix) + sfx).is_file()]
    if missing:
        return Outcome(spec.sample, "failed", "outputs missing: " + ", ".join(missing))
    return Outcome(spec.sample, "ok")


def _executor(workers, scheduler, dask_workers, attempts, n_jobs):
    from .executors import DaskExecutor, InProcess, LocalPool

    if scheduler or dask_workers:
        return DaskExecutor(scheduler, dask_workers, attempts)
    if workers == 0:
        return InProcess()
    if workers is not None and workers < 0:
        raise UsageError("workers must be >= 0", params=("workers",))
    n = workers or os.cpu_count() or 1
    return LocalPool(max(1, min(n, n_jobs or 1)), attempts)
