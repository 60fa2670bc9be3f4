"""TMB: eligible somatic mutations per Mb of the denominator footprint — the public API.

:func:`compute_tmb` reads a VCF/BCF/MAF, resolves the counting profile (profile file + explicit
overrides), builds the denominator (merged footprint BEDs or a panel footprint, optionally
intersected with a coding BED, minus excluded regions, intersected with a callable BED or a
callable footprint computed from BAMs), applies the eligibility rules and returns a
:class:`TmbResult` with per-sample counts, exact intervals and cut-point statistics.
``TmbResult.write(prefix)`` writes ``PREFIX.tmb.json``, ``PREFIX.tmb.tsv`` and
``PREFIX.variants.tsv.gz`` atomically.  Units: TMB in mutations/Mb, footprint in bp and Mb.

VCF/BCF input is streamed in chunks (``chunk_rows``): rules are evaluated and tallied per chunk
and, with ``keep_table=False`` (the CLI), the variants report is written while reading, so peak
memory does not grow with the input.  Every rule is row-local: results do not depend on the chunk
size or the thread count.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .contigs import check_same_build, detect_build, shared_contigs
from .errors import ContigMismatchError, InputError, UsageError, require_readable
from .harmonized import Harmonization, HarmonizedTmb
from .profiles import Profile, load_profile
from .provenance import build_provenance
from .regions import RegionSet
from .rules import BIT, RULES, RuleOutcome, active_rules, check_requirements, evaluate
from .variants import FILTER_MISSING, VariantTable

DEFAULT_PROFILE = "wes-merino"
DEFAULT_CHUNK_ROWS = 200_000   # rows per VCF chunk (~25 MB of columns + allele text)
DEFAULT_THREADS = 2            # BGZF decompression on a second thread, overlapping parsing


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
    harmonized: HarmonizedTmb | None = None   # reference-scale TMB (tmbcalc.calibrate.harmonize_tmb)

    def to_dict(self) -> dict[str, Any]:
        out = {
            "sample": self.sample, "tmb": self.tmb, "eligible_variants": self.eligible_variants,
            "footprint_bp": self.footprint_bp, "footprint_mb": self.footprint_bp / 1e6,
            "ci95_low": self.ci95_low, "ci95_high": self.ci95_high, "p_tmb_ge_cut": self.p_tmb_ge_cut,
            "status": self.status, "at_or_above_cut": self.at_or_above_cut, "records": self.records,
            "in_footprint": self.in_footprint, "excluded": self.excluded, "failing": self.failing,
        }
        if self.harmonized is not None:
            out["harmonized"] = self.harmonized.to_dict()
        return out


@dataclass
class TmbResult:
    """Everything a TMB run produced (what the output files contain, plus the row-level table)."""

    samples: list[SampleTmb]
    profile: Profile
    cutpoints: list[float]
    denominator: dict[str, Any]
    provenance: dict[str, Any]
    warnings: list[str]
    table: VariantTable | None = field(repr=False)      # None when computed with keep_table=False
    outcome: RuleOutcome | None = field(repr=False)
    variants_spool: Any = field(repr=False, default=None)  # streamed report (temporary file) or None
    harmonization: Harmonization | None = None  # model shared by the samples' harmonized values

    def sample(self, name: str) -> SampleTmb:
        for s in self.samples:
            if s.sample == name:
                return s
        raise KeyError(name)

    def to_json(self) -> dict[str, Any]:
        out = {"samples": [s.to_dict() for s in self.samples], "cutpoints": self.cutpoints,
               "denominator": self.denominator, "warnings": self.warnings, "provenance": self.provenance}
        if self.harmonization is not None:
            out["harmonization"] = self.harmonization.to_dict()
        return out

    def write(self, prefix: str | Path, *, threads: int = DEFAULT_THREADS) -> list[Path]:
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
    panels_dirs: Sequence[str | Path] | None = None,
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
    threads: int = DEFAULT_THREADS,
    command: str = "tmb",
    keep_table: bool = True,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
    spool_dir: str | Path | None = None,
    **overrides: Any,
) -> TmbResult:
    """Compute TMB per tumor sample.

    ``overrides`` are profile fields (``min_vaf``, ``min_depth``, ``min_alt_reads``, ``max_pop_af``,
    ``variant_types``, ``consequences``, ``pop_af_fields``, ``multiallelic``, ...; ``None`` = keep
    the profile's value, ``"off"`` = switch a threshold off).  Exactly one of ``bed`` (one or more
    footprint BEDs, merged) and ``panel`` (registry id) is required.

    VCF/BCF input is streamed: records are read, evaluated and tallied ``chunk_rows`` rows at a
    time (results do not depend on the chunk size or ``threads``).  With ``keep_table=True``
    (default) the chunks are also kept and ``result.table`` / ``result.outcome`` hold every
    row; with ``keep_table=False`` they are not (``result.table`` is None), the variants
    report is formatted while reading into an anonymous temporary file in ``spool_dir`` (default
    the system temp dir) that ``result.write()`` copies, and peak memory is bounded by the chunk
    size instead of the input size.  ``threads`` > 1 decompresses BGZF input on
    ``threads - 1`` extra threads and formats/compresses the report on several threads.
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

        panel_obj = load_panel(panel, panels_dirs)
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
            # the assay's TMB region (e.g. the coding part of capture targets), not the whole target list
            footprint = panel_obj.tmb_region(bed=panel_bed)
            fp_name = f"panel {panel_obj.id}"
            kind = "panel_bed"
            stages.append({"stage": "panel_tmb_region", "source": panel_obj.id, "bp": footprint.total_bp(),
                           "note": panel_obj.tmb_region_info()["description"]})
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

    params = {"profile": prof.name, "cutpoints": cuts, "tumor_sample": tumor_sample, "normal_sample": normal_sample,
              "overrides": {k: v for k, v in overrides.items() if v is not None},
              "min_coverage": min_coverage, "min_normal_coverage": min_normal_coverage,
              "mapq": mapq if tumor_bam else None, "panel": panel}
    _warm_up(input)
    # the denominator is built on a worker thread while the input is opened and its first chunk read
    pool = ThreadPoolExecutor(max_workers=1)
    denominator_job = pool.submit(build_denominator)
    pool.shutdown(wait=False)
    src = None
    try:
        src = _open_input(input, tumor_sample=tumor_sample, normal_sample=normal_sample, profile=prof,
                          reference=reference, threads=threads, chunk_rows=chunk_rows)
        # what the input lacks is known from its header (VCF) or its columns (MAF): checked before
        # reading records; whether a declared population-AF field ever holds a value is checked at the end
        if src.kind == "maf":
            maf_table = next(iter(src))
            if pop_af_vcf is not None:
                maf_table.meta["pop_af_resource"] = str(pop_af_vcf)
                src.meta["pop_af_resource"] = str(pop_af_vcf)
            check_requirements(maf_table, prof, hotspots_given=bool(hotspot_lists))
        else:
            check_requirements(_probe_table(src.meta, src.source, src.samples, pop_af_checked_later=True,
                                            pop_af_resource=pop_af_vcf),
                               prof, hotspots_given=bool(hotspot_lists))
    except BaseException:
        if src is not None:
            src.close()
        denominator_job.result()          # a footprint error is reported first (it is cheaper to fix)
        raise
    try:
        footprint, stages, kind, fp_name = denominator_job.result()
    except BaseException:
        src.close()
        raise
    spool = None
    try:
        in_build = _input_build_meta(src.meta)
        if in_build:
            _check_build(input, in_build, footprint, panel_obj, beds)
        footprint, kind, callable_info = _callable(footprint, kind, stages, prof, tumor_bam=tumor_bam,
                                                   normal_bam=normal_bam, min_coverage=min_coverage,
                                                   min_normal_coverage=min_normal_coverage, mapq=mapq,
                                                   reference=reference, threads=threads)
        resource = _read_resource(pop_af_vcf, prof) if pop_af_vcf is not None else None
        acc = _Accumulator(src.samples, active_rules(prof, hotspots_given=bool(hotspot_lists)))
        writer = None
        kept: list[tuple[VariantTable, RuleOutcome]] = []
        if not keep_table:
            import tempfile

            from .tmb_report import VariantReportWriter, report_header

            from . import __version__

            spool = tempfile.TemporaryFile(prefix="tmbcalc-variants-", dir=spool_dir)
            writer = VariantReportWriter(spool, report_header(__version__, prof.name, str(input), params,
                                                              src.meta.get("indel_anchor") == "N"), threads)
        try:
            for chunk in src:
                if resource is not None:
                    _join_resource_pop_af(chunk, resource)
                hotspot_mask = None
                if hotspot_lists:
                    from .hotspots import match_hotspots

                    hotspot_mask = np.zeros(len(chunk), dtype=bool)
                    for hl in hotspot_lists:
                        hotspot_mask |= match_hotspots(chunk, hl)
                outcome = evaluate(chunk, prof, footprint, hotspot_mask)
                acc.add(chunk, outcome)
                if writer is not None:
                    writer.add(chunk, outcome)
                else:
                    kept.append((chunk, outcome))
        finally:
            if writer is not None:
                writer.close()
        meta = src.final_meta()
        if not in_build:
            in_build = _input_build_meta(meta)
            if in_build:
                _check_build(input, in_build, footprint, panel_obj, beds)
        if acc.rows:
            shared_contigs(sorted(acc.contigs), footprint.contigs, str(input), fp_name)
            if resource is not None and len(resource):
                shared_contigs(sorted(acc.contigs), resource.contigs, str(input), str(pop_af_vcf))
                meta["has_pop_af"] = bool(meta.get("has_pop_af")) or \
                    bool((~np.isnan(resource["pop_af"])).any())
                meta["pop_af_resource"] = str(pop_af_vcf)
        if acc.rows and src.kind == "vcf":
            # the data-dependent part of the requirement check (does any row carry a population AF?)
            probe = _probe_table(meta, src.source, src.samples, pop_af_checked_later=False,
                                 pop_af_resource=pop_af_vcf, pop_af_seen=acc.pop_af_seen)
            check_requirements(probe, prof, hotspots_given=bool(hotspot_lists))
    except BaseException:
        src.close()
        if spool is not None:
            spool.close()
        raise
    src.close()

    if keep_table:
        table, outcome = _concat_kept(kept, src, meta, acc.active)
    else:
        table, outcome = None, None
    warnings: list[str] = []
    if acc.rows == 0:
        warnings.append("the input has no variant records: TMB is 0 by an empty input, not by filtering")
    if prof.require_pass and not prof.filter_missing_is_pass and acc.rows and acc.all_filter_missing:
        warnings.append("every record has FILTER '.' (missing), which the profile does not count as PASS; "
                        "use --filter-missing-is-pass if the calls are already filtered")

    fp_bp = footprint.total_bp()
    samples = acc.results(fp_bp, cuts)
    denominator = {"kind": kind, "footprint_bp": fp_bp, "footprint_mb": fp_bp / 1e6, "stages": stages,
                   "variant_overlap_convention": "SNV/MNV/complex: REF span; deletion: deleted bases "
                   "(padding base ignored); insertion: either flanking base", "contigs": len(footprint.contigs)}
    if panel_obj is not None:
        denominator["panel_declared_tmb_mb"] = panel_obj.declared_tmb_mb
        denominator["panel_tmb_region"] = panel_obj.tmb_region_info()
    extra: dict[str, Any] = {"profile": prof.to_dict(), "denominator": denominator,
                             "rules_order": list(RULES), "rules_active": list(acc.active),
                             "input_format": meta.get("format", "vcf"),
                             "input_meta": _jsonable_meta(meta)}
    if panel_obj is not None:
        extra["panel"] = panel_obj.to_dict()
    provenance = build_provenance(command, params, {
        "input": input, "bed": [str(b) for b in beds] or None, "panel_bed": panel_bed, "coding_bed": coding_bed,
        "exclude_bed": [str(e) for e in excl] or None, "callable_bed": callable_bed, "tumor_bam": tumor_bam,
        "normal_bam": normal_bam, "exclude_hotspots": [str(h) for h in hot] or None, "pop_af_vcf": pop_af_vcf,
        "reference": reference}, **extra)
    return TmbResult(samples, prof, cuts, denominator, provenance, warnings, table, outcome, spool)


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


def _warm_up(path: str | Path) -> None:
    """Off the critical path, on a daemon thread: import the statistics module and hash the input
    for provenance (cached by :func:`tmbcalc.provenance.sha256_file`; not when checksums are off)
    while the kernel, which releases the GIL, reads the records."""
    import threading

    def work() -> None:
        try:
            from . import stats  # noqa: F401
            from .provenance import checksums_enabled, sha256_file

            if checksums_enabled():
                sha256_file(path)
        except Exception:       # the real call later reports any problem
            pass

    threading.Thread(target=work, name="tmbcalc-warm-up", daemon=True).start()


class _Source:
    """The variant input as chunks: a streamed VCF/BCF, or a MAF read whole (one chunk)."""

    def __init__(self, kind: str, source: str, samples: list[str], meta: dict[str, Any], chunks, closer=None,
                 final=None) -> None:
        self.kind, self.source, self.samples, self.meta = kind, source, samples, meta
        self._chunks, self._closer, self._final = chunks, closer, final

    def __iter__(self):
        return iter(self._chunks)

    def final_meta(self) -> dict[str, Any]:
        return dict(self._final() if self._final is not None else self.meta)

    def close(self) -> None:
        if self._closer is not None:
            self._closer()


def _prefetch(iterable, depth: int = 1):
    """Iterate ``iterable`` on a background thread, ``depth`` items ahead (the VCF kernel releases
    the GIL, so reading the next chunk overlaps evaluating and reporting the current one).
    Returns (generator, stop function)."""
    import queue
    import threading

    q: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()
    end = object()

    def produce() -> None:
        try:
            for item in iterable:
                while not stop.is_set():
                    try:
                        q.put(("item", item), timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    break
            else:
                q.put(("end", end))
                return
        except BaseException as exc:             # handed to the consumer
            q.put(("error", exc))
            return
        finally:
            if stop.is_set() and hasattr(iterable, "close"):
                iterable.close()

    th = threading.Thread(target=produce, name="tmbcalc-vcf-reader", daemon=True)
    th.start()

    def gen():
        while True:
            kind, item = q.get()
            if kind == "end":
                th.join()
                return
            if kind == "error":
                th.join()
                raise item
            yield item

    def halt() -> None:
        stop.set()
        while th.is_alive():
            try:
                q.get(timeout=0.05)
            except Exception:
                pass
        th.join()

    return gen(), halt


def _open_input(path: str | Path, *, tumor_sample: str | None, normal_sample: str | None, profile: Profile,
                reference: str | Path | None, threads: int, chunk_rows: int) -> _Source:
    """Open VCF/BCF for chunked reading (header checked now), or read a MAF whole."""
    p = require_readable(path, "input")
    if _is_text_table(p):
        table = read_variants(p, tumor_sample=tumor_sample, normal_sample=normal_sample, profile=profile,
                              reference=reference, threads=threads)
        return _Source("maf", table.source, list(table.samples), dict(table.meta), [table])
    from .io.vcf import iter_vcf_chunks

    vc = iter_vcf_chunks(p, chunk_rows=chunk_rows, tumor_sample=tumor_sample, normal_sample=normal_sample,
                         pop_af_fields=tuple(profile.pop_af_fields), csq_pick=profile.csq_pick,
                         keep_alleles=True, threads=threads)
    it = iter(vc)
    gen, halt = _prefetch(it, depth=2)
    return _Source("vcf", str(p), list(vc.samples), dict(vc.meta), gen, closer=halt,
                   final=lambda: getattr(vc, "final_meta", vc.meta))


def _probe_table(meta: dict[str, Any], source: str, samples: list[str], *, pop_af_checked_later: bool,
                 pop_af_resource: str | Path | None, pop_af_seen: bool = False) -> VariantTable:
    """One placeholder row carrying the input's metadata, for :func:`check_requirements`: what a VCF
    lacks is decided by its header (``missing_fields``); only whether a declared population-AF
    field ever holds a value depends on the data (``pop_af_seen``)."""
    from .variants import COLUMNS

    cols = {k: np.full(1, np.nan, dtype=t) if np.dtype(t).kind == "f" else np.zeros(1, dtype=t)
            for k, t in COLUMNS.items()}
    m = dict(meta)
    if pop_af_resource is not None:
        m["pop_af_resource"] = str(pop_af_resource)
    m["has_pop_af"] = True if pop_af_checked_later else (bool(m.get("has_pop_af")) or pop_af_seen)
    return VariantTable(cols, ["1"], list(samples), source, m, None)


def _input_build_meta(meta: dict[str, Any]) -> str | None:
    if meta.get("build"):
        return meta["build"]
    lengths = meta.get("contig_lengths") or {}
    return detect_build(lengths) if lengths else None


def _check_build(input, in_build: str, footprint: RegionSet, panel_obj, beds) -> None:
    if panel_obj is not None:
        check_same_build((str(input), in_build), (f"panel {panel_obj.id}", panel_obj.build))
        return
    from .panels import check_regions_fit_build

    try:
        check_regions_fit_build(footprint, in_build, Path(beds[0]))
    except InputError as exc:
        raise ContigMismatchError(f"{exc.message} (the input {Path(str(input)).name} is {in_build} by its "
                                  f"header / NCBI_Build column)", exc.path) from None


def _callable(footprint: RegionSet, kind: str, stages: list, prof: Profile, *, tumor_bam, normal_bam, min_coverage,
              min_normal_coverage, mapq, reference, threads) -> tuple[RegionSet, str, dict | None]:
    if not tumor_bam:
        return footprint, kind, None
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
    return footprint, kind, callable_info


def _read_resource(resource: str | Path, prof: Profile) -> VariantTable:
    from .io.vcf import read_vcf

    # in a population resource the plain INFO/AF is the population frequency: read it too
    fields = tuple(dict.fromkeys([*prof.pop_af_fields, "AF"]))
    return read_vcf(resource, pop_af_fields=fields, keep_alleles=False)


def _join_resource_pop_af(table: VariantTable, res: VariantTable) -> None:
    """pop_af := max(own, resource AF of the same contig, position and alleles), in place."""
    from .hotspots import join_sites

    af = join_sites(table, res, res["pop_af"].astype(np.float64))
    cur = table["pop_af"].astype(np.float64)
    table.columns["pop_af"] = np.fmax(cur, af).astype(np.float32)


class _Accumulator:
    """Per-sample tallies summed over chunks (counts, first/all failing rules, contigs seen)."""

    def __init__(self, samples: list[str], active: tuple[str, ...]) -> None:
        self.names = list(samples) or ["(no sample)"]
        ns = len(self.names)
        self.active = active
        self.eligible = np.zeros(ns, np.int64)
        self.records = np.zeros(ns, np.int64)
        self.inside = np.zeros(ns, np.int64)
        self.first = np.zeros((ns, len(RULES)), np.int64)
        self.all = np.zeros((ns, len(RULES)), np.int64)
        self.contigs: set[str] = set()
        self.rows = 0
        self.pop_af_seen = False
        self.all_filter_missing = True

    def add(self, t: VariantTable, o: RuleOutcome) -> None:
        n = len(t)
        if n == 0:
            return
        ns, nr = len(self.names), len(RULES)
        s = t["sample"].astype(np.int64)
        ff = o.first_fail.astype(np.int64)
        if ns == 1:
            self.eligible[0] += int(np.count_nonzero(o.eligible))
            self.records[0] += n
            self.inside[0] += int(np.count_nonzero(o.in_footprint))
            self.first[0] += np.bincount(ff + 1, minlength=nr + 1)[1:]
        else:
            self.eligible += np.bincount(s[o.eligible], minlength=ns)
            self.records += np.bincount(s, minlength=ns)
            self.inside += np.bincount(s[o.in_footprint], minlength=ns)
            sel = ff >= 0
            self.first += np.bincount(s[sel] * nr + ff[sel], minlength=ns * nr).reshape(ns, nr)
        bits = o.fail_bits
        for i, r in enumerate(RULES):
            if r in self.active:
                if ns == 1:
                    self.all[0, i] += int(np.count_nonzero(bits & BIT[r]))
                else:
                    self.all[:, i] += np.bincount(s[(bits & BIT[r]) != 0], minlength=ns)
        self.contigs.update(t.contigs[i] for i in np.unique(t["contig"]).tolist())
        self.pop_af_seen = self.pop_af_seen or bool((~np.isnan(t["pop_af"])).any())
        self.all_filter_missing = self.all_filter_missing and bool((t["filter"] == FILTER_MISSING).all())
        self.rows += n

    def results(self, fp_bp: int, cuts: list[float]) -> list[SampleTmb]:
        from . import stats

        mb = fp_bp / 1e6
        low, high = stats.garwood_interval(self.eligible, mb)
        out = []
        for i, name in enumerate(self.names):
            k = int(self.eligible[i])
            p = {stats.cut_label(c): float(stats.prob_rate_at_least(k, mb, c)) for c in cuts}
            st = {stats.cut_label(c): stats.status(float(low[i]), float(high[i]), c) for c in cuts}
            tmb = k / mb
            above = {stats.cut_label(c): bool(tmb >= c) for c in cuts}
            first = {r: int(self.first[i, j]) for j, r in enumerate(RULES) if r in self.active}
            every = {r: int(self.all[i, j]) for j, r in enumerate(RULES) if r in self.active}
            out.append(SampleTmb(name, tmb, k, fp_bp, float(low[i]), float(high[i]), p, st, above,
                                 int(self.records[i]), int(self.inside[i]), first, every))
        return out


def _concat_kept(kept: list[tuple[VariantTable, RuleOutcome]], src: _Source, meta: dict[str, Any],
                 active: tuple[str, ...]) -> tuple[VariantTable, RuleOutcome]:
    from .io.vcf import concat_tables

    if src.kind == "maf":
        t, o = kept[0]
        t.meta = meta
        return t, o
    contigs = kept[-1][0].contigs if kept else []
    table = concat_tables([t for t, _ in kept], src.source, src.samples, contigs, meta)
    if len(kept) == 1:
        o = kept[0][1]
    else:
        outs = [o for _, o in kept]
        active = outs[0].active if outs else ()
        cat = (lambda name, dt: np.concatenate([getattr(x, name) for x in outs]) if outs else np.empty(0, dt))
        o = RuleOutcome(cat("fail_bits", np.uint16), cat("first_fail", np.int8), cat("eligible", bool),
                        cat("in_footprint", bool), active)
    if not kept:
        o = RuleOutcome(np.empty(0, np.uint16), np.empty(0, np.int8), np.empty(0, bool), np.empty(0, bool),
                        active)
    return table, o


__all__ = ["compute_tmb", "TmbResult", "SampleTmb", "read_variants", "DEFAULT_PROFILE"]
