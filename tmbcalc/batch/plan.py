"""What one sample's row runs, as the single commands a user would type.

Each step is an argv of ``tmbcalc`` (recorded as the ``command_line`` of the step's provenance,
so a batch output says how to reproduce it alone) and the API call that does the same work in
process.  Steps, in order:

* ``tmb``           when the row has calls (callable denominator from tumor_bam/normal_bam,
                    harmonized with calibrate_to);
* ``msi score``     when it has tumor_bam and loci (paired with msi_normal_bam or normal_bam,
                    tumor-only with baseline);
* ``msi mutations`` when it has one calls file and loci (MSI from the repeat indels of the calls;
                    not for several calls files, which ``msi mutations`` does not take).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .options import OPTIONS
from .sheet import SampleSpec


@dataclass(frozen=True)
class Step:
    name: str                 # "tmb", "msi", "msi_mutations"
    argv: tuple[str, ...]     # the equivalent single command
    suffixes: tuple[str, ...]  # output files it writes (PREFIX + suffix)


def prefix_of(outdir: str | Path, sample: str) -> Path:
    """OUTDIR/SAMPLE/SAMPLE: the output prefix of one sample."""
    return Path(outdir) / sample / sample


def msi_normal(spec: SampleSpec) -> str | None:
    """The normal BAM of paired MSI (msi_normal_bam, else normal_bam unless a baseline is given)."""
    if spec.msi_normal_bam:
        return spec.msi_normal_bam
    return None if spec.baseline else spec.normal_bam


def _option_argv(spec: SampleSpec, target: str) -> list[str]:
    values = dict(spec.options)
    out: list[str] = []
    for col, text in spec.option_text:
        opt = OPTIONS[col]
        if opt.target != target:
            continue
        if isinstance(values[col], bool):      # a switch: present when yes
            out += [opt.flag] if values[col] else []
        else:
            out += [opt.flag, *(text.split(";") if opt.files else [text])]
    return out


def steps(spec: SampleSpec, outdir: str | Path) -> list[Step]:
    prefix = str(prefix_of(outdir, spec.sample))
    out: list[Step] = []
    foot = ["--panel", spec.panel] if spec.panel else ["--bed", *spec.bed]
    if spec.calls:
        argv = ["tmbcalc", "tmb", *spec.calls, *foot]
        if spec.profile:
            argv += ["--profile", spec.profile]
        if spec.tumor_bam:
            argv += ["--tumor-bam", spec.tumor_bam]
        if spec.normal_bam:
            argv += ["--normal-bam", spec.normal_bam]
        argv += _option_argv(spec, "tmb")
        if spec.calibrate_to:
            argv += ["--calibrate-to", spec.calibrate_to, *_option_argv(spec, "cal")]
        argv += ["--threads", "1", "--sample", spec.sample, "-o", prefix]
        out.append(Step("tmb", tuple(argv), (".tmb.json", ".tmb.tsv", ".variants.tsv.gz")))
    if spec.tumor_bam and spec.loci:
        normal = msi_normal(spec)
        mode = ["--normal-bam", normal] if normal else ["--baseline", str(spec.baseline)]
        argv = ["tmbcalc", "msi", "score", spec.tumor_bam, *mode, "--loci", spec.loci,
                *_option_argv(spec, "msi"), "--sample", spec.sample, "-o", prefix]
        out.append(Step("msi", tuple(argv), (".msi.json", ".msi_loci.tsv.gz")))
    if len(spec.calls) == 1 and spec.loci:     # msi mutations reads one calls file
        argv = ["tmbcalc", "msi", "mutations", spec.calls[0], "--loci", spec.loci, *foot]
        if spec.option("tumor_sample"):
            argv += ["--tumor-sample", str(spec.option("tumor_sample"))]
        # MSI from calls shares the MSI output names (PREFIX.msi.json): its own prefix PREFIX.calls
        argv += ["--sample", spec.sample, "-o", f"{prefix}.calls"]
        out.append(Step("msi_mutations", tuple(argv), (".calls.msi.json", ".calls.msi.tsv")))
    return out


def tmb_kwargs(spec: SampleSpec) -> dict[str, Any]:
    """compute_tmb keyword arguments from the row's TMB option columns."""
    kw: dict[str, Any] = {}
    for col, value in spec.options:
        opt = OPTIONS[col]
        if opt.target != "tmb":
            continue
        if opt.files and col in ("exclude_bed", "exclude_hotspots"):
            value = str(value).split(";")
        kw[opt.kwarg] = value
    return kw


def msi_kwargs(spec: SampleSpec) -> dict[str, Any]:
    return {OPTIONS[c].kwarg: v for c, v in spec.options if OPTIONS[c].target == "msi"}
