"""Eligibility rules: which rows of a VariantTable count towards TMB (vectorised, no per-row Python).

Rules are evaluated in the fixed order of :data:`RULES`; each row gets a bit mask of every rule
it fails, its first failing rule (the order below) and an eligible flag (no failing rule).

Conventions:

* ``filter``: FILTER must be PASS; FILTER ``.`` (or a MAF without a FILTER column) passes only
  when the profile sets ``filter_missing_is_pass``.
* ``symbolic_allele`` (always applied): symbolic ALTs (``<DEL>``, ``<INS>``...), breakends and
  the spanning deletion ``*`` are not sequence-resolved small variants and never count.
* ``multiallelic``: ``first`` keeps only the first ALT allele of a record, ``skip`` drops every
  allele of multi-allelic records, ``all`` keeps every allele.
* ``outside_footprint``: the bases a variant changes must overlap the denominator footprint by
  >= 1 bp: SNV/MNV/complex ``[POS, POS+len(REF))``; anchored deletion: the deleted bases
  ``[POS+len(ALT), POS+len(REF))`` (the padding base is ignored); insertion: the two bases that
  flank the insertion point ``[POS, POS+2)`` (either flanking base inside counts).
* A row whose value is missing for an active threshold (depth -1, VAF NaN) fails that rule:
  eligibility cannot be shown.  A missing population AF passes ``max_pop_af`` (not seen in the
  population resource).  When a whole input lacks what an active rule needs,
  :func:`check_requirements` raises before anything is counted.
* ``likely_germline`` (tumor-only heuristic, profile ``germline_filter``): a variant observed in
  a population database (pop AF > ``germline_min_pop_af``) whose tumor VAF lies in one of
  ``germline_vaf_windows`` (default 0.45-0.55 heterozygous, >= 0.95 homozygous) is treated as
  germline.  This is the simple VAF/database rule of the tumor-only literature (e.g. Chalmers et
  al. 2017 Genome Med 9:34, who use dbSNP/ExAC plus the SGZ model of Sun et al. 2018 PLoS Comput
  Biol 14:e1005965; SGZ's purity/copy-number modelling is not reproduced).  With ``tumor_only``
  it applies to rows without matched-normal data; with ``always`` to every row.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import annotation
from ..errors import MissingFieldError, UsageError
from .profiles import Profile
from ..regions import RegionSet
from ..variants import COMPLEX, DEL, FILTER_MISSING, FILTER_PASS, INS, MNV, SNV, VariantTable

RULES: tuple[str, ...] = (
    "filter", "multiallelic", "symbolic_allele", "variant_type", "outside_footprint", "consequence", "min_depth",
    "min_alt_reads", "min_vaf", "max_vaf", "min_normal_depth", "max_normal_alt_reads", "max_pop_af",
    "hotspot", "likely_germline", "duplicate_across_files",
)
# applied only when several call files are read for one tumor (see tmbcalc.tmb.inputs); listed in
# outputs only then, so single-file outputs keep their columns
DUPLICATE_RULE = "duplicate_across_files"
# one bit per rule in a uint32 mask: room for 32 rules (16 used); adding a rule is one entry in
# RULES, one line in active_rules() and its test in evaluate()
BIT_DTYPE = np.uint32
assert len(RULES) <= 8 * np.dtype(BIT_DTYPE).itemsize
BIT = {r: BIT_DTYPE(1 << i) for i, r in enumerate(RULES)}
_TYPE_CODE = {"snv": SNV, "mnv": MNV, "ins": INS, "del": DEL, "complex": COMPLEX}


@dataclass
class RuleOutcome:
    """Per-row outcome of rule evaluation."""

    fail_bits: np.ndarray      # uint32 bit mask of failing rules (bit i = RULES[i])
    first_fail: np.ndarray     # int8 index into RULES of the first failing rule, -1 if eligible
    eligible: np.ndarray       # bool
    in_footprint: np.ndarray   # bool
    active: tuple[str, ...]    # rules that were applied

    def all_fail_counts(self, mask: np.ndarray | None = None) -> dict[str, int]:
        bits = self.fail_bits if mask is None else self.fail_bits[mask]
        return {r: int(np.count_nonzero(bits & BIT[r])) for r in RULES if r in self.active}


def listed_rules(active: tuple[str, ...] | list[str]) -> list[str]:
    """The rules named in outputs (columns, ``rules_order``): every rule, but the duplicate rule only
    when it was applied."""
    return [r for r in RULES if r != DUPLICATE_RULE or r in active]


def active_rules(profile: Profile, *, hotspots_given: bool, multi_input: bool = False) -> tuple[str, ...]:
    on = {
        "filter": profile.require_pass,
        "multiallelic": profile.multiallelic != "all",
        "symbolic_allele": True,
        "variant_type": set(profile.type_names()) != set(_TYPE_CODE),
        "outside_footprint": True,
        "consequence": not profile.counts_all_consequences(),
        "min_depth": profile.min_depth is not None and profile.min_depth > 0,
        "min_alt_reads": profile.min_alt_reads is not None and profile.min_alt_reads > 0,
        "min_vaf": profile.min_vaf is not None and profile.min_vaf > 0,
        "max_vaf": profile.max_vaf is not None and profile.max_vaf < 1,
        "min_normal_depth": profile.min_normal_depth is not None and profile.min_normal_depth > 0,
        "max_normal_alt_reads": profile.max_normal_alt_reads is not None,
        "max_pop_af": profile.max_pop_af is not None,
        "hotspot": hotspots_given,
        "likely_germline": profile.germline_filter != "off",
        DUPLICATE_RULE: multi_input,
    }
    return tuple(r for r in RULES if on[r])


_MAF_META = {"t_depth": "has_depth", "t_alt": "has_alt_reads", "t_vaf": "has_vaf", "n_depth": "has_normal",
             "n_alt": "has_normal", "pop_af": "has_pop_af", "csq": "has_consequence"}


def _has(table: VariantTable, column: str) -> bool:
    """Does the input provide ``column`` at all (reader metadata first, then the data)?"""
    if column == "pop_af" and table.meta.get("pop_af_resource"):   # joined from a resource VCF
        return True
    if "missing_fields" in table.meta:                       # VCF reader: fields it could not fill
        if column in table.meta["missing_fields"]:
            return False
        if column != "pop_af":
            return True
    flag = table.meta.get(_MAF_META.get(column, ""))
    if isinstance(flag, bool) and flag:
        return True
    col = table[column]
    if col.dtype.kind == "f":
        return bool((~np.isnan(col)).any())
    if column == "csq":
        return bool((col != annotation.UNANNOTATED).any())
    return bool((col >= 0).any())


def _missing_message(table: VariantTable, column: str, what: str) -> str:
    if table.meta.get("format") in ("vcf", "bcf"):
        try:
            from ..io.vcf import describe_missing

            msg = describe_missing(table, {column})
            if msg:
                prefix = f"{table.source} "
                return msg[len(prefix):] if msg.startswith(prefix) else msg
        except ImportError:  # pragma: no cover
            pass
    return f"lacks {what}"


def check_requirements(table: VariantTable, profile: Profile, *, hotspots_given: bool) -> None:
    """Raise when an active rule needs data the whole input lacks (one-line, actionable)."""
    if hotspots_given is False and profile.hotspots == "required":
        raise UsageError(f"profile '{profile.name}' excludes known hotspots: give exclude_hotspots FILE "
                         f"(e.g. cancerhotspots.org v2 TSV)", params=("exclude_hotspots",))
    if hotspots_given and profile.hotspots == "none":
        raise UsageError(f"profile '{profile.name}' counts known hotspots (as the assay it approximates does): "
                         f"drop exclude_hotspots or choose another counting profile", params=("exclude_hotspots",))
    if len(table) == 0:
        return
    active = active_rules(profile, hotspots_given=hotspots_given)
    src = table.source

    problems: list[str] = []
    params: list[str] = []  # parameters the messages name (the CLI writes them as options)
    if "consequence" in active and not _has(table, "csq"):
        problems.append(
            f"has no consequence annotation (no VEP CSQ / SnpEff ANN field, no MAF Variant_Classification) but "
            f"profile '{profile.name}' counts only {', '.join(profile.consequences)}: annotate it with Ensembl VEP "
            f"or SnpEff, or use consequences all with coding_bed to restrict the footprint to coding regions")
        params += ["consequences", "coding_bed"]
    if "filter" in active and table.meta.get("format") == "maf" and not table.meta.get("has_filter", True) \
            and not profile.filter_missing_is_pass:
        problems.append(
            f"MAF has no FILTER column but profile '{profile.name}' counts only FILTER PASS: if its rows are "
            f"already filtered calls, set filter_missing_is_pass")
        params.append("filter_missing_is_pass")
    pop_fix = "pop_af_fields NAME, pop_af_vcf RESOURCE or "
    needs = [
        ("min_depth", "t_depth", "tumor read depth (MAF t_depth or t_ref_count+t_alt_count)", "min_depth off"),
        ("min_alt_reads", "t_alt", "tumor alt read counts (MAF t_alt_count)", "min_alt_reads off"),
        ("min_vaf", "t_vaf", "tumor VAF (MAF t_alt_count and depth)", "min_vaf off"),
        ("max_vaf", "t_vaf", "tumor VAF (MAF t_alt_count and depth)", "max_vaf off"),
        ("likely_germline", "t_vaf", "tumor VAF", "germline_filter off"),
        ("min_normal_depth", "n_depth", "matched-normal depth (MAF n_depth)", "min_normal_depth off"),
        ("max_normal_alt_reads", "n_alt", "matched-normal alt reads (MAF n_alt_count)", "max_normal_alt_reads off"),
        ("max_pop_af", "pop_af", f"population allele frequency ({', '.join(profile.pop_af_fields[:4])}...)",
         pop_fix + "max_pop_af off"),
        ("likely_germline", "pop_af", f"population allele frequency ({', '.join(profile.pop_af_fields[:4])}...)",
         pop_fix + "germline_filter off"),
    ]
    for rule, column, what, fix in needs:
        if rule in active and not _has(table, column):
            problems.append(f"{_missing_message(table, column, what)}; needed by rule '{rule}' of profile "
                            f"'{profile.name}'; use an input that has it, or {fix}")
            params += [w for w in fix.replace(",", " ").split() if "_" in w]
            params += ["normal_sample"] if column in ("n_depth", "n_alt") else []
    if problems:     # every missing requirement in one message, not one per run
        lead = f"{len(problems)} requirements of the profile are not met: " if len(problems) > 1 else ""
        raise MissingFieldError(lead + " | ".join(f"({i}) {p}" if lead else p for i, p in enumerate(problems, 1)),
                                src, params=tuple(dict.fromkeys(params)))


# the per-record value each threshold rule judges (a missing value fails the rule)
VALUE_COLUMNS: dict[str, str] = {"min_depth": "t_depth", "min_alt_reads": "t_alt", "min_vaf": "t_vaf",
                                 "max_vaf": "t_vaf", "likely_germline": "t_vaf", "min_normal_depth": "n_depth",
                                 "max_normal_alt_reads": "n_alt"}
_VALUE_NAMES = {"t_depth": "tumor read depth", "t_alt": "tumor alt read count", "t_vaf": "tumor VAF",
                "n_depth": "matched-normal depth", "n_alt": "matched-normal alt read count"}


def missing_values(table: VariantTable, mask: np.ndarray) -> dict[str, int]:
    """Rows of ``table`` selected by ``mask`` whose value is missing (-1 / NaN), per value column."""
    out = {}
    for col in dict.fromkeys(VALUE_COLUMNS.values()):
        v = table[col][mask]
        out[col] = int(np.count_nonzero(np.isnan(v) if v.dtype.kind == "f" else v < 0))
    return out


def check_values_present(missing: dict[str, int], judged: int, profile: Profile, active: tuple[str, ...],
                         meta: dict, source: str) -> list[str]:
    """After reading: refuse when a value an active rule judges is absent from every record in
    the footprint (a header may declare a field that no record carries); every such field is named
    in one message.  Returns warnings for values missing from only some records."""
    if judged <= 0:
        return []
    fields = meta.get("fields") or {}
    problems, warnings = [], []
    for col in dict.fromkeys(VALUE_COLUMNS[r] for r in active if r in VALUE_COLUMNS):
        n = missing.get(col, 0)
        if n == 0:
            continue
        rules = ", ".join(r for r in active if VALUE_COLUMNS.get(r) == col)
        where = f" ({fields[col]})" if fields.get(col) else ""
        text = f"{_VALUE_NAMES[col]}{where} is absent from {n:,} of {judged:,} variant alleles in the footprint"
        (problems if n == judged else warnings).append(f"{text} (rule {rules})")
    if problems:
        raise MissingFieldError("; ".join(problems) + f"; profile '{profile.name}' cannot judge them (the header "
                                "may declare the field but the records do not carry it): use an input with these "
                                "values or switch the rule(s) off", source)
    return [w + ": those records fail the rule" for w in warnings]


def symbolic_alleles(table: VariantTable) -> np.ndarray:
    """Rows whose ALT is not a sequence: ``<DEL>``-style symbolic alleles, breakends, ``*``.

    Only rows of type COMPLEX can be symbolic (readers classify them so); their allele text is
    inspected.  Without allele text nothing can be flagged.
    """
    out = np.zeros(len(table), dtype=bool)
    if table.allele_text is None:
        return out
    buf, off = table.allele_text
    for i in np.flatnonzero(table["vtype"] == COMPLEX).tolist():
        alt = bytes(buf[off[i]:off[i + 1]]).partition(b"\t")[2]
        out[i] = alt.startswith((b"<", b"*")) or b"[" in alt or b"]" in alt or alt in (b"", b".")
    return out


def variant_spans(table: VariantTable) -> tuple[np.ndarray, np.ndarray]:
    """[start, end) of the reference bases each row changes (see the footprint convention)."""
    pos = table["pos"].astype(np.int64)
    rl = table["ref_len"].astype(np.int64)
    al = table["alt_len"].astype(np.int64)
    vt = table["vtype"]
    start = np.where(vt == DEL, pos + al, pos)
    end = np.where(vt == INS, pos + 2, pos + np.maximum(rl, 1))
    return start, end


def in_footprint(table: VariantTable, footprint: RegionSet) -> np.ndarray:
    out = np.zeros(len(table), dtype=bool)
    if not len(table):
        return out
    start, end = variant_spans(table)
    contig = table["contig"]
    for ci, name in enumerate(table.contigs):
        sel = contig == ci
        if sel.any():
            out[sel] = footprint.overlaps(name, start[sel], end[sel])
    return out


def evaluate(table: VariantTable, profile: Profile, footprint: RegionSet,
             hotspot_mask: np.ndarray | None = None) -> RuleOutcome:
    """Apply every active rule of ``profile`` to ``table`` (vectorised)."""
    n = len(table)
    active = active_rules(profile, hotspots_given=hotspot_mask is not None)
    bits = np.zeros(n, dtype=BIT_DTYPE)

    def fail(rule: str, mask: np.ndarray) -> None:
        if rule in active:
            np.bitwise_or(bits, BIT[rule], out=bits, where=mask)

    filt = table["filter"]
    ok = filt == FILTER_PASS
    if profile.filter_missing_is_pass:
        ok |= filt == FILTER_MISSING
    fail("filter", ~ok)
    if profile.multiallelic == "first":
        fail("multiallelic", table["allele_index"] > 1)
    elif profile.multiallelic == "skip":
        fail("multiallelic", table["n_alts"] > 1)
    fail("symbolic_allele", symbolic_alleles(table))
    allowed = np.array([_TYPE_CODE[t] for t in profile.type_names()], dtype=np.int8)
    fail("variant_type", ~np.isin(table["vtype"], allowed))
    inside = in_footprint(table, footprint)
    fail("outside_footprint", ~inside)
    if "consequence" in active:
        lut = np.zeros(256, dtype=bool)
        for c in profile.consequence_codes():
            lut[c] = True
        fail("consequence", ~lut[table["csq"].astype(np.int64) & 0xFF])   # -1 (unannotated) -> 255: fails
    if "min_depth" in active:
        fail("min_depth", table["t_depth"] < profile.min_depth)          # missing (-1) fails
    if "min_alt_reads" in active:
        fail("min_alt_reads", table["t_alt"] < profile.min_alt_reads)
    vaf = np.asarray(table["t_vaf"], dtype=np.float32)                  # as stored (float32)
    if "min_vaf" in active:
        fail("min_vaf", ~(vaf >= _f32(profile.min_vaf)))                 # NaN fails
    if "max_vaf" in active:
        fail("max_vaf", ~(vaf <= _f32(profile.max_vaf)))
    if "min_normal_depth" in active:
        fail("min_normal_depth", table["n_depth"] < profile.min_normal_depth)
    if "max_normal_alt_reads" in active:
        n_alt = table["n_alt"]
        fail("max_normal_alt_reads", (n_alt < 0) | (n_alt > profile.max_normal_alt_reads))
    pop = np.asarray(table["pop_af"], dtype=np.float32)                 # as stored (float32)
    if "max_pop_af" in active:
        fail("max_pop_af", pop > _f32(profile.max_pop_af))               # NaN (absent) passes
    if hotspot_mask is not None:
        fail("hotspot", hotspot_mask)
    if "likely_germline" in active:
        in_window = np.zeros(n, dtype=bool)
        for lo, hi in profile.germline_vaf_windows:
            in_window |= (vaf >= _f32(lo)) & (vaf <= _f32(hi))
        germ = in_window & (pop > _f32(profile.germline_min_pop_af))
        if profile.germline_filter == "tumor_only":
            germ &= (table["n_depth"] < 0) & (table["n_alt"] < 0)
        fail("likely_germline", germ)

    first = np.full(n, -1, dtype=np.int8)
    if n:
        has = bits != 0
        low = bits & (~bits + BIT_DTYPE(1))                              # lowest set bit
        first[has] = np.log2(low[has].astype(np.float64)).astype(np.int8)
    return RuleOutcome(bits, first, bits == 0, inside, active)


def _f32(threshold: float) -> np.float32:
    """A fraction threshold rounded as the stored values are (VAF and population AF are float32).

    Comparing float32 values with the threshold in the same precision keeps "exactly at the
    threshold" exact: a VAF of 9/20 or a population AF written as 0.001 equals a threshold of
    0.45 or 0.001 after both are rounded, whatever the direction float32 rounds them."""
    return np.float32(threshold)


def describe_bits(bits: int) -> list[str]:
    return [r for r in RULES if bits & int(BIT[r])]


__all__ = ["RULES", "BIT", "BIT_DTYPE", "RuleOutcome", "evaluate", "check_requirements", "check_values_present",
           "missing_values", "VALUE_COLUMNS", "in_footprint", "variant_spans", "active_rules", "describe_bits",
           "symbolic_alleles", "listed_rules", "DUPLICATE_RULE"]
