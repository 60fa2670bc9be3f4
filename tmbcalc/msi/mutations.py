"""MSI from somatic mutation calls (MSIseq-style): indels in simple repeats per Mb.

Huang MN, McPherson JR, Cutcutache I, Teh BT, Tan P, Rozen SG (2015) "MSIseq: Software for
assessing microsatellite instability from catalogs of somatic mutations", Sci Rep 5:13321,
doi:10.1038/srep13321.  Its default classifier (``NGSclassifier``, a J48 decision tree trained
on 361 TCGA colorectal/endometrial/gastric exomes) reduces to one rule: **MSI-H if S.ind > 0.395**,
where S.ind = number of somatic indels lying in simple sequence repeats per Mb of captured
sequence (repeats = mono-nucleotide runs >= 5 bp plus the UCSC simpleRepeat di/tri/tetra
repeats of hg19; captured length 38 Mb by default).

Here:

* ``indels`` = rows of type INS or DEL (VCF-style alleles, see :mod:`tmbcalc.variants`) that are
  not FILTER-failed; ``snvs`` = SNV rows.  Complex and multi-base substitutions are not counted
  (MSIseq accepts only SNP/INS/DEL).
* An indel is **in a repeat** when its deleted bases ``[pos+1, pos+ref_len)`` overlap a repeat
  span, or (insertion) when a repeat contains the base before or after the insertion point.
* Repeats come from a loci file (``tmbcalc msi scan``) or a BED.  They *cover* the input when at
  least 95% of the counted indels lie within the span of the repeat source on their contig
  (a scan of a 500 kb piece of chr3 does not cover an exome).  Only then is the published
  rule applied; otherwise ``status`` comes from the indel rule fitted on the labelled MSIseq
  TCGA training set (``calibration/msi_mutations_*.json``): a logistic model on
  log10(indels/Mb + 0.01) and log10(SNVs/Mb + 0.01).  ``rule_used`` says which.
* Denominator: the footprint (``--bed`` / ``--panel``; variants outside it are not counted) or
  an explicit ``footprint_mb`` (MSIseq's ``seq.len``: every variant counted), per Mb = 1e6 bp.
"""
from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..checks import check_number
from ..errors import InputError, UsageError, require_readable
from ..regions import RegionSet
from ..resources import calibration_dir
from ..variants import DEL, FILTER_FAIL, INS, SNV, VariantTable

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
# indel under-calling check: over the whole input, indels / SNVs below this (with at least
# UNDERCALL_MIN_SNVS SNVs) suggests a caller that does not report indels (MSIseq training set:
# 18,197 indels / 124,978 SNVs = 0.146; Firehose UCEC: 2,232 / 170,881 = 0.013)
UNDERCALL_RATIO = 0.03
UNDERCALL_MIN_SNVS = 1000
SMALL_FOOTPRINT_MB = 10.0  # below this the exome-trained rule is flagged as extrapolated
DEFAULT_RULE_FILE = "msi_mutations_msiseq_tcga_v1.json"
PSEUDO = 0.01  # per-Mb pseudo-count inside the logs of the fitted rule


# ---------------------------------------------------------------------------------------------
# fitted indel rule

@dataclass
class IndelRule:
    """Logistic rule on log10 per-Mb indel and SNV rates (versioned JSON in calibration/)."""

    id: str
    version: str
    coef_log_indels: float
    coef_log_snvs: float
    intercept: float
    probability_cutoff: float
    pseudo: float
    training: dict[str, Any]
    path: str = ""

    def probability(self, indels_per_mb: np.ndarray, snvs_per_mb: np.ndarray) -> np.ndarray:
        z = (self.intercept + self.coef_log_indels * np.log10(np.asarray(indels_per_mb) + self.pseudo)
             + self.coef_log_snvs * np.log10(np.asarray(snvs_per_mb) + self.pseudo))
        return 1.0 / (1.0 + np.exp(-z))

    def indel_threshold(self, snvs_per_mb: float) -> float:
        """Indels/Mb above which the rule calls MSI-H at a given SNV rate (for reports)."""
        logit = math.log(self.probability_cutoff / (1 - self.probability_cutoff))
        x = (logit - self.intercept - self.coef_log_snvs * math.log10(snvs_per_mb + self.pseudo)) \
            / self.coef_log_indels
        return max(0.0, 10 ** x - self.pseudo)

    def to_json(self) -> dict[str, Any]:
        d = asdict(self)
        d.pop("path")
        return d

    @classmethod
    def load(cls, path: str | Path | None = None) -> IndelRule:
        p = Path(path) if path is not None else calibration_dir() / DEFAULT_RULE_FILE
        require_readable(p, "indel rule")
        try:
            d = json.loads(p.read_text())
            return cls(id=d["id"], version=str(d["version"]), coef_log_indels=float(d["coef_log_indels"]),
                       coef_log_snvs=float(d["coef_log_snvs"]), intercept=float(d["intercept"]),
                       probability_cutoff=float(d["probability_cutoff"]), pseudo=float(d["pseudo"]),
                       training=dict(d.get("training", {})), path=str(p))
        except (ValueError, KeyError, TypeError) as exc:    # UnicodeDecodeError is a ValueError
            raise InputError(f"not a valid indel rule file ({str(exc).splitlines()[0][:120]})", p) from None

    def __post_init__(self) -> None:
        """Every coefficient finite, a cut-off strictly inside (0, 1), a positive pseudo-count."""
        where = self.path or None
        for name in ("coef_log_indels", "coef_log_snvs", "intercept"):
            check_number(getattr(self, name), f"indel rule {name}", path=where, error=InputError)
        if self.coef_log_indels == 0:
            raise InputError("indel rule coef_log_indels is 0 (the rule would ignore indels)", where)
        check_number(self.probability_cutoff, "indel rule probability_cutoff", path=where, error=InputError,
                     lo=0.0, hi=1.0, lo_open=True, hi_open=True)
        check_number(self.pseudo, "indel rule pseudo", path=where, error=InputError, lo=0.0, lo_open=True)


def fit_indel_rule(indels_per_mb: np.ndarray, snvs_per_mb: np.ndarray, msi_h: np.ndarray, *,
                   rule_id: str, version: str, training: Mapping[str, Any]) -> IndelRule:
    """Fit the logistic rule (scikit-learn, weak L2: C=100) on labelled tumours."""
    from sklearn.linear_model import LogisticRegression

    x = np.c_[np.log10(np.asarray(indels_per_mb) + PSEUDO), np.log10(np.asarray(snvs_per_mb) + PSEUDO)]
    y = np.asarray(msi_h, dtype=int)
    lr = LogisticRegression(C=100.0, max_iter=1000).fit(x, y)
    return IndelRule(rule_id, version, float(lr.coef_[0, 0]), float(lr.coef_[0, 1]),
                     float(lr.intercept_[0]), 0.5, PSEUDO, dict(training))


# ---------------------------------------------------------------------------------------------
# counting

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
    """Per-tumour figures (rates per Mb of footprint)."""

    sample: str
    footprint_mb: float
    snvs: int
    indels: int
    repeat_indels: int | None
    snvs_per_mb: float
    indels_per_mb: float
    repeat_indels_per_mb: float | None
    published_rule_status: str | None      # MSIseq S.ind > 0.395 (None: repeats do not cover)
    fitted_probability: float
    fitted_status: str
    status: str                            # MSI-H or MSS (MSS = MSIseq's "Non-MSI-H")
    rule_used: str                         # "msiseq_repeat_indels" or "fitted_indel_rule"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class MsiMutationsResult:
    samples: list[SampleMsiMutations]
    input: str
    footprint: dict[str, Any]
    repeats: dict[str, Any] | None
    repeat_coverage: float | None
    rule_used: str
    published_rule: dict[str, Any]
    fitted_rule: dict[str, Any]
    parameters: dict[str, Any]
    provenance: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    def sample(self, name: str) -> SampleMsiMutations:
        for s in self.samples:
            if s.sample == name:
                return s
        raise KeyError(name)

    def to_json(self) -> dict[str, Any]:
        return {
            "input": self.input,
            "mode": "mutations",
            "rule_used": self.rule_used,
            "published_rule": self.published_rule,
            "fitted_rule": self.fitted_rule,
            "footprint": self.footprint,
            "repeats": self.repeats,
            "repeat_coverage": self.repeat_coverage,
            "warnings": list(self.warnings),
            "samples": [s.to_dict() for s in self.samples],
            "provenance": self.provenance,
        }

    def write(self, prefix: str | Path, *, tsv: bool = True) -> list[Path]:
        """``PREFIX.msi_mutations.json`` (+ ``PREFIX.msi_mutations.tsv``), atomically."""
        from ..output import OutputSet

        with OutputSet(prefix, inputs=self.provenance.get("inputs")) as outs:
            paths = [outs.write_json(".msi_mutations.json", _clean_json(self.to_json()))]
            if tsv:
                paths.append(outs.write_text(".msi_mutations.tsv", self.to_tsv()))
        return paths

    def to_tsv(self) -> str:
        cols = ["sample", "footprint_mb", "snvs", "indels", "repeat_indels", "snvs_per_mb", "indels_per_mb",
                "repeat_indels_per_mb", "published_rule_status", "fitted_probability", "fitted_status",
                "status", "rule_used"]
        lines = [f"# tmbcalc {self.provenance.get('version', '')} msi mutations",
                 f"# parameters: {json.dumps(self.provenance.get('parameters', self.parameters), sort_keys=True)}",
                 f"# inputs: {json.dumps(self.provenance.get('inputs', {}), sort_keys=True)}",
                 f"# rule_used: {self.rule_used}; published rule: {PUBLISHED_RULE['rule']}; "
                 f"fitted rule: {self.fitted_rule.get('id')} v{self.fitted_rule.get('version')}",
                 "\t".join(cols)]
        for s in self.samples:
            d = s.to_dict()
            lines.append("\t".join(_fmt(d[c]) for c in cols))
        return "\n".join(lines) + "\n"


def _fmt(v: Any) -> str:
    if v is None:
        return "NA"
    if isinstance(v, float):
        return f"{v:.6g}"
    return str(v)


def _clean_json(o: Any) -> Any:
    if isinstance(o, float) and not math.isfinite(o):
        return None
    if isinstance(o, dict):
        return {k: _clean_json(v) for k, v in o.items()}
    if isinstance(o, (list, tuple)):
        return [_clean_json(v) for v in o]
    if isinstance(o, np.generic):
        return _clean_json(o.item())
    return o


def read_input(path: str | Path, *, tumor_sample: str | None = None, reference: str | Path | None = None,
               threads: int = 1) -> VariantTable:
    """VCF/BCF (htslib kernel) or MAF (detected by header) -> VariantTable, as ``tmbcalc tmb``."""
    from ..io.maf import read_maf
    from ..io.sniff import is_tabular_text

    p = require_readable(path, "input")
    if is_tabular_text(p):      # tab-separated text, not VCF: a MAF (read_maf names every missing column)
        table = read_maf(p, reference=reference, keep_alleles=False)
        if len(table) == 0:
            raise InputError("MAF has no variant records (header only): no tumor sample to report", p)
        if tumor_sample is not None:
            if tumor_sample not in table.samples:
                raise UsageError(f"--tumor-sample '{tumor_sample}' is not a Tumor_Sample_Barcode of {p}")
            idx = table.samples.index(tumor_sample)
            sub = table.take(table["sample"] == idx)
            sub.columns["sample"][:] = 0
            sub.samples = [tumor_sample]
            table = sub
        return table
    from ..io.vcf import read_vcf

    return read_vcf(p, tumor_sample=tumor_sample, keep_alleles=False, threads=threads)


def _panel_footprint(pnl, table: VariantTable, src: str, stated: str | None, panel_bed):
    """(the panel's footprint for the input's build, the BuildCall)."""
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


def msi_mutations(input: str | Path | VariantTable, *, loci: str | Path | None = None,
                  repeats_bed: str | Path | None = None, panel: str | None = None,
                  bed: str | Path | None = None, panel_bed: str | Path | None = None,
                  footprint_mb: float | Mapping[str, float] | None = None, tumor_sample: str | None = None,
                  include_filtered: bool = False, rule: str | Path | IndelRule | None = None,
                  reference: str | Path | None = None, threads: int = 1,
                  genome_build: str | None = None) -> MsiMutationsResult:
    """MSI status from somatic calls; see the module docstring for definitions.

    With ``panel`` the footprint is the panel's BED for the input's build: ``genome_build`` when
    stated, else decided as ``tmbcalc tmb`` does (:func:`tmbcalc.tmb.build.decide_build`).

    Exactly one of ``bed`` / ``panel`` / ``footprint_mb`` (a number, or a per-sample mapping as
    MSIseq's ``seq.len``) sets the denominator; at most one of ``loci`` / ``repeats_bed``.
    """
    from ..io.inputs import display_name, open_inputs
    from ..provenance import build_provenance

    input, loci, repeats_bed, bed, panel_bed, rule = open_inputs(input, loci, repeats_bed, bed, panel_bed, rule)
    if sum(x is not None for x in (bed, panel, footprint_mb)) != 1:
        raise UsageError("give exactly one of --panel ID, --bed BED or --footprint-mb MB")
    if loci is not None and repeats_bed is not None:
        raise UsageError("give at most one of --loci and --repeats")
    if panel_bed is not None and panel is None:
        raise UsageError("--panel-bed needs --panel")
    for mb in (footprint_mb.values() if isinstance(footprint_mb, Mapping) else [footprint_mb]):
        if mb is not None:
            check_number(mb, "--footprint-mb", lo=0.0, lo_open=True)
    for p in (loci, repeats_bed, bed, panel_bed, None if isinstance(rule, IndelRule) else rule):
        if p is not None:
            require_readable(p, "file")
    # small inputs first
    repeats = (RepeatSource.from_loci(loci) if loci is not None else
               RepeatSource.from_bed(repeats_bed) if repeats_bed is not None else None)
    fitted = rule if isinstance(rule, IndelRule) else IndelRule.load(rule)
    footprint: RegionSet | None = None
    footprint_desc: dict[str, Any]
    panel_info = None
    if bed is not None:
        from ..io.bed import read_bed

        footprint = read_bed(bed)
        if footprint.is_empty():
            raise InputError("footprint BED lists no intervals", bed)
        footprint_desc = {"kind": "bed", "path": str(bed), "mb": footprint.total_mb()}
    elif panel is not None:
        from ..panels.registry import load_panel

        pnl = load_panel(panel)
        panel_info = pnl.to_dict()
        footprint_desc = {"kind": "panel", "id": pnl.id, "version": pnl.version}
    else:
        footprint_desc = {"kind": "explicit_mb",
                          "mb": footprint_mb if isinstance(footprint_mb, (int, float)) else dict(footprint_mb)}

    table = input if isinstance(input, VariantTable) else read_input(
        input, tumor_sample=tumor_sample, reference=reference, threads=threads)
    src = table.source if isinstance(input, VariantTable) else display_name(input)
    if len(table) == 0 and not table.samples:
        raise InputError("input holds no variants and names no tumour sample", src)
    if not table.samples:  # sites-only VCF: one tumour named after the file
        table.samples = [Path(src).name.split(".")[0] or "sample"]
    if panel is not None:  # the panel's footprint on the input's build (decided as tmbcalc tmb does)
        footprint, call = _panel_footprint(pnl, table, src, genome_build, panel_bed)
        footprint_desc.update(build=call.build, mb=footprint.total_mb(), genome_build=call.to_dict())

    keep = np.ones(len(table), dtype=bool) if include_filtered else table["filter"] != FILTER_FAIL
    vt = table["vtype"]
    is_snv = keep & (vt == SNV)
    is_ind = keep & ((vt == INS) | (vt == DEL))
    start, end = event_span(table)
    if footprint is not None:
        from ..contigs import shared_contigs

        if len(table):
            shared_contigs(table.contigs, footprint.contigs, f"the input {src}",
                           str(bed if bed is not None else panel_bed or f"panel {panel}"))
        # SNVs by their base, indels by the first affected base (first deleted base / base
        # after the insertion point)
        pstart = table["pos"].astype(np.int64) + ((vt == INS) | (vt == DEL))
        infp = _mask_by_contig(table, footprint, pstart, pstart + 1, is_snv | is_ind)
        is_snv &= infp
        is_ind &= infp

    coverage = None
    in_rep = np.zeros(len(table), dtype=bool)
    if repeats is not None:
        in_rep = _mask_by_contig(table, repeats.regions, start, end, is_ind)
        if is_ind.any():
            inside = _mask_by_contig(table, repeats.extent, start, end, is_ind)
            coverage = float(inside[is_ind].mean())
        elif footprint is not None:
            fp_in = footprint.intersect(repeats.extent).total_bp()
            coverage = fp_in / footprint.total_bp() if footprint.total_bp() else 0.0
        else:
            coverage = 1.0 if set(repeats.regions.contigs) & set(table.contigs) else 0.0
    use_published = repeats is not None and coverage is not None and coverage >= COVERAGE_MIN
    rule_used = "msiseq_repeat_indels" if use_published else "fitted_indel_rule"

    ns = len(table.samples)
    sidx = table["sample"]
    n_snv = np.bincount(sidx[is_snv], minlength=ns)
    n_ind = np.bincount(sidx[is_ind], minlength=ns)
    n_rep = np.bincount(sidx[is_ind & in_rep], minlength=ns)
    out: list[SampleMsiMutations] = []
    for k, name in enumerate(table.samples):
        if footprint is not None:
            mb = footprint.total_mb()
        elif isinstance(footprint_mb, Mapping):
            if name not in footprint_mb:
                raise UsageError(f"no footprint size (Mb) given for sample '{name}'")
            mb = float(footprint_mb[name])
        else:
            mb = float(footprint_mb)  # type: ignore[arg-type]
        snv_mb, ind_mb = n_snv[k] / mb, n_ind[k] / mb
        rep_mb = n_rep[k] / mb if repeats is not None else None
        prob = float(fitted.probability(np.array([ind_mb]), np.array([snv_mb]))[0])
        fstat = "MSI-H" if prob > fitted.probability_cutoff else "MSS"
        pstat = None
        if use_published:
            pstat = "MSI-H" if rep_mb > PUBLISHED_THRESHOLD else "MSS"
        out.append(SampleMsiMutations(
            sample=name, footprint_mb=mb, snvs=int(n_snv[k]), indels=int(n_ind[k]),
            repeat_indels=int(n_rep[k]) if repeats is not None else None,
            snvs_per_mb=float(snv_mb), indels_per_mb=float(ind_mb),
            repeat_indels_per_mb=None if rep_mb is None else float(rep_mb),
            published_rule_status=pstat, fitted_probability=prob, fitted_status=fstat,
            status=pstat if use_published else fstat, rule_used=rule_used))

    warnings: list[str] = []
    tot_snv, tot_ind = int(n_snv.sum()), int(n_ind.sum())
    if tot_snv >= UNDERCALL_MIN_SNVS and tot_ind < UNDERCALL_RATIO * tot_snv:
        warnings.append(f"only {tot_ind} indels for {tot_snv} SNVs ({tot_ind / tot_snv:.3f}; "
                        f"MSIseq training set 0.146): the caller may not report indels, so MSS calls "
                        f"are unreliable")
    small = [mb for mb in ([footprint.total_mb()] if footprint is not None else
                           [float(v) for v in footprint_mb.values()] if isinstance(footprint_mb, Mapping)
                           else [float(footprint_mb)]) if mb < SMALL_FOOTPRINT_MB]  # type: ignore[arg-type]
    if small and not use_published:
        warnings.append(f"footprint of {min(small):.2f} Mb: the fitted indel rule was trained on exome-wide rates "
                        f"(38-44 Mb); on cancer-gene panels its specificity is lower (0.63-0.83 on held-out "
                        f"TCGA COAD with F1CDx/IMPACT468/TSO500 footprints, docs/msi-validation.md)")
    if repeats is not None and not use_published:
        warnings.append(f"the repeats ({repeats.path}) cover only {coverage:.1%} of the counted indels "
                        f"(< {COVERAGE_MIN:.0%}): the published repeat-indel rule is not applied; "
                        f"status comes from the fitted indel rule")
    params = {"include_filtered": include_filtered, "tumor_sample": tumor_sample,
              "footprint_mb": footprint_desc["mb"], "coverage_min": COVERAGE_MIN}
    rep_desc = None if repeats is None else {"kind": repeats.kind, "path": repeats.path,
                                             "n_repeats": repeats.n_repeats, "bp": repeats.regions.total_bp()}
    extra: dict[str, Any] = {"calibration_model": {"id": fitted.id, "version": fitted.version}}
    if panel_info is not None:
        extra["panel"] = panel_info
    prov = build_provenance("msi mutations", params,
                            {"input": None if isinstance(input, VariantTable) else input, "loci": loci,
                             "repeats": repeats_bed, "bed": bed, "panel_bed": panel_bed,
                             "rule": fitted.path or None}, **extra)
    return MsiMutationsResult(out, src, footprint_desc, rep_desc, coverage, rule_used, dict(PUBLISHED_RULE),
                              {**fitted.to_json(), "features": "log10(indels_per_mb + pseudo), "
                                                              "log10(snvs_per_mb + pseudo)"},
                              params, prov, warnings)
