"""Batch scoring of whole runs and cohorts from a sample sheet (``tmbcalc batch``).

Composition of the capability APIs, one small module per concept::

    names      sample names from an untrusted sheet -> safe folder names
    options    per-sample option columns (named like the single commands' flags)
    sheet      reading the sheet into SampleSpec rows (paths resolved against its folder)
    validate   whole-sheet checks before any work (every problem with its line and column)
    plan       the steps of a row as the equivalent single commands
    adapters   thin calls of the capability APIs (TMB, MSI from reads, MSI from calls)
    job        one sample in a worker: isolation, outputs, marker, time and peak memory
    resume     fingerprints and markers: skip samples whose outputs are up to date
    executors  in-process, local worker pool, Dask distributed
    summary    batch.tsv / batch.json read back from the per-sample outputs
    progress   tqdm bar on a terminal, log lines otherwise, OUTDIR/batch.log
    runner     run_batch(): validate -> plan -> execute -> summarize
"""
from __future__ import annotations

from typing import Any

__all__ = ["run_batch", "BatchResult", "SheetError"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from . import runner

        return getattr(runner, name)
    raise AttributeError(f"module 'tmbcalc.batch' has no attribute {name!r}")
