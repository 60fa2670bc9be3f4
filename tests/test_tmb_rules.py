"""Eligibility rules vs a per-row pure-Python reference; properties; footprint edges; hotspots."""
from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tmbcalc import annotation
from tmbcalc.errors import MissingFieldError, UsageError
from tmbcalc.tmb.hotspots import match_hotspots, read_hotspots
from tmbcalc.tmb.profiles import load_profile
from tmbcalc.regions import RegionSet
from tmbcalc.tmb.rules import RULES, check_requirements, evaluate
from tmbcalc.variants import COLUMNS, DEL, INS, MNV, SNV, VariantTable, allele_key


def make_table(rows: list[dict], contigs=("1",)) -> VariantTable:
    """rows: dicts with any VariantTable column; defaults: PASS SNV, depth 100, 20 alt reads."""
    defaults = {"record": 0, "sample": 0, "contig": 0, "pos": 1000, "ref_len": 1, "alt_len": 1, "vtype": SNV,
                "allele_index": 1, "n_alts": 1, "filter": 0, "t_depth": 100, "t_alt": 20, "t_vaf": 0.2,
                "n_depth": 50, "n_alt": 0, "pop_af": np.nan, "csq": annotation.CODE["missense"], "allele_key": 0}
    cols = {}
    for name, dtype in COLUMNS.items():
        cols[name] = np.array([r.get(name, defaults[name]) for r in rows], dtype=dtype)
    cols["record"] = np.arange(len(rows), dtype=np.int64)
    return VariantTable(cols, list(contigs), ["T"], "test", {"format": "vcf", "missing_fields": []})


def reference_eligible(row: dict, prof, footprint: list[tuple[int, int]]) -> list[str]:
    """Failing rules of one row, written directly from the documented rule text."""
    fails = []
    if prof.require_pass and not (row["filter"] == 0 or (prof.filter_missing_is_pass and row["filter"] == 1)):
        fails.append("filter")
    if prof.multiallelic == "first" and row["allele_index"] > 1 or prof.multiallelic == "skip" and row["n_alts"] > 1:
        fails.append("multiallelic")
    names = {SNV: "snv", MNV: "mnv", INS: "ins", DEL: "del", 4: "complex"}
    if names[row["vtype"]] not in prof.type_names():
        fails.append("variant_type")
    p, rl, al = row["pos"], row["ref_len"], row["alt_len"]
    if row["vtype"] == DEL:
        span = (p + al, p + rl)
    elif row["vtype"] == INS:
        span = (p, p + 2)
    else:
        span = (p, p + rl)
    if not any(s < span[1] and span[0] < e for s, e in footprint):
        fails.append("outside_footprint")
    classes = {annotation.CLASSES[c] for c in prof.consequence_codes()}
    if len(classes) < len(annotation.CLASSES) and (row["csq"] < 0 or annotation.CLASSES[row["csq"]] not in classes):
        fails.append("consequence")
    if prof.min_depth and row["t_depth"] < prof.min_depth:
        fails.append("min_depth")
    if prof.min_alt_reads and row["t_alt"] < prof.min_alt_reads:
        fails.append("min_alt_reads")
    # convention: VAF and population AF are stored as float32 and compared with the threshold at that precision
    vaf = float(np.float32(row["t_vaf"]))
    if prof.min_vaf and not (vaf >= float(np.float32(prof.min_vaf))):
        fails.append("min_vaf")
    if prof.max_vaf is not None and prof.max_vaf < 1 and not (vaf <= float(np.float32(prof.max_vaf))):
        fails.append("max_vaf")
    if prof.max_normal_alt_reads is not None and (row["n_alt"] < 0 or row["n_alt"] > prof.max_normal_alt_reads):
        fails.append("max_normal_alt_reads")
    pop = float(np.float32(row["pop_af"]))
    if prof.max_pop_af is not None and not math.isnan(pop) and pop > float(np.float32(prof.max_pop_af)):
        fails.append("max_pop_af")
    return fails


row_strategy = st.fixed_dictionaries({
    "pos": st.integers(0, 400), "vtype": st.sampled_from([SNV, MNV, INS, DEL]),
    "filter": st.integers(0, 2), "t_depth": st.integers(-1, 80), "t_alt": st.integers(-1, 20),
    "t_vaf": st.one_of(st.just(float("nan")), st.floats(0, 1)), "n_alt": st.integers(-1, 5),
    "pop_af": st.one_of(st.just(float("nan")), st.floats(0, 0.5)), "csq": st.integers(-1, len(annotation.CLASSES) - 1),
    "allele_index": st.integers(1, 3), "n_alts": st.integers(1, 3), "extra": st.integers(1, 4),
})


def _finish(r):
    r = dict(r)
    extra = r.pop("extra")
    r["ref_len"], r["alt_len"] = {SNV: (1, 1), MNV: (extra + 1, extra + 1), INS: (1, 1 + extra),
                                  DEL: (1 + extra, 1)}[r["vtype"]]
    r["allele_index"] = min(r["allele_index"], r["n_alts"])
    return r


FOOTPRINT = [(50, 120), (200, 201), (300, 350)]


@settings(max_examples=60, deadline=None)
@given(st.lists(row_strategy, min_size=1, max_size=40),
       st.sampled_from(["wes-merino", "msk-impact-like", "tso500-like"]),
       st.sampled_from(["first", "all", "skip"]), st.floats(0, 0.3), st.one_of(st.none(), st.floats(0, 0.2)))
def test_rules_match_reference(rows, pname, multi, min_vaf, max_pop):
    rows = [_finish(r) for r in rows]
    prof = load_profile(pname).override(multiallelic=multi, min_vaf=min_vaf, germline_filter="off",
                                        max_pop_af=max_pop if max_pop is not None else "off")
    fp = RegionSet.from_tuples([("1", s, e) for s, e in FOOTPRINT])
    out = evaluate(make_table(rows), prof, fp)
    for i, r in enumerate(rows):
        expected = reference_eligible(r, prof, FOOTPRINT)
        got = [RULES[b] for b in range(len(RULES)) if out.fail_bits[i] & (1 << b)]
        assert got == expected, (r, got, expected)
        assert out.eligible[i] == (not expected)
        assert (RULES[out.first_fail[i]] if out.first_fail[i] >= 0 else None) == (expected[0] if expected else None)


@settings(max_examples=40, deadline=None)
@given(st.lists(row_strategy, min_size=1, max_size=60), st.floats(0, 0.5), st.floats(0, 0.3),
       st.integers(0, 60), st.integers(0, 30))
def test_tightening_never_increases_count(rows, vaf, dvaf, depth, ddepth):
    rows = [_finish(r) for r in rows]
    table = make_table(rows)
    fp = RegionSet.from_tuples([("1", 0, 500)])
    base = load_profile("wes-merino").override(consequences=["all"])
    loose = evaluate(table, base.override(min_vaf=vaf, min_depth=depth), fp).eligible.sum()
    tight = evaluate(table, base.override(min_vaf=min(1.0, vaf + dvaf), min_depth=depth + ddepth), fp).eligible.sum()
    assert tight <= loose
    narrower = evaluate(table, base.override(min_vaf=vaf, min_depth=depth, consequences=["missense"]), fp)
    assert narrower.eligible.sum() <= loose


def test_indel_footprint_edges_by_hand():
    fp = RegionSet.from_tuples([("1", 100, 200)])      # bases 101..200 (1-based)
    prof = load_profile("wes-merino").override(consequences=["all"])
    rows = [
        {"pos": 99, "vtype": DEL, "ref_len": 3, "alt_len": 1},   # anchor 100 (outside), deletes 101-102 -> in
        {"pos": 98, "vtype": DEL, "ref_len": 2, "alt_len": 1},   # anchor 99, deletes base 100 -> out
        {"pos": 199, "vtype": DEL, "ref_len": 3, "alt_len": 1},  # anchor 200 (inside), deletes 201-202 -> out
        {"pos": 98, "vtype": INS, "ref_len": 1, "alt_len": 3},   # insertion between 99 and 100 -> out
        {"pos": 99, "vtype": INS, "ref_len": 1, "alt_len": 3},   # between 100 and 101 (101 inside) -> in
        {"pos": 199, "vtype": INS, "ref_len": 1, "alt_len": 2},  # between 200 and 201 -> in
        {"pos": 200, "vtype": SNV},                              # base 201 -> out
        {"pos": 198, "vtype": MNV, "ref_len": 3, "alt_len": 3},  # bases 199-201 -> in
    ]
    out = evaluate(make_table(rows), prof, fp)
    assert out.in_footprint.tolist() == [True, False, False, False, True, True, False, True]


def test_germline_heuristic():
    prof = load_profile("wes-merino").override(consequences=["all"], germline_filter="tumor_only")
    fp = RegionSet.from_tuples([("1", 0, 10_000)])
    rows = [
        {"t_vaf": 0.5, "pop_af": 0.01, "n_depth": -1, "n_alt": -1},   # het-like, in population DB -> germline
        {"t_vaf": 0.98, "pop_af": 0.2, "n_depth": -1, "n_alt": -1},   # hom-like -> germline
        {"t_vaf": 0.5, "pop_af": np.nan, "n_depth": -1, "n_alt": -1},  # not in DB -> kept
        {"t_vaf": 0.3, "pop_af": 0.01, "n_depth": -1, "n_alt": -1},   # subclonal VAF -> kept
        {"t_vaf": 0.5, "pop_af": 0.01, "n_depth": 40, "n_alt": 0},    # has a matched normal -> not applied
    ]
    out = evaluate(make_table(rows), prof, fp)
    assert [bool(out.fail_bits[i] & (1 << RULES.index("likely_germline"))) for i in range(5)] == \
        [True, True, False, False, False]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(1, 5000), st.integers(0, 5000)), min_size=1, max_size=30),
       st.integers(0, 1000), st.integers(0, 1000), st.integers(0, 30))
def test_fraction_thresholds_exact(reads, vaf_milli, max_vaf_milli, pop_per_10k):
    """VAF = alt/depth (stored as the readers store it) against min_vaf/max_vaf given as decimals,
    and a population AF written with 4 decimals against max_pop_af: the same verdict as exact
    rational arithmetic, including values exactly at the threshold (e.g. 1/20 at 0.05, 0.001 at 0.001)."""
    from fractions import Fraction

    reads = [(d, min(a, d)) for d, a in reads]
    min_vaf, max_vaf = Fraction(vaf_milli, 1000), Fraction(max(vaf_milli, max_vaf_milli), 1000)
    pop = Fraction(pop_per_10k, 10_000)
    rows = [{"t_depth": d, "t_alt": a, "t_vaf": a / d, "pop_af": float(f"{float(pop):.4f}")} for d, a in reads]
    prof = load_profile("wes-merino").override(consequences=["all"], min_depth="off", min_alt_reads="off",
                                               min_vaf=float(min_vaf), max_vaf=float(max_vaf),
                                               max_pop_af=float(Fraction(1, 1000)))
    out = evaluate(make_table(rows), prof, RegionSet.from_tuples([("1", 0, 10_000)]))
    bit = {r: 1 << RULES.index(r) for r in ("min_vaf", "max_vaf", "max_pop_af")}
    for i, (d, a) in enumerate(reads):
        vaf = Fraction(a, d)
        if min_vaf > 0:
            assert bool(out.fail_bits[i] & bit["min_vaf"]) == (vaf < min_vaf), (a, d, min_vaf)
        if max_vaf < 1:
            assert bool(out.fail_bits[i] & bit["max_vaf"]) == (vaf > max_vaf), (a, d, max_vaf)
        assert bool(out.fail_bits[i] & bit["max_pop_af"]) == (pop > Fraction(1, 1000)), pop


def test_fraction_thresholds_at_the_boundary_by_hand():
    """Values exactly at a threshold pass it; float32 rounds 0.45 and 0.95 down and 0.05, 0.55 up."""
    prof = load_profile("wes-merino").override(consequences=["all"], min_vaf=0.05, max_pop_af=0.001,
                                               germline_filter="always", min_depth="off", min_alt_reads="off")
    rows = [{"t_depth": 20, "t_alt": 1, "t_vaf": 1 / 20},              # VAF 0.05 = min_vaf: kept
            {"t_depth": 20, "t_alt": 9, "t_vaf": 9 / 20, "pop_af": 0.001},   # 0.45: in the het window
            {"t_depth": 20, "t_alt": 11, "t_vaf": 11 / 20, "pop_af": 0.001},  # 0.55: in the het window
            {"t_depth": 20, "t_alt": 19, "t_vaf": 19 / 20, "pop_af": 0.001},  # 0.95: in the hom window
            {"t_depth": 100, "t_alt": 20, "t_vaf": 0.2, "pop_af": 0.001}]     # AF 0.001 = max_pop_af: kept
    out = evaluate(make_table(rows), prof, RegionSet.from_tuples([("1", 0, 10_000)]))
    got = [[RULES[b] for b in range(len(RULES)) if out.fail_bits[i] & (1 << b)] for i in range(len(rows))]
    assert got == [[], ["likely_germline"], ["likely_germline"], ["likely_germline"], []]


def test_requirements_errors():
    t = make_table([{"csq": -1}])
    t.meta["missing_fields"] = ["csq"]
    with pytest.raises(MissingFieldError, match="VEP or SnpEff.*consequences all with coding_bed"):
        check_requirements(t, load_profile("wes-merino"), hotspots_given=False)
    t2 = make_table([{}])
    t2.meta["missing_fields"] = ["t_depth"]
    with pytest.raises(MissingFieldError, match="min_depth"):
        check_requirements(t2, load_profile("wes-merino"), hotspots_given=False)
    with pytest.raises(UsageError, match="give exclude_hotspots FILE"):
        check_requirements(t2, load_profile("f1cdx-like"), hotspots_given=False)


def test_hotspot_matching_maf_list_vs_vcf_rows(tmp_path, shared):
    lst = tmp_path / "hs.tsv"
    # MAF-style, no header: SNV, deletion of 3 bases starting at 1001, insertion after 2000
    lst.write_text("1\t500\tC\tT\tG\tMissense\n1\t1001\tAGT\t-\tG\tDEL\n1\t2000\t-\tCC\tG\tINS\n")
    hs = read_hotspots(lst)
    rows = [
        {"pos": 499, "allele_key": allele_key("C", "T")},                     # same SNV -> hit
        {"pos": 499, "allele_key": allele_key("C", "G")},                     # other base -> no
        {"pos": 999, "vtype": DEL, "ref_len": 4, "alt_len": 1},               # VCF POS 1000 anchor -> hit
        {"pos": 999, "vtype": DEL, "ref_len": 3, "alt_len": 1},               # shorter deletion -> no
        {"pos": 1999, "vtype": INS, "ref_len": 1, "alt_len": 3},              # VCF POS 2000 +2 bases -> hit
        {"pos": 1999, "vtype": INS, "ref_len": 1, "alt_len": 4},              # +3 bases -> no
    ]
    assert match_hotspots(make_table(rows), hs).tolist() == [True, False, True, False, True, False]
    real = read_hotspots(shared / "popfreq_hotspots/maftools/cancerhotspots_v2_GRCh37.tsv")
    assert real.n_lines == 3181 and "7" in real.contigs()
    dnds = read_hotspots(shared / "popfreq_hotspots/dndscv_knownhotspots_hg19.tsv")
    braf = make_table([{"pos": 140453135, "allele_key": allele_key("A", "T")}], contigs=("7",))
    assert match_hotspots(braf, dnds).tolist() == [True]          # BRAF V600E (chr7:140453136 A>T)


@settings(max_examples=80, deadline=None)
@given(st.integers(2, 10_000), st.text("ACGT", min_size=1, max_size=1), st.text("ACGT", min_size=1, max_size=12),
       st.booleans())
def test_hotspot_sites_same_for_maf_and_vcf_style(pos1, anchor, seq, deletion):
    """A deletion/insertion written MAF-style and VCF-style is one hotspot site."""
    from tmbcalc.tmb.hotspots import _site_from_alleles

    if deletion:   # MAF: first deleted base at pos1; VCF: anchor at pos1 - 1
        maf = _site_from_alleles("chr1", pos1, seq, "-")
        vcf = _site_from_alleles("1", pos1 - 1, anchor + seq, anchor)
    else:          # MAF: insertion after pos1; VCF: anchor at pos1
        maf = _site_from_alleles("1", pos1, "-", seq)
        vcf = _site_from_alleles("chr1", pos1, anchor, anchor + seq)
    assert maf == vcf
