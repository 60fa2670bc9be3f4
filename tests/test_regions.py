"""Interval arithmetic: properties (Hypothesis) and agreement with bedtools on real BEDs."""
from __future__ import annotations

import gzip

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from tmbcalc.io.bed import read_bed, read_bed_records
from tmbcalc.regions import RegionSet

from .conftest import run_tool

intervals = st.lists(
    st.tuples(st.sampled_from(["1", "chr1", "2", "X"]), st.integers(0, 300), st.integers(0, 60)).map(
        lambda t: (t[0], t[1], t[1] + t[2])),
    max_size=40,
)


def as_bases(rs: RegionSet) -> set[tuple[str, int]]:
    return {(c, p) for c, s, e in rs for p in range(s, e)}


def naive_bases(items) -> set[tuple[str, int]]:
    return {(c.removeprefix("chr"), p) for c, s, e in items for p in range(s, e)}


@given(intervals)
def test_merge_matches_base_set_and_is_idempotent(items):
    rs = RegionSet.from_tuples(items)
    assert as_bases(rs) == naive_bases(items)
    assert rs.total_bp() == len(naive_bases(items))
    again = RegionSet.from_tuples(list(rs))
    assert list(again) == list(rs)
    # merged: sorted, disjoint, non-adjacent
    for c, (s, e) in rs.by_contig.items():
        assert np.all(s[1:] > e[:-1])


@given(intervals, intervals)
def test_set_algebra_matches_base_sets(a_items, b_items):
    a, b = RegionSet.from_tuples(a_items), RegionSet.from_tuples(b_items)
    A, B = naive_bases(a_items), naive_bases(b_items)
    assert as_bases(a.intersect(b)) == A & B
    assert as_bases(a.subtract(b)) == A - B
    assert as_bases(a.union(b)) == A | B
    assert a.intersect(b).total_bp() + a.subtract(b).total_bp() == a.total_bp()


@given(intervals, st.lists(st.integers(-5, 400), max_size=30))
def test_contains_and_overlaps(items, points):
    rs = RegionSet.from_tuples(items)
    bases = naive_bases(items)
    pts = np.array(points, dtype=np.int64)
    got = rs.contains("1", pts)
    assert got.tolist() == [("1", p) in bases for p in points]
    ends = pts + 3
    ov = rs.overlaps("chr1", pts, ends)
    assert ov.tolist() == [any(("1", q) in bases for q in range(p, p + 3)) for p in points]


def test_real_bed_sizes_match_bedtools(shared, tmp_path):
    """Footprint of a real panel BED equals `bedtools merge` total; intersection with an exome
    matches `bedtools intersect` of the merged files."""
    impact = shared / "panels/msk_impact_gnomeR/IMPACT468_targets_GRCh37.bed"
    sorted_bed = tmp_path / "impact.sorted.bed"
    sorted_bed.write_text(run_tool("bedtools", "sort", "-i", str(impact)))
    merged = run_tool("bedtools", "merge", "-i", str(sorted_bed))
    expected = sum(int(l.split()[2]) - int(l.split()[1]) for l in merged.splitlines())
    assert read_bed(impact).total_bp() == expected

    exome_gz = shared / "panels/exome_kits/SureSelect_Human_All_Exon_V4_S03723314_Covered_hg19.bed.gz"
    exome_plain = tmp_path / "exome.bed"
    lines = [l for l in gzip.open(exome_gz, "rt") if l[:1].isalnum() and not l.startswith(("track", "browser"))]
    exome_plain.write_text("".join(l.replace("chr", "", 1) for l in lines))
    exome_sorted = tmp_path / "exome.sorted.bed"
    exome_sorted.write_text(run_tool("bedtools", "sort", "-i", str(exome_plain)))
    ex_merged = tmp_path / "exome.merged.bed"
    ex_merged.write_text(run_tool("bedtools", "merge", "-i", str(exome_sorted)))
    imp_merged = tmp_path / "impact.merged.bed"
    imp_merged.write_text(merged)
    inter = run_tool("bedtools", "intersect", "-a", str(imp_merged), "-b", str(ex_merged))
    expected_inter = sum(int(l.split()[2]) - int(l.split()[1]) for l in inter.splitlines())
    got = read_bed(impact).intersect(read_bed(exome_gz))
    assert got.total_bp() == expected_inter


def test_interval_list_is_converted_from_one_based(tmp_path):
    p = tmp_path / "x.interval_list"
    p.write_text("@HD\tVN:1.6\n@SQ\tSN:1\tLN:1000\n1\t11\t20\t+\tT1\n")
    rec = read_bed_records(p)
    assert (rec.starts[0], rec.ends[0], rec.names[0]) == (10, 20, "T1")
