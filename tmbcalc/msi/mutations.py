"""MSI from somatic mutation calls (MSIseq-style): indels in simple repeats per Mb.

Huang MN, McPherson JR, Cutcutache I, Teh BT, Tan P, Rozen SG (2015) "MSIseq: Software for
assessing microsatellite instability from catalogs of somatic mutations", Sci Rep 5:13321,
doi:10.1038/srep13321.  Its default classifier reduces to one rule: **MSI-H if S.ind > 0.395**,
S.ind = somatic indels lying in simple sequence repeats per Mb of captured sequence.

Stages of :func:`msi_mutations` (each a named function below):

1. **read** the calls with the ``tmb`` package's reader (VCF/BCF/MAF, :func:`tmbcalc.tmb.read_variants`);
2. **eligibility** by a counting profile through ``tmb``'s public rules (:func:`tmbcalc.tmb.evaluate`):
   FILTER (PASS; ``.``/no FILTER column only with ``filter_missing_is_pass``), depth, alt reads,
   VAF, population AF, ... exactly as ``tmbcalc tmb`` applies them.  The default profile
   :data:`DEFAULT_PROFILE` counts PASS SNVs and indels of any consequence without read-level
   thresholds (what MSIseq counted); any tmb profile or override can be used instead;
3. **denominator**: footprint BED / panel (eligible calls must lie in it, by tmb's footprint
   rule) or an explicit size in Mb (every eligible call counted; MSIseq's ``seq.len``);
4. **count** per tumour: SNVs, indels, deletions, single-base deletions (REF - ALT length 1:
   the reference-free stand-in for homopolymer indels), and indels in repeats (deleted bases
   overlapping a repeat span, or an insertion next to/inside one) when a repeat source (loci
   file or BED) is given;
5. **call** per tumour: when the repeats *cover* the input (>= 95% of counted indels inside the
   span of the repeat source) the published rule on repeat indels/Mb; otherwise the fitted rule
   on its feature (:mod:`tmbcalc.msi.indel_rule`; v3: single-base deletions/Mb, no SNV term, so
   SNV load is never rewarded);
6. **flags** per tumour: indel under-calling (indels / SNVs < 0.03 with >= 100 SNVs): a caller
   that drops indels makes an MSI-H tumour look MSS, but so does nothing in a POLE-ultramutated
   MSS tumour (ratio ~0.005), so one tumour alone is only flagged.  When the whole input shows it
   too (all tumours together < 0.03 with >= 1,000 SNVs: the caller, not the tumour), a flagged
   tumour's MSS call becomes ``indeterminate``.  An exome-trained rule on a footprint < 10 Mb is
   flagged.

Output contract: :class:`MsiMutationsResult` ``.write(prefix)`` writes ``PREFIX.msi.json`` (core
fields of :mod:`tmbcalc.msi.result`, one entry per tumour under ``samples``, and the top-level
core fields when there is exactly one tumour) and ``PREFIX.msi.tsv`` (one row per tumour).
"""
from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import InputError, UsageError, require_readable
from ..regions import RegionSet
from ..variants import DEL, INS, SNV, VariantTable
from .indel_rule import FEATURES, IndelRule

PUBLISHED_THRESHOLD = 0.395  # repeat indels per Mb (MSIseq NGSclassifier, Huang et al. 2015)
PUBLISHED_RULE = {
    "id": "msiseq-NGSclassifier",
    "feature": "repeat_indels_per_mb",
    "rule": "MSI-H if repeat_indels_per_mb > 0.395",
    "threshold": PUBLISHED_THRESHOLD,
    "citation": "Huang MN et al. (2015) MSIseq: Software for assessing microsatellite instability "
                "from catalogs of somatic mutations. Sci Rep 5:13321. doi:10.1038/srep13321",
}
COVERAGE_MIN = 0.95
# indel under-calling, per tumour: indels / SNVs below this with at least UNDERCALL_MIN_SNVS SNVs
# (MSIseq training set: 18,197 indels / 124,978 SNVs = 0.146; Firehose UCEC: 2,232 / 170,881 = 0.013)
UNDERCALL_RATIO = 0.03
UNDERCALL_MIN_SNVS = 100
UNDERCALL_INPUT_MIN_SNVS = 1000
SMALL_FOOTPRINT_MB = 10.0
DEFAULT_PROFILE = {"name": "msi-mutations", "description": "MSIseq-style counting: FILTER PASS SNVs and indels "
                   "of any consequence, no read-level thresholds", "variant_types": ["snv", "ins", "del"],
                   "consequences": ["all"], "require_pass": True, "filter_missing_is_pass": False}


@dataclass
class RepeatSource:
    """Simple-repeat spans (canonical contigs, merged) and the extent each contig's source spans."""

    regions: RegionSet
    extent: RegionSet
    kind: str   # "loci" or "bed"
    path: str
    n_repeats: int

    @classmethod
    def from_loci(cls, path: str | Path) -> RepeatSource:
        from .loci import read_loci

        t = read_loci(path)
        chroms = t.canonical_chroms()
        regions = RegionSet.from_arrays(chroms, t.start, t.end)
        return cls(regions, _extent(regions), "loci", str(path), len(t))

    @classmethod
    def from_bed(cls, path: str | Path) -> RepeatSource:
        from ..io.bed import read_bed

        regions = read_bed(path)
        if regions.is_empty():
            raise InputError("repeats BED lists no intervals", path)
        return cls(regions, _extent(regions), "bed", str(path), len(regions))


def _extent(regions: RegionSet) -> RegionSet:
    items = []
    for c in regions.contigs:
        st, en = regions.by_contig[c]
        items.append((c, int(st[0]), int(en[-1])))
    return RegionSet.from_tuples(items)


def event_span(table: VariantTable) -> tuple[np.ndarray, np.ndarray]:
    """0-based half-open span each row touches: SNV its base; DEL the deleted bases; INS the
    two bases around the insertion point (VCF-style padded alleles)."""
    pos = table["pos"].astype(np.int64)
    rl = table["ref_len"].astype(np.int64)
    vt = table["vtype"]
    start = pos.copy()
    end = pos + np.maximum(rl, 1)
    d = vt == DEL
    start[d] = pos[d] + 1
    end[d] = pos[d] + rl[d]
    i = vt == INS
    start[i] = pos[i]          # the anchor base ...
    end[i] = pos[i] + 2        # ... and the base after the insertion
    return start, end


def _mask_by_contig(table: VariantTable, regions: RegionSet, start: np.ndarray, end: np.ndarray,
                    rows: np.ndarray) -> np.ndarray:
    out = np.zeros(len(table), dtype=bool)
    cidx = table["contig"]
    for k, name in enumerate(table.contigs):
        sel = rows & (cidx == k)
        if sel.any():
            out[sel] = regions.overlaps(name, start[sel], end[sel])
    return out


@dataclass
class SampleMsiMutations:
    """Per-tumour figures (rates per Mb of footprint) and the call."""

    sample: str
    footprint_mb: float
    snvs: int
    indels: int
    repeat_indels: int | None
    snvs_per_mb: float
    indels_per_mb: float
    repeat_indels_per_mb: float | None
    status: str                            # MSI-H | MSS | indeterminate
    rule_used: str                         # "msiseq_repeat_indels" or "fitted_indel_rule"
    call_basis: str
    fitted_probability: float              # informational when the published rule decides
    indel_undercalling: bool = False
    deletions: int = 0
    deletions_1bp: int = 0                 # deletions of exactly one base
    deletions_per_mb: float = 0.0
    deletions_1bp_per_mb: float = 0.0
    fitted_feature: str = "indels_per_mb"  # the fitted rule's feature (a field of this class)

    def fitted_value(self) -> float:
        """The fitted rule's feature for this tumour (per Mb)."""
        return float(getattr(self, self.fitted_feature))

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def core(self) -> dict[str, Any]:
        """The core fields shared by every MSI mode (:data:`tmbcalc.msi.result.CORE_FIELDS`)."""
        published = self.rule_used == "msiseq_repeat_indels"
        value = self.repeat_indels_per_mb if published else self.fitted_value()
        warnings = ([f"{self.sample}: {self.indels} indels for {self.snvs} SNVs: the caller may not report "
                     "indels (MSS calls unreliable)"] if self.indel_undercalling else [])
        return {"sample": self.sample, "mode": "mutations", "status": self.status, "call_basis": self.call_basis,
                "msi_score": value,
                "score_unit": "repeat indels per Mb" if published else FEATURES[self.fitted_feature],
                "statistic": {"name": self.rule_used, "value": value,
                              **({"threshold": PUBLISHED_THRESHOLD} if published
                                 else {"probability": self.fitted_probability})},
                "evaluable_units": 1, "unit_kind": "tumor",
                "informational": {"fitted_rule_probability": self.fitted_probability} if published else {},
                "warnings": warnings}


@dataclass
class MsiMutationsResult:
    samples: list[SampleMsiMutations]
    input: str
    footprint: dict[str, Any]
    repeats: dict[str, Any] | None
    repeat_coverage: float | None
    rule_used: str
    fitted_rule: dict[str, Any]
    profile: dict[str, Any]
    parameters: dict[str, Any]
    provenance: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    def sample(self, name: str) -> SampleMsiMutations:
        for s in self.samples:
            if s.sample == name:
                return s
        raise KeyError(name)

    def to_dict(self) -> dict[str, Any]:
        from .result import clean_json

        top = self.samples[0].core() if len(self.samples) == 1 else {
            "sample": None, "mode": "mutations", "status": None, "call_basis": f"{len(self.samples)} tumours: see samples",
            "msi_score": None, "score_unit": None, "statistic": None, "evaluable_units": len(self.samples),
            "unit_kind": "tumor", "informational": {}}
        top["warnings"] = list(self.warnings)
        return clean_json({**top, "rule_used": self.rule_used, "published_rule": PUBLISHED_RULE,
                           "fitted_rule": self.fitted_rule, "profile": self.profile, "footprint": self.footprint,
                           "repeats": self.repeats, "repeat_coverage": self.repeat_coverage,
                           "samples": [{**s.core(), **s.to_dict()} for s in self.samples],
                           "provenance": self.provenance})

    def write(self, prefix: str | Path) -> list[Path]:
        """``PREFIX.msi.json`` and ``PREFIX.msi.tsv`` (one row per tumour), atomically."""
        from ..output import OutputSet

        with OutputSet(str(prefix), inputs=self.provenance.get("inputs")) as outs:
            paths = [outs.write_json(".msi.json", self.to_dict()), outs.write_text(".msi.tsv", self.to_tsv())]
        return paths

    def to_tsv(self) -> str:
        cols = ["sample", "status", "rule_used", "footprint_mb", "snvs", "indels", "deletions", "deletions_1bp",
                "repeat_indels", "snvs_per_mb", "indels_per_mb", "deletions_per_mb", "deletions_1bp_per_mb",
                "repeat_indels_per_mb", "fitted_probability", "indel_undercalling", "call_basis"]
        lines = [f"# tmbcalc {self.provenance.get('version', '')} msi mutations",
                 f"# parameters: {json.dumps(self.provenance.get('parameters', self.parameters), sort_keys=True)}",
                 f"# inputs: {json.dumps(self.provenance.get('inputs', {}), sort_keys=True)}",
                 f"# published rule: {PUBLISHED_RULE['rule']}; fitted rule: {self.fitted_rule.get('id')} "
                 f"v{self.fitted_rule.get('version')}", "\t".join(cols)]
        for s in self.samples:
            d = s.to_dict()
            lines.append("\t".join(_fmt(d[c]) for c in cols))
        return "\n".join(lines) + "\n"


def _fmt(v: Any) -> str:
    if v is None:
        return "NA"
    if isinstance(v, bool):
        return "1" if v else "0"
    if isinstance(v, float):
        return f"{v:.6g}"
    return str(v)


# --- stages -------------------------------------------------------------------------------------

def resolve_profile(profile: Any, overrides: Mapping[str, Any] | None) -> Any:
    """The counting profile: a tmb Profile, a tmb profile name/path, or :data:`DEFAULT_PROFILE`."""
    from ..tmb import Profile, load_profile

    if isinstance(profile, Profile):
        prof = profile
    elif profile is not None:
        prof = load_profile(profile)
    else:
        d = dict(DEFAULT_PROFILE)
        prof = Profile(name=d["name"], description=d["description"], variant_types=tuple(d["variant_types"]),
                       consequences=tuple(d["consequences"]), require_pass=d["require_pass"],
                       filter_missing_is_pass=d["filter_missing_is_pass"])
    return prof.override(**dict(overrides or {}))


def _panel_footprint(pnl: Any, table: VariantTable, src: str, stated: str | None, panel_bed: Any) -> tuple[RegionSet, Any]:
    """(the panel's footprint for the input's build, the BuildCall) - decided as ``tmbcalc tmb`` does."""
    from ..errors import ContigMismatchError
    from ..genome_build import check_stated
    from ..tmb.build import decide_build
    from ..tmb.sources import VariantSource

    part = VariantSource("table", src, list(table.samples), dict(table.meta), [table])
    call = decide_build([part], check_stated(stated), pnl, [], panel_bed, src)
    if call.build not in pnl.builds:
        raise ContigMismatchError(f"genome build mismatch: the input is {call.build} ({call.evidence}) but panel "
                                  f"{pnl.id} has a footprint for {', '.join(pnl.builds)} only", src)
    return pnl.footprint(call.build, bed=panel_bed), call


def resolve_denominator(table: VariantTable, src: str, *, bed: Any, panel: str | None, panel_bed: Any,
                        footprint_mb: Any, genome_build: str | None = None
                        ) -> tuple[RegionSet | None, dict[str, Any], dict[str, Any] | None]:
    """(footprint or None, its description, panel info); a panel's BED is the one of the input's
    build (``genome_build`` when stated)."""
    if bed is not None:
        from ..io.bed import read_bed

        fp = read_bed(bed)
        if fp.is_empty():
            raise InputError("footprint BED lists no intervals", bed)
        return fp, {"kind": "bed", "path": str(bed), "mb": fp.total_mb()}, None
    if panel is not None:
        from ..panels.registry import load_panel

        pnl = load_panel(panel)
        fp, call = _panel_footprint(pnl, table, src, genome_build, panel_bed)
        return fp, {"kind": "panel", "id": pnl.id, "version": pnl.version, "build": call.build,
                    "mb": fp.total_mb(), "genome_build": call.to_dict()}, pnl.to_dict()
    mb = footprint_mb if isinstance(footprint_mb, (int, float)) else dict(footprint_mb)
    return None, {"kind": "explicit_mb", "mb": mb}, None


def eligible_events(table: VariantTable, profile: Any, footprint: RegionSet | None, src: str
                    ) -> tuple[np.ndarray, np.ndarray]:
    """(eligible SNV rows, eligible indel rows) by tmb's rules; without a footprint BED the
    footprint rule is not applied (an explicit size in Mb counts every call)."""
    from ..tmb import RULES, check_requirements, evaluate

    check_requirements(table, profile, hotspots_given=False)
    if footprint is not None and len(table):
        from ..contigs import shared_contigs

        shared_contigs(table.contigs, footprint.contigs, f"the input {src}", "the footprint")
    fp = footprint if footprint is not None else RegionSet.from_tuples([(c, 0, 2 ** 31 - 1) for c in table.contigs])
    out = evaluate(table, profile, fp)
    ignore = 0 if footprint is not None else 1 << RULES.index("outside_footprint")
    ok = (out.fail_bits.astype(np.int64) & ~ignore) == 0
    vt = table["vtype"]
    return ok & (vt == SNV), ok & ((vt == INS) | (vt == DEL))


def repeat_indels(table: VariantTable, is_ind: np.ndarray, repeats: RepeatSource | None,
                  footprint: RegionSet | None) -> tuple[np.ndarray, float | None]:
    """(indel rows in a repeat, coverage of the counted indels by the repeat source's extent)."""
    in_rep = np.zeros(len(table), dtype=bool)
    if repeats is None:
        return in_rep, None
    start, end = event_span(table)
    in_rep = _mask_by_contig(table, repeats.regions, start, end, is_ind)
    if is_ind.any():
        return in_rep, float(_mask_by_contig(table, repeats.extent, start, end, is_ind)[is_ind].mean())
    if footprint is not None:
        total = footprint.total_bp()
        return in_rep, (footprint.intersect(repeats.extent).total_bp() / total if total else 0.0)
    return in_rep, 1.0 if set(repeats.regions.contigs) & set(table.contigs) else 0.0


def deletion_lengths(table: VariantTable) -> np.ndarray:
    """Deleted bases per row (REF length - ALT length for deletions, 0 otherwise)."""
    rl, al = table["ref_len"].astype(np.int64), table["alt_len"].astype(np.int64)
    return np.where(table["vtype"] == DEL, rl - al, 0)


def call_sample(name: str, mb: float, counts: tuple[int, int, int | None, int, int], rule: IndelRule,
                use_published: bool, caller_undercalls: bool = False) -> SampleMsiMutations:
    """One tumour's rates, call and flags (see module docstring); ``counts`` = (SNVs, indels,
    repeat indels or None, deletions, single-base deletions)."""
    n_snv, n_ind, n_rep, n_del, n_del1 = counts
    snv_mb, ind_mb = n_snv / mb, n_ind / mb
    rep_mb = None if n_rep is None else n_rep / mb
    rates = {"indels_per_mb": ind_mb, "deletions_per_mb": n_del / mb, "deletions_1bp_per_mb": n_del1 / mb}
    value = rates[rule.feature]
    prob = float(rule.probability(np.array([value]), np.array([snv_mb]))[0])
    if use_published:
        msi = rep_mb > PUBLISHED_THRESHOLD  # type: ignore[operator]
        basis = f"repeat indels/Mb {rep_mb:.4g} {'>' if msi else '<='} {PUBLISHED_THRESHOLD} (MSIseq)"
    else:
        msi = prob > rule.probability_cutoff
        basis = (f"{FEATURES[rule.feature]} {value:.4g} {'>' if msi else '<='} "
                 f"{rule.threshold():.4g} (fitted rule {rule.id} v{rule.version})")
    under = n_snv >= UNDERCALL_MIN_SNVS and n_ind < UNDERCALL_RATIO * n_snv
    status = "MSI-H" if msi else ("indeterminate" if under and caller_undercalls else "MSS")
    if under and not msi:
        basis += (f"; indel under-calling ({n_ind} indels for {n_snv} SNVs) "
                  + ("in a caller that under-calls indels over the whole input: MSS cannot be shown"
                     if caller_undercalls else "flagged (POLE-like tumours show it too)"))
    return SampleMsiMutations(name, mb, n_snv, n_ind, n_rep, snv_mb, ind_mb, rep_mb, status,
                              "msiseq_repeat_indels" if use_published else "fitted_indel_rule", basis, prob, under,
                              n_del, n_del1, rates["deletions_per_mb"], rates["deletions_1bp_per_mb"], rule.feature)


def _sample_mb(name: str, footprint: RegionSet | None, footprint_mb: Any) -> float:
    if footprint is not None:
        return footprint.total_mb()
    if isinstance(footprint_mb, Mapping):
        if name not in footprint_mb:
            raise UsageError(f"no footprint size (Mb) given for sample '{name}'")
        return float(footprint_mb[name])
    return float(footprint_mb)


def run_warnings(samples: list[SampleMsiMutations], repeats: RepeatSource | None, coverage: float | None,
                 use_published: bool, rule: IndelRule | None = None) -> list[str]:
    """Input-level warnings plus one line per tumour flagged for indel under-calling."""
    out = [f"{s.sample}: only {s.indels} indels for {s.snvs} SNVs ({s.indels / max(s.snvs, 1):.3f}; MSIseq training "
           "set 0.146): the caller may not report indels (or a POLE-like tumour); status " + s.status
           for s in samples if s.indel_undercalling]
    small = sorted({s.footprint_mb for s in samples if s.footprint_mb < SMALL_FOOTPRINT_MB})
    if small and not use_published:
        few = "" if rule is None else (f" (from {int(rule.threshold() * small[0]) + 1} "
                                       f"{FEATURES[rule.feature].replace(' per Mb', '')} on, its call there is MSI-H)")
        out.append(f"footprint of {small[0]:.2f} Mb: the fitted indel rule was trained on exome-wide rates "
                   f"(38-44 Mb); on cancer-gene panels few indels are seen{few} and its error rates are not known")
    if repeats is not None and not use_published:
        out.append(f"the repeats ({repeats.path}) cover only {coverage:.1%} of the counted indels "
                   f"(< {COVERAGE_MIN:.0%}): the published repeat-indel rule is not applied; status comes from "
                   "the fitted indel rule on all indels")
    return out


def _check_arguments(bed: Any, panel: Any, footprint_mb: Any, loci: Any, repeats_bed: Any, panel_bed: Any,
                     rule: Any) -> None:
    if sum(x is not None for x in (bed, panel, footprint_mb)) != 1:
        raise UsageError("give exactly one of panel, bed or footprint_mb", params=("panel", "bed", "footprint_mb"))
    if loci is not None and repeats_bed is not None:
        raise UsageError("give at most one of loci and repeats_bed", params=("loci", "repeats_bed"))
    if panel_bed is not None and panel is None:
        raise UsageError("panel_bed needs panel", params=("panel_bed", "panel"))
    if isinstance(footprint_mb, (int, float)) and not footprint_mb > 0:
        raise UsageError("footprint_mb must be > 0", params=("footprint_mb",))
    for p in (loci, repeats_bed, bed, panel_bed, None if isinstance(rule, IndelRule) else rule):
        if p is not None:
            require_readable(p, "file")


def read_calls(input: Any, profile: Any, *, tumor_sample: str | None, reference: Any, threads: int
               ) -> tuple[VariantTable, str]:
    """The calls as a VariantTable (tmb's reader) and their source name; a sites-only VCF is one
    tumour named after the file."""
    from ..tmb import read_variants

    if isinstance(input, VariantTable):
        table, src = input, input.source
    else:
        table = read_variants(input, tumor_sample=tumor_sample, profile=profile, reference=reference,
                              threads=threads)
        src = str(input)
    if len(table) == 0 and not table.samples:
        raise InputError("input holds no variants and names no tumour sample", src)
    if not table.samples:
        table.samples = [Path(src).name.split(".")[0] or "sample"]
    return table, src


def msi_mutations(input: str | Path | VariantTable, *, loci: str | Path | None = None,
                  repeats_bed: str | Path | None = None, panel: str | None = None,
                  bed: str | Path | None = None, panel_bed: str | Path | None = None,
                  footprint_mb: float | Mapping[str, float] | None = None, tumor_sample: str | None = None,
                  profile: Any = None, profile_overrides: Mapping[str, Any] | None = None,
                  include_filtered: bool = False, rule: str | Path | IndelRule | None = None,
                  reference: str | Path | None = None, threads: int = 1,
                  genome_build: str | None = None) -> MsiMutationsResult:
    """MSI status of each tumour from somatic calls; see the module docstring for the stages.

    With ``panel`` the footprint is the panel's BED for the input's build: ``genome_build`` when
    stated, else decided as ``tmbcalc tmb`` does (:func:`tmbcalc.tmb.build.decide_build`).

    Exactly one of ``bed`` / ``panel`` / ``footprint_mb`` (a number, or a per-sample mapping as
    MSIseq's ``seq.len``) sets the denominator; at most one of ``loci`` / ``repeats_bed``.
    ``profile``/``profile_overrides``: tmb counting profile (default :data:`DEFAULT_PROFILE`);
    ``include_filtered`` = ``require_pass=False``.  Nothing is written: call ``.write(prefix)``.
    """
    from ..provenance import build_provenance

    _check_arguments(bed, panel, footprint_mb, loci, repeats_bed, panel_bed, rule)
    repeats = (RepeatSource.from_loci(loci) if loci is not None else
               RepeatSource.from_bed(repeats_bed) if repeats_bed is not None else None)
    fitted = rule if isinstance(rule, IndelRule) else IndelRule.load(rule)
    prof = resolve_profile(profile, {**(profile_overrides or {}), **({"require_pass": False} if include_filtered else {})})
    table, src = read_calls(input, prof, tumor_sample=tumor_sample, reference=reference, threads=threads)
    footprint, fp_desc, panel_info = resolve_denominator(table, src, bed=bed, panel=panel, panel_bed=panel_bed,
                                                         footprint_mb=footprint_mb, genome_build=genome_build)
    is_snv, is_ind = eligible_events(table, prof, footprint, src)
    in_rep, coverage = repeat_indels(table, is_ind, repeats, footprint)
    use_published = repeats is not None and coverage is not None and coverage >= COVERAGE_MIN
    ns, sidx, dlen = len(table.samples), table["sample"], deletion_lengths(table)
    counts = [np.bincount(sidx[m], minlength=ns)
              for m in (is_snv, is_ind, is_ind & in_rep, is_ind & (dlen > 0), is_ind & (dlen == 1))]
    tot_snv, tot_ind = int(counts[0].sum()), int(counts[1].sum())
    caller = tot_snv >= UNDERCALL_INPUT_MIN_SNVS and tot_ind < UNDERCALL_RATIO * tot_snv
    samples = [call_sample(name, _sample_mb(name, footprint, footprint_mb),
                           (int(counts[0][k]), int(counts[1][k]), int(counts[2][k]) if repeats is not None else None,
                            int(counts[3][k]), int(counts[4][k])),
                           fitted, use_published, caller) for k, name in enumerate(table.samples)]
    params = {"tumor_sample": tumor_sample, "footprint_mb": fp_desc["mb"], "coverage_min": COVERAGE_MIN,
              "profile": prof.name, "profile_overrides": dict(profile_overrides or {}),
              "include_filtered": include_filtered}
    rep_desc = None if repeats is None else {"kind": repeats.kind, "path": repeats.path,
                                             "n_repeats": repeats.n_repeats, "bp": repeats.regions.total_bp()}
    extra: dict[str, Any] = {"calibration_model": {"id": fitted.id, "version": fitted.version}}
    if panel_info is not None:
        extra["panel"] = panel_info
    prov = build_provenance("msi mutations", params,
                            {"input": None if isinstance(input, VariantTable) else input, "loci": loci,
                             "repeats": repeats_bed, "bed": bed, "panel_bed": panel_bed,
                             "rule": fitted.path or None}, **extra)
    return MsiMutationsResult(samples, src, fp_desc, rep_desc, coverage,
                              "msiseq_repeat_indels" if use_published else "fitted_indel_rule",
                              {**fitted.to_json(), "features": f"log10({fitted.feature} + pseudo)"}, prof.to_dict(),
                              params, prov, run_warnings(samples, repeats, coverage, use_published, fitted))
