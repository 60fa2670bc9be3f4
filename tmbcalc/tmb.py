"""TMB: eligible somatic mutations per Mb of the denominator footprint — the public API.

:func:`compute_tmb` reads a VCF/BCF/MAF, resolves the counting profile (profile file + explicit
overrides), builds the denominator (merged footprint BEDs or a panel footprint, optionally
intersected with a coding BED, minus excluded regions, intersected with a callable BED or a
callable footprint computed from BAMs), applies the eligibility rules and returns a
:class:`TmbResult` with per-sample counts, exact intervals and cut-point statistics.
``TmbResult.write(prefix)`` writes ``PREFIX.tmb.json``, ``PREFIX.tmb.tsv`` and
``PREFIX.variants.tsv.gz`` atomically.  Units: TMB in mutations/Mb, footprint in bp and Mb.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from . import stats
from .contigs import check_same_build, detect_build, shared_contigs
from .errors import ContigMismatchError, InputError, UsageError, require_readable
from .profiles import Profile, load_profile
from .provenance import build_provenance
from .regions import RegionSet
from .rules import RULES, RuleOutcome, check_requirements, evaluate
from .variants import FILTER_MISSING, VariantTable

DEFAULT_PROFILE = "wes-merino"


@dataclass
class SampleTmb:
    """TMB of one tumor sample (mutations/Mb; interval exact Garwood 95%)."""

    sample: str
    tmb: float
    eligible_variants: int
    footprint_bp: int
    ci95_low: float
    ci95_high: float
    p_tmb_ge_cut: dict[str, float]
    status: dict[str, str]
    at_or_above_cut: dict[str, bool]
    records: int
    in_footprint: int
    excluded: dict[str, int]          # first failing rule -> count
    failing: dict[str, int]           # every failing rule -> count (a variant may fail several)

    def to_dict(self) -> dict[str, Any]:
        return {
            "sample": self.sample, "tmb": self.tmb, "eligible_variants": self.eligible_variants,
            "footprint_bp": self.footprint_bp, "footprint_mb": self.footprint_bp / 1e6,
            "ci95_low": self.ci95_low, "ci95_high": self.ci95_high, "p_tmb_ge_cut": self.p_tmb_ge_cut,
            "status": self.status, "at_or_above_cut": self.at_or_above_cut, "records": self.records,
            "in_footprint": self.in_footprint, "excluded": self.excluded, "failing": self.failing,
        }


@dataclass
class TmbResult:
    """Everything a TMB run produced (what the output files contain, plus the row-level table)."""

    samples: list[SampleTmb]
    profile: Profile
    cutpoints: list[float]
    denominator: dict[str, Any]
    provenance: dict[str, Any]
    warnings: list[str]
    table: VariantTable = field(repr=False)
    outcome: RuleOutcome = field(repr=False)

    def sample(self, name: str) -> SampleTmb:
        for s in self.samples:
            if s.sample == name:
                return s
        raise KeyError(name)

    def to_json(self) -> dict[str, Any]:
        return {"samples": [s.to_dict() for s in self.samples], "cutpoints": self.cutpoints,
                "denominator": self.denominator, "warnings": self.warnings, "provenance": self.provenance}

    def write(self, prefix: str | Path, *, threads: int = 1) -> list[Path]:
        """Write PREFIX.tmb.json, PREFIX.tmb.tsv, PREFIX.variants.tsv.gz atomically."""
        from .tmb_report import write_outputs

        return write_outputs(self, prefix, threads=threads)


# ---------------------------------------------------------------------------------------------
def read_variants(path: str | Path, *, tumor_sample: str | None = None, normal_sample: str | None = None,
                  profile: Profile, reference: str | Path | None = None, threads: int = 1) -> VariantTable:
    """Read VCF/BCF (htslib kernel) or MAF (detected by its header) into a VariantTable."""
    p = require_readable(path, "input")
    if _is_text_table(p):           # not VCF/BCF: a MAF (read_maf names any missing column)
        from .io.maf import read_maf

        table = read_maf(p, pop_af_fields=profile.pop_af_fields, reference=reference)
        if tumor_sample is not None:
            if tumor_sample not in table.samples:
                raise UsageError(f"--tumor-sample '{tumor_sample}' is not a Tumor_Sample_Barcode of {p} "
                                 f"({len(table.samples)} samples, e.g. {', '.join(table.samples[:3])})")
            idx = table.samples.index(tumor_sample)
            sub = table.take(table["sample"] == idx)
            sub.columns["sample"][:] = 0
            sub.samples = [tumor_sample]
            sub.allele_text = _take_text(table.allele_text, np.flatnonzero(table["sample"] == idx))
            table = sub
        return table
    from .io.vcf import read_vcf

    return read_vcf(p, tumor_sample=tumor_sample, normal_sample=normal_sample,
                    pop_af_fields=tuple(profile.pop_af_fields), csq_pick=profile.csq_pick,
                    keep_alleles=True, threads=threads)


def _is_text_table(p: Path) -> bool:
    """Tab-separated text that is not VCF/BCF: first line neither ``##fileformat=VCF`` nor BCF
    magic, and it contains a tab (a header row)."""
    import gzip

    with open(p, "rb") as fh:
        head = fh.read(2)
    try:
        opener = gzip.open if head == b"\x1f\x8b" else open
        with opener(p, "rb") as fh:
            start = fh.read(4096)
    except (OSError, EOFError):
        return False
    if start.startswith(b"##fileformat=VCF") or start.startswith(b"BCF") or start.startswith(b"#CHROM"):
        return False
    first = start.split(b"\n", 1)[0]
    return b"\t" in first or first.startswith(b"#version")


def _take_text(text, rows: np.ndarray):
    if text is None:
        return None
    buf, off = text
    starts, ends = off[rows], off[rows + 1]
    lens = ends - starts
    new_off = np.zeros(rows.size + 1, dtype=np.int64)
    np.cumsum(lens, out=new_off[1:])
    if rows.size == 0:
        return np.empty(0, np.uint8), new_off
    idx = np.repeat(starts - new_off[:-1], lens) + np.arange(int(new_off[-1]))
    return buf[idx], new_off


def _read_beds(paths: Sequence[str | Path], what: str) -> RegionSet:
    from .io.bed import read_bed

    out = RegionSet({})
    for path in paths:
        require_readable(path, what)
        out = out.union(read_bed(path))
    return out


def _input_build(table: VariantTable) -> str | None:
    if table.meta.get("build"):
        return table.meta["build"]
    lengths = table.meta.get("contig_lengths") or {}
    return detect_build(lengths) if lengths else None


def resolve_profile(profile: str | Path | Profile | None, overrides: dict[str, Any], panel=None) -> Profile:
    if isinstance(profile, Profile):
        prof = profile
    else:
        prof = load_profile(profile or (panel.profile if panel is not None and panel.profile else DEFAULT_PROFILE))
    return prof.override(**overrides)


def compute_tmb(
    input: str | Path,
    *,
    bed: str | Path | Sequence[str | Path] | None = None,
    panel: str | None = None,
    panel_bed: str | Path | None = None,
    tumor_sample: str | None = None,
    normal_sample: str | None = None,
    profile: str | Path | Profile | None = None,
    coding_bed: str | Path | None = None,
    exclude_bed: str | Path | Sequence[str | Path] | None = None,
    callable_bed: str | Path | None = None,
    tumor_bam: str | Path | None = None,
    normal_bam: str | Path | None = None,
    min_coverage: int | None = None,
    min_normal_coverage: int | None = None,
    mapq: int = 20,
    reference: str | Path | None = None,
    exclude_hotspots: str | Path | Sequence[str | Path] | None = None,
    pop_af_vcf: str | Path | None = None,
    cutpoints: Sequence[float] | None = None,
    threads: int = 1,
    command: str = "tmb",
    **overrides: Any,
) -> TmbResult:
    """Compute TMB per tumor sample.

    ``overrides`` are profile fields (``min_vaf``, ``min_depth``, ``min_alt_reads``, ``max_pop_af``,
    ``variant_types``, ``consequences``, ``pop_af_fields``, ``multiallelic``, ...; ``None`` = keep
    the profile's value, ``"off"`` = switch a threshold off).  Exactly one of ``bed`` (one or more
    footprint BEDs, merged) and ``panel`` (registry id) is required.
    """
    beds = [bed] if isinstance(bed, (str, Path)) else list(bed or [])
    excl = [exclude_bed] if isinstance(exclude_bed, (str, Path)) else list(exclude_bed or [])
    hot = [exclude_hotspots] if isinstance(exclude_hotspots, (str, Path)) else list(exclude_hotspots or [])
    if bool(beds) == bool(panel):
        raise UsageError("give exactly one of --panel ID or --bed BED")
    if panel_bed and not panel:
        raise UsageError("--panel-bed needs --panel")
    if callable_bed and tumor_bam:
        raise UsageError("give either --callable-bed or --tumor-bam, not both")
    if normal_bam and not tumor_bam:
        raise UsageError("--normal-bam needs --tumor-bam")
    if (min_coverage is not None or min_normal_coverage is not None) and not tumor_bam:
        raise UsageError("--min-coverage/--min-normal-coverage need --tumor-bam")
    unknown = set(overrides) - set(Profile.__dataclass_fields__)
    if unknown:
        raise UsageError(f"unknown profile override(s): {', '.join(sorted(unknown))}")

    panel_obj = None
    if panel:
        from .panels import load_panel

        panel_obj = load_panel(panel)
    prof = resolve_profile(profile, overrides, panel_obj)
    cuts = sorted(float(c) for c in (cutpoints if cutpoints else
                                     (panel_obj.cutpoints if panel_obj is not None and panel_obj.cutpoints
                                      else prof.cutpoints)))
    if any(c < 0 for c in cuts):
        raise UsageError("cut points must be >= 0 mut/Mb")

    # validate small inputs before the (possibly long) variant read
    for path in [*beds, *excl, *hot, coding_bed, callable_bed, tumor_bam, normal_bam, pop_af_vcf, reference]:
        if path is not None:
            require_readable(path, "file")
    from .hotspots import read_hotspots

    hotspot_lists = [read_hotspots(h) for h in hot]
    check_requirements(VariantTable.empty(str(input)), prof, hotspots_given=bool(hotspot_lists))

    # denominator (everything but the BAM-derived callable part, which needs the build check first);
    # built in a worker thread while the variant kernel (which releases the GIL) reads the input
    def build_denominator():
        stages: list[dict[str, Any]] = []
        if panel_obj is not None:
            footprint = panel_obj.footprint(bed=panel_bed)
            fp_name = f"panel {panel_obj.id}"
            kind = "panel_bed"
            stages.append({"stage": "panel_footprint", "source": panel_obj.id, "bp": footprint.total_bp()})
        else:
            footprint = _read_beds(beds, "footprint BED")
            fp_name = ", ".join(Path(b).name for b in beds)
            kind = "panel_bed"
            stages.append({"stage": "footprint", "source": [str(b) for b in beds], "bp": footprint.total_bp(),
                           "note": "BEDs merged (overlaps counted once)"})
        if footprint.is_empty():
            raise InputError("footprint is empty (no intervals)", beds[0] if beds else panel)
        if coding_bed:
            coding = _read_beds([coding_bed], "coding BED")
            shared_contigs(footprint.contigs, coding.contigs, fp_name, str(coding_bed))
            footprint = footprint.intersect(coding)
            kind += "∩coding"
            stages.append({"stage": "intersect_coding", "source": str(coding_bed), "bp": footprint.total_bp()})
        if excl:
            ex = _read_beds(excl, "exclusion BED")
            footprint = footprint.subtract(ex)
            kind += "−excluded"
            stages.append({"stage": "subtract_excluded", "source": [str(e) for e in excl], "bp": footprint.total_bp()})
        if callable_bed:
            cb = _read_beds([callable_bed], "callable BED")
            shared_contigs(footprint.contigs, cb.contigs, fp_name, str(callable_bed))
            footprint = footprint.intersect(cb)
            kind = "callable_bed" if kind == "panel_bed" else kind + "∩callable_bed"
            stages.append({"stage": "intersect_callable_bed", "source": str(callable_bed), "bp": footprint.total_bp()})
        if footprint.is_empty():
            raise InputError(f"footprint is empty after {stages[-1]['stage']}", stages[-1].get("source") if
                             isinstance(stages[-1].get("source"), str) else None)

        return footprint, stages, kind, fp_name

    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=1) as pool:
        denominator_job = pool.submit(build_denominator)
        try:
            table = read_variants(input, tumor_sample=tumor_sample, normal_sample=normal_sample, profile=prof,
                                  reference=reference, threads=threads)
        except BaseException:
            denominator_job.result()          # a footprint error is reported first (it is cheaper to fix)
            raise
        footprint, stages, kind, fp_name = denominator_job.result()
    in_build = _input_build(table)
    if panel_obj is not None:
        check_same_build((str(input), in_build), (f"panel {panel_obj.id}", panel_obj.build))
    elif in_build:
        from .panels import check_regions_fit_build

        try:
            check_regions_fit_build(footprint, in_build, Path(beds[0]))
        except InputError as exc:
            raise ContigMismatchError(f"{exc.message} (the input {Path(str(input)).name} is {in_build} by its "
                                      f"header / NCBI_Build column)", exc.path) from None
    if len(table):
        present = [table.contigs[i] for i in np.unique(table["contig"]).tolist()]
        shared_contigs(present, footprint.contigs, str(input), fp_name)
    callable_info = None
    if tumor_bam:
        from .coverage import compute_callable

        mc = min_coverage if min_coverage is not None else prof.min_depth
        if mc is None:
            raise UsageError(f"--tumor-bam needs --min-coverage (profile '{prof.name}' sets no min_depth to "
                             f"default to)")
        res = compute_callable(tumor_bam, footprint, normal_bam=normal_bam, min_depth=int(mc),
                               min_normal_depth=min_normal_coverage, mapq=mapq, reference=reference,
                               threads=threads)
        footprint = res.callable
        kind = "callable_from_bams" if kind == "panel_bed" else kind + "∩callable_from_bams"
        callable_info = dict(res.parameters)
        stages.append({"stage": "intersect_callable_from_bams", "source": [str(x) for x in (tumor_bam, normal_bam)
                                                                            if x], "bp": int(res.callable_bp),
                       "parameters": callable_info})
        if footprint.is_empty():
            raise InputError(f"no callable bases in the footprint at min coverage {mc}", tumor_bam)

    warnings: list[str] = []
    if len(table) == 0:
        warnings.append("the input has no variant records: TMB is 0 by an empty input, not by filtering")
    # population AF from a resource VCF
    if pop_af_vcf is not None:
        table = _add_resource_pop_af(table, pop_af_vcf, prof)
    hotspot_mask = None
    if hotspot_lists:
        from .hotspots import match_hotspots

        hotspot_mask = np.zeros(len(table), dtype=bool)
        for hl in hotspot_lists:
            hotspot_mask |= match_hotspots(table, hl)
    check_requirements(table, prof, hotspots_given=bool(hotspot_lists))
    outcome = evaluate(table, prof, footprint, hotspot_mask)
    if prof.require_pass and not prof.filter_missing_is_pass and len(table) and \
            bool((table["filter"] == FILTER_MISSING).all()):
        warnings.append("every record has FILTER '.' (missing), which the profile does not count as PASS; "
                        "use --filter-missing-is-pass if the calls are already filtered")

    fp_bp = footprint.total_bp()
    samples = _per_sample(table, outcome, fp_bp, cuts)
    denominator = {"kind": kind, "footprint_bp": fp_bp, "footprint_mb": fp_bp / 1e6, "stages": stages,
                   "variant_overlap_convention": "SNV/MNV/complex: REF span; deletion: deleted bases "
                   "(padding base ignored); insertion: either flanking base", "contigs": len(footprint.contigs)}
    if panel_obj is not None:
        denominator["panel_declared_tmb_mb"] = panel_obj.declared_tmb_mb
    params = {"profile": prof.name, "cutpoints": cuts, "tumor_sample": tumor_sample, "normal_sample": normal_sample,
              "overrides": {k: v for k, v in overrides.items() if v is not None},
              "min_coverage": min_coverage, "min_normal_coverage": min_normal_coverage,
              "mapq": mapq if tumor_bam else None, "panel": panel}
    extra: dict[str, Any] = {"profile": prof.to_dict(), "denominator": denominator,
                             "rules_order": list(RULES), "rules_active": list(outcome.active),
                             "input_format": table.meta.get("format", "vcf"),
                             "input_meta": _jsonable_meta(table.meta)}
    if panel_obj is not None:
        extra["panel"] = panel_obj.to_dict()
    provenance = build_provenance(command, params, {
        "input": input, "bed": [str(b) for b in beds] or None, "panel_bed": panel_bed, "coding_bed": coding_bed,
        "exclude_bed": [str(e) for e in excl] or None, "callable_bed": callable_bed, "tumor_bam": tumor_bam,
        "normal_bam": normal_bam, "exclude_hotspots": [str(h) for h in hot] or None, "pop_af_vcf": pop_af_vcf,
        "reference": reference}, **extra)
    return TmbResult(samples, prof, cuts, denominator, provenance, warnings, table, outcome)


def _jsonable_meta(meta: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for k, v in meta.items():
        if k == "contig_lengths":
            continue
        if isinstance(v, (str, int, float, bool, type(None))):
            out[k] = v
        elif isinstance(v, (list, tuple)) and all(isinstance(x, (str, int, float, bool)) for x in v):
            out[k] = list(v)
        elif isinstance(v, dict) and all(isinstance(x, (str, int, float, bool, type(None))) for x in v.values()):
            out[k] = dict(v)
    return out


def _add_resource_pop_af(table: VariantTable, resource: str | Path, prof: Profile) -> VariantTable:
    from .hotspots import join_sites
    from .io.vcf import read_vcf

    # in a population resource the plain INFO/AF is the population frequency: read it too
    fields = tuple(dict.fromkeys([*prof.pop_af_fields, "AF"]))
    res = read_vcf(resource, pop_af_fields=fields, keep_alleles=False)
    if len(table) and len(res):
        shared_contigs([table.contigs[i] for i in np.unique(table["contig"]).tolist()], res.contigs,
                       table.source, str(resource))
    af = join_sites(table, res, res["pop_af"].astype(np.float64))
    cur = table["pop_af"].astype(np.float64)
    table.columns["pop_af"] = np.fmax(cur, af).astype(np.float32)
    table.meta["has_pop_af"] = bool(table.meta.get("has_pop_af")) or bool((~np.isnan(res["pop_af"])).any())
    table.meta["pop_af_resource"] = str(resource)
    return table


def _per_sample(table: VariantTable, outcome: RuleOutcome, fp_bp: int, cuts: list[float]) -> list[SampleTmb]:
    mb = fp_bp / 1e6
    ns = max(len(table.samples), 1)
    sample_idx = table["sample"].astype(np.int64)
    eligible = np.bincount(sample_idx[outcome.eligible], minlength=ns)
    records = np.bincount(sample_idx, minlength=ns)
    inside = np.bincount(sample_idx[outcome.in_footprint], minlength=ns)
    names = table.samples or ["(no sample)"]
    low, high = stats.garwood_interval(eligible, mb)
    order = np.argsort(sample_idx, kind="stable")
    bounds = np.searchsorted(sample_idx[order], np.arange(ns + 1))
    out = []
    for i, name in enumerate(names):
        k = int(eligible[i])
        rows = order[bounds[i]:bounds[i + 1]]
        p = {stats.cut_label(c): float(stats.prob_rate_at_least(k, mb, c)) for c in cuts}
        st = {stats.cut_label(c): stats.status(float(low[i]), float(high[i]), c) for c in cuts}
        tmb = k / mb
        above = {stats.cut_label(c): bool(tmb >= c) for c in cuts}
        out.append(SampleTmb(name, tmb, k, fp_bp, float(low[i]), float(high[i]), p, st, above,
                             int(records[i]), int(inside[i]), outcome.first_fail_counts(rows),
                             outcome.all_fail_counts(rows)))
    return out


__all__ = ["compute_tmb", "TmbResult", "SampleTmb", "read_variants", "DEFAULT_PROFILE"]
