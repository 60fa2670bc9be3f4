"""TMB: eligible somatic mutations per Mb of the denominator footprint — one run as named stages.

:func:`compute_tmb` resolves the counting profile (profile file + explicit overrides) and the cut
points, builds the denominator (:mod:`tmbcalc.footprint`: merged footprint BEDs or a panel
footprint, optionally ∩ a coding BED, − excluded regions, ∩ a callable BED; then ∩ the callable
footprint computed from BAMs), streams the variants through the eligibility rules
(:mod:`.rules`), tallies them per tumor (:mod:`.tally`) and returns a :class:`TmbResult`
(:mod:`.result`) with per-sample counts, exact intervals and cut-point statistics.
``TmbResult.write(prefix)`` writes ``PREFIX.tmb.json``, ``PREFIX.tmb.tsv`` and
``PREFIX.variants.tsv.gz`` atomically.  Units: TMB in mutations/Mb, footprint in bp and Mb.

VCF/BCF input is streamed in chunks (``chunk_rows``): rules are evaluated and tallied per chunk
and, with ``keep_table=False`` (the CLI), the variants report is written while reading, so peak
memory does not grow with the input.  Every rule is row-local: results do not depend on the chunk
size or the thread count.
"""
from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..checks import check_number
from ..contigs import shared_contigs
from ..errors import InputError, MissingFieldError, UsageError, require_readable
from ..footprint import Denominator, check_input_build, resolve_footprint
from ..genome_build import BuildCall, check_positions_fit, check_stated, positions_call, track_max_end
from ..io.inputs import open_inputs, require_seekable
from ..provenance import build_provenance
from ..variants import VariantTable
from .build import cross_check_build, decide_build
from .guards import (DEFAULT_MIN_CALLABLE_FRACTION, DEFAULT_MIN_FOOTPRINT_MB, DenominatorCheck,
                     check_denominator, check_guard_options)
from .hotspots import TruncatingInRegions, match_drivers, read_hotspots
from .inputs import CrossFileDuplicates, MultiSource, input_names
from .profiles import Profile, load_profile
from .relax import MODES, missing_rules, relaxed_doc, relaxed_profile, relaxed_warning, switch_off
from .result import TmbResult
from .rules import RuleOutcome, active_rules, check_requirements, check_values_present, evaluate, listed_rules
from .sources import (VariantSource, check_positions, join_pop_af, maf_header_probe, open_source, probe_table,
                      read_pop_af_resource)
from .tally import SampleTally, concat_kept

DEFAULT_PROFILE = "wes-merino"
DEFAULT_CHUNK_ROWS = 200_000   # rows per VCF chunk (~25 MB of columns + allele text)
DEFAULT_THREADS = 2            # BGZF decompression on a second thread, overlapping parsing


def _as_list(x: str | Path | Sequence[str | Path] | None) -> list[str | Path]:
    return [x] if isinstance(x, (str, Path)) else list(x or [])


@dataclass
class _Request:
    """The arguments of one run, normalised (lists for the repeatable file arguments)."""

    inputs: list[str | Path]
    beds: list[str | Path]
    excluded: list[str | Path]
    hotspots: list[str | Path]
    panel: str | None
    panel_bed: str | Path | None
    coding_bed: str | Path | None
    callable_bed: str | Path | None
    tumor_bam: str | Path | None
    normal_bam: str | Path | None
    min_coverage: int | None
    min_normal_coverage: int | None
    tsg_bed: str | Path | None = None

    def __post_init__(self) -> None:
        # streams (FIFO, <(command)) are read once into private files; BAM/CRAM need random access
        (self.inputs, self.beds, self.excluded, self.hotspots, self.panel_bed, self.coding_bed,
         self.callable_bed) = open_inputs(self.inputs, self.beds, self.excluded, self.hotspots, self.panel_bed,
                                          self.coding_bed, self.callable_bed)
        require_seekable(self.tumor_bam, "tumor BAM/CRAM"), require_seekable(self.normal_bam, "normal BAM/CRAM")

    @property
    def input(self) -> str | Path:
        """The first (usually only) variant file: named in messages."""
        return self.inputs[0]


def compute_tmb(
    input: str | Path | Sequence[str | Path], *,
    bed: str | Path | Sequence[str | Path] | None = None, panel: str | None = None,
    panel_bed: str | Path | None = None, panels_dirs: Sequence[str | Path] | None = None,
    tumor_sample: str | None = None, normal_sample: str | None = None,
    profile: str | Path | Profile | None = None, coding_bed: str | Path | None = None,
    exclude_bed: str | Path | Sequence[str | Path] | None = None, callable_bed: str | Path | None = None,
    tumor_bam: str | Path | None = None, normal_bam: str | Path | None = None,
    min_coverage: int | None = None, min_normal_coverage: int | None = None, mapq: int = 20,
    reference: str | Path | None = None, exclude_hotspots: str | Path | Sequence[str | Path] | None = None,
    pop_af_vcf: str | Path | None = None, cutpoints: Sequence[float] | None = None,
    threads: int = DEFAULT_THREADS, command: str = "tmb", keep_table: bool = True,
    chunk_rows: int = DEFAULT_CHUNK_ROWS, spool_dir: str | Path | None = None, genome_build: str | None = None,
    footprint_mb: float | None = None, min_footprint_mb: float = DEFAULT_MIN_FOOTPRINT_MB,
    min_callable_fraction: float = DEFAULT_MIN_CALLABLE_FRACTION, sample_name: str | None = None,
    tumor_suppressor_bed: str | Path | None = None, missing_fields: str = "error", **overrides: Any,
) -> TmbResult:
    """Compute TMB per tumor sample (mutations/Mb; see the module docstring for the stages).

    ``input``: one VCF/BCF/MAF or a list of call files of one tumor (a variant eligible in several
    is counted once).  ``genome_build`` states the build, else it is decided from headers or data.
    Exactly one of ``bed`` (footprint BEDs, merged) and ``panel`` (registry id) is required.
    ``footprint_mb`` declares a denominator (kept beside the measured one); below
    ``min_footprint_mb`` or ``min_callable_fraction`` every call is ``insufficient_footprint``.
    ``overrides`` are profile fields (``min_vaf``, ``min_depth``, ...; ``"off"`` switches one off).
    ``keep_table=False`` spools the variants report (in ``spool_dir``).  ``sample_name`` renames
    the input's one tumor.  ``tumor_suppressor_bed``: see :func:`_tsg_drivers`; ``missing_fields``: :mod:`.relax`.
    """
    req = _Request(_inputs(input), _as_list(bed), _as_list(exclude_bed), _as_list(exclude_hotspots), panel, panel_bed,
                   coding_bed, callable_bed, tumor_bam, normal_bam, min_coverage, min_normal_coverage,
                   tumor_suppressor_bed)
    relaxed = _check_arguments(req, overrides, missing_fields)
    stated = check_stated(genome_build)
    _check_options(min_coverage, min_normal_coverage, footprint_mb, min_footprint_mb, min_callable_fraction)
    panel_obj = _load_panel(panel, panels_dirs)
    prof = resolve_profile(profile, overrides, panel_obj)
    cuts = _resolve_cutpoints(cutpoints, panel_obj, prof)
    pop_af_vcf = _require_small_inputs(req, pop_af_vcf, reference)
    hotspot_lists, drivers = _driver_lists(req, prof)

    params = {"profile": prof.name, "cutpoints": cuts, "tumor_sample": tumor_sample, "normal_sample": normal_sample,
              "overrides": {k: v for k, v in overrides.items() if v is not None},
              "min_coverage": min_coverage, "min_normal_coverage": min_normal_coverage,
              "mapq": mapq if tumor_bam else None, "panel": panel, "footprint_mb": footprint_mb,
              "min_footprint_mb": min_footprint_mb, "min_callable_fraction": min_callable_fraction, "missing_fields": missing_fields,
              **({"genome_build": stated} if stated else {}), **({"sample": sample_name} if sample_name else {})}
    _warm_up(req.inputs)
    denominator_job = _start_denominator_early(req, panel_obj, stated)
    src, prof = _open_sources(req, denominator_job, prof, bool(hotspot_lists), pop_af_vcf, sample_name,
                              tumor_sample=tumor_sample, normal_sample=normal_sample, reference=reference,
                              threads=threads, chunk_rows=chunk_rows, relaxed=relaxed)
    spool = None
    multi = isinstance(src, MultiSource)
    try:
        call, den = _build_and_footprint(req, src, stated, panel_obj, denominator_job)
        _restrict_to_callable(den, prof, req, mapq=mapq, reference=reference, threads=threads)
        guard = check_denominator(den.bp, den.stages, declared_mb=footprint_mb, min_footprint_mb=min_footprint_mb,
                                  min_callable_fraction=min_callable_fraction, min_depth=prof.min_depth,
                                  min_coverage=req.min_coverage if req.tumor_bam else None)
        resource = read_pop_af_resource(pop_af_vcf, prof) if pop_af_vcf is not None else None
        tally = SampleTally(src.samples, active_rules(prof, hotspots_given=bool(drivers), multi_input=multi))
        spool, writer = _variant_spool(keep_table, spool_dir, prof, req, params, src, threads, guard.warnings, relaxed)
        dups, max_end = (CrossFileDuplicates() if multi else None), {}
        kept = _stream(src, prof, den, drivers, resource, tally, writer, dups, max_end)
        meta = src.final_meta()
        call = _settle_build(call, max_end, den, req)
        _check_after_reading(req, den, src, meta, tally, resource, pop_af_vcf, prof, bool(hotspot_lists))
    except BaseException:
        src.close()
        if spool is not None:
            spool.close()
        raise
    src.close()
    table, outcome = concat_kept(kept, src, meta, tally.active) if keep_table else (None, None)
    provenance = _provenance(command, params, req, den, call, guard, prof, tally, meta, pop_af_vcf, reference, relaxed)
    inputs_doc = _inputs_doc(src, dups) if multi else None
    warnings = guard.warnings + relaxed_warning(relaxed) + _warnings(tally, prof, meta, str(req.input), dups)
    return TmbResult(guard.apply(tally.results(guard.divisor_bp, cuts)), prof, cuts, _denominator_doc(den, guard, call),
                     provenance, warnings, table, outcome, spool, inputs_doc, guard.status, footprint=den.regions,
                     contig_spelling=meta.get("native_contigs") or {})


# -- stages ---------------------------------------------------------------------------------------
def _inputs(input: str | Path | Sequence[str | Path]) -> list[str | Path]:
    inputs = _as_list(input)
    if not inputs:
        raise UsageError("give at least one variant file")
    return inputs


def _check_options(min_coverage, min_normal_coverage, footprint_mb, min_footprint_mb, min_callable_fraction) -> None:
    """Range checks of the numeric arguments (finite, in their domain) before any file is read."""
    for name, value in (("min_coverage", min_coverage), ("min_normal_coverage", min_normal_coverage)):
        if value is not None:
            check_number(value, name, integer=True, lo=0)
    check_guard_options(footprint_mb, min_footprint_mb, min_callable_fraction)


def _check_arguments(req: _Request, overrides: dict[str, Any], missing_fields: str = "error") -> dict | None:
    """Refuse inconsistent argument combinations before any file is read; returns :func:`_relax_mode`."""
    if bool(req.beds) == bool(req.panel):
        raise UsageError("give exactly one of panel or bed", params=("panel", "bed"))
    if req.panel_bed and not req.panel:
        raise UsageError("panel_bed needs panel", params=("panel_bed", "panel"))
    if req.callable_bed and req.tumor_bam:
        raise UsageError("give either callable_bed or tumor_bam, not both", params=("callable_bed", "tumor_bam"))
    if req.normal_bam and not req.tumor_bam:
        raise UsageError("normal_bam needs tumor_bam", params=("normal_bam", "tumor_bam"))
    if (req.min_coverage is not None or req.min_normal_coverage is not None) and not req.tumor_bam:
        raise UsageError("min_coverage/min_normal_coverage need tumor_bam",
                         params=("min_coverage", "min_normal_coverage", "tumor_bam"))
    unknown = set(overrides) - set(Profile.__dataclass_fields__)
    if unknown:
        raise UsageError(f"unknown profile override(s): {', '.join(sorted(unknown))}")
    return _relax_mode(missing_fields)


def _load_panel(panel: str | None, panels_dirs: Sequence[str | Path] | None):
    if not panel:
        return None
    from ..panels.registry import load_panel

    return load_panel(panel, panels_dirs)


def resolve_profile(profile: str | Path | Profile | None, overrides: dict[str, Any], panel=None) -> Profile:
    """The counting profile: given, else the panel's, else :data:`DEFAULT_PROFILE`; then overrides."""
    if isinstance(profile, Profile):
        prof = profile
    else:
        prof = load_profile(profile or (panel.profile if panel is not None and panel.profile else DEFAULT_PROFILE))
    return prof.override(**overrides)


def _resolve_cutpoints(cutpoints: Sequence[float] | None, panel_obj, prof: Profile) -> list[float]:
    """Cut points (mut/Mb), sorted: given, else the panel's, else the profile's."""
    chosen = cutpoints if cutpoints else (panel_obj.cutpoints if panel_obj is not None and panel_obj.cutpoints
                                          else prof.cutpoints)
    return sorted(check_number(c, "cut points (mut/Mb)", lo=0.0) for c in chosen)


def _driver_lists(req: _Request, prof: Profile) -> tuple[list, list]:
    """(hotspot lists, every known-driver list: hotspots + tumor-suppressor truncations), checked
    against what the profile requires or refuses."""
    hotspot_lists = [read_hotspots(h) for h in req.hotspots]
    check_requirements(VariantTable.empty(str(req.input)), prof, hotspots_given=bool(hotspot_lists))
    return hotspot_lists, hotspot_lists + _tsg_drivers(prof, req.tsg_bed)


def _tsg_drivers(prof: Profile, tsg_bed: str | Path | None) -> list[TruncatingInRegions]:
    """The tumor-suppressor truncation list the profile asks for (one-line errors otherwise): coding
    regions of tumor-suppressor genes whose truncating variants the profile excludes
    (``tsg_truncating``), counted under the ``hotspot`` rule with the hotspot lists (known drivers)."""
    if tsg_bed is None:
        if prof.tsg_truncating == "required":
            raise UsageError(f"profile '{prof.name}' excludes truncating variants in tumor-suppressor genes: give "
                             "tumor_suppressor_bed (their coding regions, e.g. built by 'panels build' from a gene list "
                             "and an exon table; see docs/calibration.md)", params=("tumor_suppressor_bed",))
        return []
    if prof.tsg_truncating == "none":
        raise UsageError(f"profile '{prof.name}' counts truncating variants in tumor-suppressor genes (as the assay "
                         "it approximates does): drop tumor_suppressor_bed or choose another profile",
                         params=("tumor_suppressor_bed", "profile"))
    from ..footprint import read_beds

    return [TruncatingInRegions(read_beds([tsg_bed], "tumor-suppressor BED"), str(tsg_bed))]


def _require_small_inputs(req: _Request, pop_af_vcf, reference) -> str | Path | None:
    """Every small input must be readable before the (possibly long) variant read starts; returns
    ``pop_af_vcf`` (a stream read into a private file)."""
    pop_af_vcf, = open_inputs(pop_af_vcf)
    for path in [*req.beds, *req.excluded, *req.hotspots, req.tsg_bed, req.coding_bed, req.callable_bed, req.tumor_bam,
                 req.normal_bam, pop_af_vcf, reference]:
        if path is not None:
            require_readable(path, "file")
    return pop_af_vcf


def _start_denominator(req: _Request, panel_obj, build: str | None) -> Future:
    """Build the footprint (all but the BAM-derived part; a registry panel's BED for ``build``, None =
    its primary build) on a worker thread while the variant kernel, which releases the GIL, opens
    the input and reads its first chunk."""
    pool = ThreadPoolExecutor(max_workers=1)
    job = pool.submit(resolve_footprint, panel=panel_obj, panel_bed=req.panel_bed, beds=req.beds,
                      coding_bed=req.coding_bed, exclude_beds=req.excluded, callable_bed=req.callable_bed,
                      build=build)
    pool.shutdown(wait=False)
    return job


def _start_denominator_early(req: _Request, panel_obj, stated: str | None) -> Future | None:
    """The footprint is built while the input opens, unless the build (still unknown) picks it
    (a registry panel with footprints for several builds): then None."""
    if stated is not None or panel_obj is None or len(panel_obj.builds) == 1:
        return _start_denominator(req, panel_obj, stated)
    return None


def _build_and_footprint(req: _Request, src: VariantSource, stated: str | None, panel_obj,
                         denominator_job: Future | None) -> tuple[BuildCall | None, Denominator]:
    """Decide the genome build (:func:`~tmbcalc.tmb.build.decide_build`), then the footprint for it;
    a known build must fit the footprint (the panel's BED in use, or a BED's intervals)."""
    parts = src.parts if isinstance(src, MultiSource) else [src]
    call = decide_build(parts, stated, panel_obj, [b for b in (req.tumor_bam, req.normal_bam) if b],
                        req.panel_bed, str(req.input))
    den = (denominator_job or _start_denominator(req, panel_obj, call.build if call else None)).result()
    call = cross_check_build(call, parts, den.regions, str(req.input))
    if call is not None and call.build:
        check_input_build(str(req.input), call.build, den, req.beds, call.evidence)
    return call, den


def _open_sources(req: _Request, denominator_job: Future | None, prof: Profile, hotspots_given: bool,
                  pop_af_vcf, sample_name: str | None = None, **open_args: Any) -> tuple[VariantSource, Profile]:
    """Open every input file (checked as :func:`_open_checked_source`); several become one
    :class:`~tmbcalc.tmb.inputs.MultiSource`; ``sample_name`` renames the one tumor.  Returns the
    source and the run's profile (without the rules the inputs lack data for, ``relaxed`` given)."""
    src = _open_all(req, denominator_job, prof, hotspots_given, pop_af_vcf, **open_args)
    if sample_name is not None:
        try:
            src.rename_sample(sample_name)
        except BaseException:
            src.close()
            raise
    return src, relaxed_profile(prof, open_args.get("relaxed"))


def _open_all(req: _Request, denominator_job: Future | None, prof: Profile, hotspots_given: bool,
              pop_af_vcf, **open_args: Any) -> VariantSource:
    if len(req.inputs) == 1:
        return _open_checked_source(req.input, denominator_job, prof, hotspots_given, pop_af_vcf, **open_args)
    parts: list[VariantSource] = []
    try:
        for path in req.inputs:
            parts.append(_open_checked_source(path, denominator_job, prof, hotspots_given, pop_af_vcf,
                                              **open_args))
        return MultiSource(parts)
    except BaseException:
        for p in parts:
            p.close()
        raise


def _open_checked_source(path: str | Path, denominator_job: Future | None, prof: Profile, hotspots_given: bool,
                         pop_af_vcf, relaxed: dict[str, list[str]] | None = None, **open_args: Any) -> VariantSource:
    """Open one input and check the profile's requirements against what it declares (VCF header,
    MAF columns) before any record is judged.  A footprint error is reported first (cheaper to fix).
    With ``relaxed`` (a dict: ``missing_fields="relax"``) the rules whose data the whole input lacks
    are switched off for the check and recorded there under the input's path."""
    src = None
    try:
        early = maf_header_probe(path, prof, pop_af_vcf)   # MAF: requirements from its header, before reading it
        if early is not None:
            _check_input(early, prof, hotspots_given, relaxed, None)
        src = open_source(path, profile=prof, **open_args)
        if src.kind == "maf":
            maf_table = next(iter(src))
            if pop_af_vcf is not None:
                maf_table.meta["pop_af_resource"] = str(pop_af_vcf)
                src.meta["pop_af_resource"] = str(pop_af_vcf)
            _check_input(maf_table, prof, hotspots_given, relaxed, str(path))
        else:
            _check_input(probe_table(src.meta, src.source, src.samples, pop_af_checked_later=True,
                                     pop_af_resource=pop_af_vcf), prof, hotspots_given, relaxed, str(path))
    except BaseException:
        if src is not None:
            src.close()
        if denominator_job is not None:
            denominator_job.result()
        raise
    try:
        if denominator_job is not None:
            denominator_job.result()
    except BaseException:
        src.close()
        raise
    return src


def _relax_mode(missing_fields: str) -> dict[str, list[str]] | None:
    """``{}`` (filled per input while opening) for ``"relax"``, None for ``"error"``."""
    if missing_fields not in MODES:
        raise UsageError(f"missing_fields must be one of {', '.join(MODES)}, got {missing_fields!r}",
                         params=("missing_fields",))
    return {} if missing_fields == "relax" else None


def _check_input(table: VariantTable, prof: Profile, hotspots_given: bool, relaxed: dict[str, list[str]] | None,
                 name: str | None) -> None:
    """:func:`~.rules.check_requirements`, after switching off (``relaxed`` given) the rules whose data
    the input lacks (recorded under ``name``); refused otherwise, naming ``missing_fields``."""
    off = missing_rules(prof, table.meta)
    if relaxed is not None:
        if name is not None:
            relaxed[name] = off
        check_requirements(table, switch_off(prof, off), hotspots_given=hotspots_given)
        return
    try:
        check_requirements(table, prof, hotspots_given=hotspots_given)
    except MissingFieldError as exc:
        if not off:
            raise
        raise MissingFieldError(f"{exc.message}; or switch off the rules ({', '.join(off)}) whose data the whole "
                                "input lacks, recorded in every output: missing_fields relax", exc.path,
                                params=(*exc.params, "missing_fields")) from None


def _restrict_to_callable(den: Denominator, prof: Profile, req: _Request, *, mapq: int, reference, threads: int) -> None:
    """With a tumor BAM: intersect the footprint with the bases covered >= min coverage (tumor,
    and normal when given), computed by :func:`tmbcalc.callable.compute_callable`."""
    if not req.tumor_bam:
        return
    from ..callable.api import compute_callable

    mc = req.min_coverage if req.min_coverage is not None else prof.min_depth
    if mc is None:
        raise UsageError(f"tumor_bam needs min_coverage (profile '{prof.name}' sets no min_depth to "
                         f"default to)", params=("tumor_bam", "min_coverage"))
    res = compute_callable(req.tumor_bam, den.regions, normal_bam=req.normal_bam, min_depth=int(mc),
                           min_normal_depth=req.min_normal_coverage, mapq=mapq, reference=reference,
                           threads=threads)
    kind = "callable_from_bams" if den.kind == "panel_bed" else den.kind + "+callable_from_bams"
    den.add_stage(res.callable, kind, {"stage": "intersect_callable_from_bams",
                                       "source": [str(x) for x in (req.tumor_bam, req.normal_bam) if x],
                                       "bp": int(res.callable_bp), "parameters": dict(res.parameters)})
    if den.regions.is_empty():
        raise InputError(f"no callable bases in the footprint at min coverage {mc}", req.tumor_bam)


def _variant_spool(keep_table: bool, spool_dir, prof: Profile, req: _Request, params: dict[str, Any],
                   src: VariantSource, threads: int, warnings: list[str], relaxed: dict | None = None):
    """Without a kept table, the variants report is formatted while reading into an anonymous
    temporary file that ``TmbResult.write`` copies.  Returns (spool file or None, writer or None)."""
    if keep_table:
        return None, None
    import tempfile

    from .._version import __version__
    from .writers import VariantReportWriter, report_header

    spool = tempfile.TemporaryFile(prefix="tmbcalc-variants-", dir=spool_dir)
    names = input_names(req.inputs) if len(req.inputs) > 1 else None
    header = report_header(__version__, prof.name, str(req.input), params, src.meta.get("indel_anchor") == "N",
                           names, warnings + relaxed_warning(relaxed))
    return spool, VariantReportWriter(spool, header, threads, names)


def _stream(src: VariantSource, prof: Profile, den: Denominator, hotspot_lists: list,
            resource: VariantTable | None, tally: SampleTally, writer, dups: CrossFileDuplicates | None,
            max_end: dict[str, int]) -> list[tuple[VariantTable, RuleOutcome]]:
    """Judge every chunk (and, with several files, mark duplicates across them), tally it, and
    report it (to the writer) or keep it (returned).  ``hotspot_lists``: hotspot lists and
    tumor-suppressor truncation regions (known drivers).  ``max_end`` collects each contig's last
    variant end (for the build check)."""
    kept: list[tuple[VariantTable, RuleOutcome]] = []
    try:
        for chunk in src:
            check_positions(chunk, src.source)
            if resource is not None:
                join_pop_af(chunk, resource)
            hotspot_mask = match_drivers(chunk, hotspot_lists)
            outcome = evaluate(chunk, prof, den.regions, hotspot_mask)
            if dups is not None:
                dups.mark(chunk, outcome)
            track_max_end(max_end, chunk)
            tally.add(chunk, outcome)
            if writer is not None:
                writer.add(chunk, outcome)
            else:
                kept.append((chunk, outcome))
    finally:
        if writer is not None:
            writer.close()
    return kept


def _settle_build(call: BuildCall | None, max_end: dict[str, int], den: Denominator, req: _Request) -> BuildCall:
    """After reading: without a build from statement, headers or panel footprints (a BED footprint),
    the variant positions may still exclude one build; a chosen build must hold every position."""
    name = str(req.input)
    if call is None:
        call = positions_call(max_end, name)
        if call.build:
            check_input_build(name, call.build, den, req.beds, call.evidence)
        return call
    if call.build:
        check_positions_fit(call.build, max_end, name)
    return call


def _check_after_reading(req: _Request, den: Denominator, src: VariantSource, meta: dict[str, Any],
                         tally: SampleTally, resource: VariantTable | None, pop_af_vcf,
                         prof: Profile, hotspots_given: bool) -> None:
    """What only the records can tell: shared contigs with the footprint and the resource, and
    whether a declared population-AF field ever held a value (each VCF input on its own)."""
    if tally.rows:
        shared_contigs(sorted(tally.contigs), den.regions.contigs, str(req.input), den.name)
        if resource is not None and len(resource):
            shared_contigs(sorted(tally.contigs), resource.contigs, str(req.input), str(pop_af_vcf))
            meta["has_pop_af"] = bool(meta.get("has_pop_af")) or bool((~np.isnan(resource["pop_af"])).any())
            meta["pop_af_resource"] = str(pop_af_vcf)
    check_values_present(tally.missing, tally.judged, prof, tally.active, meta, str(req.input))
    parts = [(p, p.final_meta()) for p in src.parts] if isinstance(src, MultiSource) else [(src, meta)]
    for part, part_meta in parts:
        if tally.rows and part.kind == "vcf":
            probe = probe_table(part_meta, part.source, part.samples, pop_af_checked_later=False,
                                pop_af_resource=pop_af_vcf, pop_af_seen=tally.pop_af_seen)
            check_requirements(probe, prof, hotspots_given=hotspots_given)


# -- the result -----------------------------------------------------------------------------------
def _warnings(tally: SampleTally, prof: Profile, meta: dict[str, Any], source: str,
              dups: CrossFileDuplicates | None = None) -> list[str]:
    warnings = check_values_present(tally.missing, tally.judged, prof, tally.active, meta, source)
    if dups is not None and dups.count:
        warnings.append(f"{dups.count} eligible variant row(s) repeat a variant (contig, position, REF, ALT) "
                        f"already counted from an earlier input file: counted once (duplicate_across_files)")
    if tally.rows == 0:
        warnings.append("the input has no variant records: TMB is 0 by an empty input, not by filtering")
    if prof.require_pass and not prof.filter_missing_is_pass and tally.rows and tally.all_filter_missing:
        warnings.append("every record has FILTER '.' (missing), which the profile does not count as PASS; "
                        "use --filter-missing-is-pass if the calls are already filtered")
    return warnings


def _denominator_doc(den: Denominator, guard: DenominatorCheck, call: BuildCall | None = None) -> dict[str, Any]:
    fp_bp = guard.divisor_bp
    doc = {"kind": "declared" if guard.declared_mb is not None else den.kind, "footprint_bp": fp_bp,
           "footprint_mb": fp_bp / 1e6, **guard.doc(), "stages": den.stages,
           "variant_overlap_convention": "SNV/MNV/complex: REF span; deletion: deleted bases "
           "(padding base ignored); insertion: either flanking base", "contigs": len(den.regions.contigs)}
    if den.panel is not None:
        doc["panel_declared_tmb_mb"] = den.panel.declared_tmb_mb
        doc["panel_tmb_region"] = den.panel.tmb_region_info(den.build)
    if call is not None:
        doc["genome_build"] = call.to_dict()
    return doc


def _inputs_doc(src: MultiSource, dups: CrossFileDuplicates | None) -> dict[str, Any]:
    """Several call files: each file, its caller and record count, and the duplicates across them."""
    meta = src.final_meta()
    return {"files": src.sources, "per_file": meta["inputs"],
            "duplicates_across_files": dups.count if dups is not None else 0,
            "duplicate_rule": "a variant (contig, position, REF, ALT) eligible in several files is counted once"}


def _provenance(command: str, params: dict[str, Any], req: _Request, den: Denominator, call: BuildCall,
                guard: DenominatorCheck, prof: Profile, tally: SampleTally, meta: dict[str, Any], pop_af_vcf,
                reference, relaxed: dict | None = None) -> dict[str, Any]:
    extra: dict[str, Any] = {"profile": prof.to_dict(), "denominator": _denominator_doc(den, guard, call),
                             "relaxed_rules": relaxed_doc(relaxed),
                             "rules_order": listed_rules(tally.active), "rules_active": list(tally.active),
                             "input_format": meta.get("format", "vcf"), "input_meta": _jsonable_meta(meta)}
    if den.panel is not None:
        extra["panel"] = den.panel.to_dict()
    return build_provenance(command, params, {
        "input": req.input if len(req.inputs) == 1 else [str(p) for p in req.inputs], "bed": [str(b) for b in req.beds] or None, "panel_bed": req.panel_bed,
        "coding_bed": req.coding_bed, "exclude_bed": [str(e) for e in req.excluded] or None,
        "callable_bed": req.callable_bed, "tumor_bam": req.tumor_bam, "normal_bam": req.normal_bam,
        "exclude_hotspots": [str(h) for h in req.hotspots] or None, "pop_af_vcf": pop_af_vcf,
        **({"tumor_suppressor_bed": req.tsg_bed} if req.tsg_bed else {}),
        "reference": reference}, **extra)


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


def _warm_up(paths: Sequence[str | Path]) -> None:
    """Off the critical path, on a daemon thread: import the statistics module and hash the inputs
    for provenance (cached by :func:`tmbcalc.provenance.sha256_file`; not when checksums are off)
    while the kernel, which releases the GIL, reads the records."""
    import threading

    def work() -> None:
        try:
            from . import statistics  # noqa: F401
            from ..provenance import checksums_enabled, sha256_file

            for path in paths if checksums_enabled() else ():
                sha256_file(path)
        except Exception:       # the real call later reports any problem
            pass

    threading.Thread(target=work, name="tmbcalc-warm-up", daemon=True).start()


__all__ = ["compute_tmb", "resolve_profile", "DEFAULT_PROFILE", "DEFAULT_CHUNK_ROWS", "DEFAULT_THREADS"]
