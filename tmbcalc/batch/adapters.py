"""Thin adapters between the batch job and the capability APIs whose shapes are still settling.

Each returns the paths it wrote under ``prefix``.  When every capability's result has
``write(prefix)`` (issue #9), these shrink to ``api(...).write(prefix)``:

* TMB: ``compute_tmb(...)`` -> ``TmbResult.write`` (harmonization by ``calibrate.harmonize_tmb``);
  several calls files of one sample (Strelka2 SNVs + indels) are passed as a list.
* MSI from reads: ``msi_score(..., output=prefix)`` writes itself today; ``.write(prefix)`` when
  the API stops writing (both handled).
* MSI from calls: ``msi_mutations(...)`` -> ``.write(prefix)``; the reported sample renamed.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

def run_tmb(calls: list[str], prefix: Path, *, sample: str, panel: str | None, bed: list[str],
            profile: str | None, tumor_bam: str | None, normal_bam: str | None, calibrate_to: str | None,
            calibration_method: str | None, options: dict[str, Any]) -> list[Path]:
    from ..tmb import compute_tmb

    source: Any = calls[0] if len(calls) == 1 else list(calls)
    res = compute_tmb(source, panel=panel, bed=bed or None, profile=profile, tumor_bam=tumor_bam,
                      normal_bam=normal_bam, threads=1, keep_table=False, spool_dir=prefix.parent,
                      sample_name=sample, **options)
    if calibrate_to:
        from ..calibrate.harmonization import harmonize_tmb

        harmonize_tmb(res, calibrate_to, method=calibration_method)
    return res.write(prefix, threads=1)


def run_msi_score(tumor_bam: str, prefix: Path, *, sample: str, loci: str, normal_bam: str | None,
                  baseline: str | None, options: dict[str, Any]) -> list[Path]:
    import inspect

    from ..msi.score import msi_score

    args = dict(normal_bam=normal_bam, baseline=baseline, sample=sample, threads=1, **options)
    if "output" in inspect.signature(msi_score).parameters:     # today: the API writes when given output=
        res = msi_score(tumor_bam, loci, output=prefix, **args)
        return [Path(p) for p in (getattr(res, "outputs", None) or [])]
    return msi_score(tumor_bam, loci, **args).write(prefix)     # once it returns a result to write (#9)


def run_msi_mutations(calls: list[str], prefix: Path, *, sample: str, loci: str, panel: str | None,
                      bed: list[str], tumor_sample: str | None) -> list[Path]:
    from ..msi.mutations import msi_mutations

    res = msi_mutations(calls[0], loci=loci, panel=panel, bed=bed[0] if bed else None, tumor_sample=tumor_sample,
                        threads=1)
    rename_single_sample(res, sample)
    return res.write(prefix)


def rename_single_sample(result: Any, name: str) -> None:
    """Report the one tumor of ``result`` as ``name`` (``--sample``); refuse a multi-tumor result."""
    from ..errors import UsageError

    if len(result.samples) != 1:
        raise UsageError(f"sample names one tumor but the input holds {len(result.samples)}; "
                         "pick one with tumor_sample", params=("sample", "tumor_sample"))
    result.samples[0].sample = name
