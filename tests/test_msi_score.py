"""Scorers: statistics vs hand calculations / scipy, and calls on small simulated BAM pairs."""
from __future__ import annotations

import gzip
import json
import math

import numpy as np
import pytest
from scipy import stats as st

from tests._msi_reads import build_reference, mix, write_bam
from tmbcalc.errors import InputError, UsageError
from tmbcalc.msi.baseline import msi_baseline, read_baseline
from tmbcalc.msi.call import CallRules, call_from_statistic, call_markers, needed_loci, pair_check
from tmbcalc.msi.paired import pooled, score_paired, shift_masks, stutter_ratio
from tmbcalc.msi.score import msi_score
from tmbcalc.msi.scan import msi_scan
from tmbcalc.msi.statistics import bh_qvalues, chisq_pooled, core_mask, fisher_greater, total_variation


# --------------------------------------------------------------------------------- statistics
def test_bh_by_hand():
    p = np.array([0.01, 0.04, 0.03, 0.20, np.nan])
    # sorted 0.01, 0.03, 0.04, 0.20 with m = 4: 0.04, 0.06, 0.0533.., 0.20 -> step-up minimum
    q = bh_qvalues(p)
    assert q[0] == pytest.approx(0.04)
    assert q[2] == pytest.approx(0.04 * 4 / 3)
    assert q[1] == pytest.approx(0.04 * 4 / 3)  # min(0.0533, 0.06...) carried down
    assert q[3] == pytest.approx(0.20)
    assert math.isnan(q[4])
    assert bh_qvalues(np.array([0.9, 0.8])).tolist() == [0.9, 0.9]


def test_fisher_matches_scipy():
    cases = [(8, 100, 1, 100), (0, 50, 0, 60), (30, 40, 2, 80), (5, 20, 5, 20)]
    got = fisher_greater(*map(np.array, zip(*cases)))
    for (xt, nt, xn, nn), g in zip(cases, got):
        want = st.fisher_exact([[xt, nt - xt], [xn, nn - xn]], alternative="greater")[1]
        assert g == pytest.approx(want, rel=1e-9)


def test_chisq_without_pooling_matches_scipy():
    t = np.array([30, 50, 20])
    n = np.array([40, 45, 15])
    stat, dof, p = chisq_pooled(t, n)
    chi2, pv, d, _ = st.chi2_contingency(np.array([t, n]), correction=False)
    assert (stat, dof) == (pytest.approx(chi2), d) and p == pytest.approx(pv)


def test_chisq_pools_small_columns_by_hand():
    # expected share of each row is 1/2; columns (1,0) and (2,1) are pooled with their
    # neighbour until (col total)/2 >= 5
    t = np.array([1, 2, 40, 3, 0])
    n = np.array([0, 1, 50, 2, 1])
    stat, dof, p = chisq_pooled(t, n)
    # smaller row share 46/100: [1,0] -> [3,1] (4 x 0.46 < 5) -> [43,51] closes a group;
    # [3,2] -> [3,3] never reaches 5 expected and joins it: one group, no test
    assert dof == 0 and p == 1.0 and stat == 0.0
    t2 = np.array([1, 9, 40, 10, 1])
    n2 = np.array([0, 11, 50, 9, 2])
    stat2, dof2, p2 = chisq_pooled(t2, n2)
    table = np.array([[10, 40, 11], [11, 50, 11]])  # [1+9], [40], [10+1] ; [0+11], [50], [9+2]
    chi2, pv, d, _ = st.chi2_contingency(table, correction=False)
    assert dof2 == d == 2 and stat2 == pytest.approx(chi2) and p2 == pytest.approx(pv)


def test_loci_table_cells_by_hand():
    """PREFIX.msi_loci.tsv.gz rows: numpy ints, floats (6 significant digits; NaN/inf -> NA), bools
    (1/0), absent columns (NA) and names ('.' when none), written here by hand."""
    import io

    from tmbcalc.msi.loci import LociTable
    from tmbcalc.msi.report import LOCI_COLUMNS, write_loci_table

    table = LociTable.from_rows([("chr1", 100, 112, "A", 12, "GATCG", "CTTAG", "BAT25"),
                                 ("chr1", 500, 510, "CA", 5, "GGTCT", "TTGCA", "")])
    cols = {"tumor_reads": np.array([31, 0], dtype=np.int64), "tumor_contraction_fraction": np.array([0.1234567, np.nan]),
            "statistic": np.array([np.inf, -2.5e-7]), "evaluable": np.array([True, False]),
            "unstable": np.array([True, False]), "p_value": [1e-12, 0.5]}
    fh = io.StringIO()
    write_loci_table(fh, cols, table, ["head"])
    lines = fh.getvalue().splitlines()
    assert lines[0] == "# head" and lines[1] == "\t".join(LOCI_COLUMNS)
    rows = [dict(zip(LOCI_COLUMNS, x.split("\t"))) for x in lines[2:]]
    assert len(rows) == 2
    assert [rows[0][k] for k in ("chrom", "start", "end", "unit", "ref_copies", "name")] == \
        ["chr1", "100", "112", "A", "12", "BAT25"]
    assert rows[1]["name"] == "." and rows[1]["unit"] == "CA"
    assert (rows[0]["tumor_reads"], rows[1]["tumor_reads"]) == ("31", "0")
    assert (rows[0]["tumor_contraction_fraction"], rows[1]["tumor_contraction_fraction"]) == ("0.123457", "NA")
    assert (rows[0]["statistic"], rows[1]["statistic"]) == ("NA", "-2.5e-07")
    assert (rows[0]["evaluable"], rows[1]["evaluable"], rows[0]["unstable"]) == ("1", "0", "1")
    assert (rows[0]["p_value"], rows[1]["p_value"]) == ("1e-12", "0.5")
    assert rows[0]["normal_reads"] == rows[1]["baseline_mean"] == "NA"


def test_total_variation_by_hand():
    t = np.array([[0, 5, 5, 0], [0, 0, 0, 0]])
    n = np.array([[0, 10, 0, 0], [1, 1, 0, 0]])
    d = total_variation(t, n)
    assert d[0] == pytest.approx(0.5)  # |0.5-1| + |0.5-0| = 1 -> /2
    assert math.isnan(d[1])


def test_core_mask_by_hand():
    hist = np.array([[0, 10, 80, 5, 5, 0], [0, 0, 0, 0, 0, 0], [30, 0, 40, 0, 30, 0]])
    core = core_mask(hist, 0.2)
    assert np.nonzero(core[0])[0].tolist() == [2]
    assert not core[1].any()
    assert np.nonzero(core[2])[0].tolist() == [0, 2, 4]


def test_locus_shift_by_hand():
    from tmbcalc.msi.baseline import locus_shift

    # 2 normals x shifts (2, 3, 4) x 3 loci; locus 0: 2-unit share 0.03 -> 2; locus 1: 0.2 / 0.04
    # -> 3; locus 2: never <= 0.05 -> 4; a non-supporting normal (ok False) is ignored
    shares = np.array([[[0.03, 0.20, 0.30], [0.01, 0.04, 0.20], [0.0, 0.01, 0.10]],
                       [[0.03, 0.20, 0.30], [0.01, 0.06, 0.20], [0.0, 0.01, 0.10]]])
    ok = np.array([[True, True, True], [True, False, True]])
    assert locus_shift(shares, ok, (2, 3, 4)).tolist() == [2, 3, 4]


def test_pooled_statistic_by_hand():
    x, n, q = np.array([10, 4]), np.array([100, 100]), np.array([0.02, 0.04])
    var = np.array([3.0, 5.0])
    r = pooled(x, n, q, var)
    E = 100 * 0.02 + 100 * 0.04
    assert r["z"] == pytest.approx((14 - E) / math.sqrt(8.0))
    assert r["p"] == pytest.approx(st.norm.sf(r["z"]))
    assert r["fraction"] == pytest.approx((14 - E) / (200 - E))
    se = math.sqrt(8.0) / (200 - E)
    assert r["ci95"] == pytest.approx([r["fraction"] - 1.959964 * se, r["fraction"] + 1.959964 * se], rel=1e-6)


def test_shift_masks_by_hand():
    # columns 0..9; row 0: core at 4 and 6 (a het 2 bp apart), unit 1; row 1: core at 5, unit 2
    core = np.zeros((2, 10), dtype=bool)
    core[0, [4, 6]] = True
    core[1, 5] = True
    con, exp_, plus = shift_masks(core, np.array([1, 2]), 2)
    assert np.nonzero(con[0])[0].tolist() == [0, 1, 2] and np.nonzero(exp_[0])[0].tolist() == [8, 9]
    assert np.nonzero(plus[0])[0].tolist() == [7]
    assert np.nonzero(con[1])[0].tolist() == [0, 1] and np.nonzero(exp_[1])[0].tolist() == [9]
    assert np.nonzero(plus[1])[0].tolist() == [7]


def test_stutter_ratio_lower_bound_by_hand():
    r, low, infl = stutter_ratio(np.array([40]), np.array([400]), np.array([20]), np.array([400]))
    assert r == pytest.approx(2.0)
    se = math.sqrt(1 / 40 - 1 / 400 + 1 / 20 - 1 / 400)
    assert low == pytest.approx(2.0 * math.exp(-1.959964 * se), rel=1e-6)
    assert infl == pytest.approx(low ** 2)
    assert stutter_ratio(np.array([0]), np.array([10]), np.array([1]), np.array([10])) == (1.0, 1.0, 1.0)


def test_call_rules():
    rules = CallRules()
    st_ = {"p": 1e-4, "fraction": 0.05, "ci95": [0.02, 0.08]}
    assert call_from_statistic(st_, 40, 100, rules)[0] == "MSI-H"
    assert call_from_statistic(st_, 29, 100, rules)[0] == "indeterminate"  # 30 needed of 100
    assert needed_loci(5) == 3 and needed_loci(1000) == 30 and needed_loci(1) == 1
    assert call_from_statistic({**st_, "fraction": 0.005}, 40, 100, rules)[0] == "indeterminate"
    assert call_from_statistic({**st_, "fraction": 0.005, "ci95": [0.0, 0.009]}, 40, 100, rules)[0] == "MSS"
    assert call_from_statistic({**st_, "p": 0.05}, 40, 100, rules)[0] == "MSS"
    assert call_from_statistic({**st_, "p": 0.01}, 40, 100, rules)[0] == "indeterminate"
    flag = pair_check({"p": 1e-9, "fraction": 0.3, "z": 6.0, "ci95": [0.2, 0.4]}, rules)
    assert flag["flag"] and call_from_statistic(st_, 40, 100, rules, flag)[0] == "indeterminate"
    assert not pair_check({"p": 0.2, "fraction": 0.3}, rules)["flag"]


def test_marker_rule_bethesda():
    assert call_markers(2, 5, 5)[0] == "MSI-H"  # 2 of 5
    assert call_markers(2, 4, 5)[0] == "MSI-H"  # 2 of 5 whatever the missing one shows
    assert call_markers(1, 5, 5)[0] == "MSS"
    assert call_markers(0, 4, 5)[0] == "MSS"  # at most 1 of 5 even if the missing one is unstable
    assert call_markers(1, 4, 5)[0] == "indeterminate"  # the missing one could make 2 of 5
    assert call_markers(0, 3, 5)[0] == "indeterminate"
    assert call_markers(1, 1, 1)[0] == "MSI-H" and call_markers(0, 1, 1)[0] == "MSS"
    assert call_markers(0, 0, 1)[0] == "indeterminate"


def test_score_paired_on_hand_histograms():
    # normal: 90 at ref (col 4), 10 at -1; tumor: 70 at ref, 10 at -1, 20 at -4 (contraction)
    normal = np.array([[0, 0, 0, 10, 90, 0, 0, 0, 0]])
    tumor = np.array([[20, 0, 0, 10, 70, 0, 0, 0, 0]])
    r = score_paired(tumor, normal, np.array([1]), min_coverage=20, alpha=0.05)
    cols = r["loci"]
    assert cols["tumor_contraction_fraction"][0] == pytest.approx(0.2)
    assert cols["normal_contraction_fraction"][0] == 0.0
    assert r["stutter"]["inflation"] == 1.0  # no +1 stutter reads at all
    assert cols["fisher_p"][0] == pytest.approx(st.fisher_exact([[20, 80], [0, 100]], alternative="greater")[1])
    assert cols["mantis_difference"][0] == pytest.approx(0.2)
    assert r["unstable"][0] and r["sample"]["fraction"] == pytest.approx(0.2)
    # exchanged: the "normal" is more contracted than the "tumor" -> the pair check sees it
    s = score_paired(normal, tumor, np.array([1]), min_coverage=20, alpha=0.05)
    assert not s["unstable"][0] and s["pair_check"]["fraction"] == pytest.approx(0.2)


# --------------------------------------------------------------------------- simulated BAMs
STUTTER = {0: 0.86, -1: 0.09, 1: 0.04, -2: 0.01}
STRONG = {0: 0.72, -1: 0.16, 1: 0.08, -2: 0.03, 2: 0.01}
MSI_SHIFT = {-3: 0.3, -4: 0.3, -5: 0.2, -6: 0.2}
DEPTH = 80


@pytest.fixture(scope="module")
def sim(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("msiscore")
    seq = build_reference(tmp / "ref.fa", 60)
    loci = msi_scan(tmp / "ref.fa").loci
    n = len(loci)
    rng = np.random.default_rng(5)
    het = rng.random(n) < 0.15  # germline length polymorphism (-3 units) on one allele
    germ = [mix(STUTTER, {k - 3: v for k, v in STUTTER.items()}, 0.5) if h else STUTTER for h in het]
    normal = write_bam(tmp / "normal.bam", seq, loci, germ, DEPTH, 1, "N1")
    unstable = rng.random(n) < 0.8

    def tumor(name, purity, base=None, loh=False, seed=2):
        dists = []
        for i in range(n):
            g = base or germ[i]
            if loh and het[i]:
                g = {k - 3: v for k, v in STUTTER.items()}  # only the polymorphic allele remains
            if purity and unstable[i]:
                g = mix(g, mix(g, MSI_SHIFT, 0.5), purity)
            dists.append(g)
        return write_bam(tmp / f"{name}.bam", seq, loci, dists, DEPTH, seed, name)

    return {"tmp": tmp, "seq": seq, "loci": loci, "normal": normal, "germ": germ, "het": het, "unstable": unstable,
            "mss": tumor("mss", 0.0, loh=True, seed=3), "strong": tumor("strong", 0.0, base=None, seed=4),
            "msi100": tumor("msi100", 1.0, seed=5), "msi10": tumor("msi10", 0.1, seed=6),
            "fa": tmp / "ref.fa"}


def test_paired_mss_with_germline_het_and_loh_is_mss(sim):
    r = msi_score(sim["mss"], sim["loci"], normal_bam=sim["normal"], min_evaluable=20)
    assert r.status == "MSS" and r.unstable_loci == 0 and r.evaluable_loci == len(sim["loci"])
    assert sim["het"].sum() >= 3  # the scenario is really there


def test_paired_msi_high_and_low_purity(sim):
    hi = msi_score(sim["msi100"], sim["loci"], normal_bam=sim["normal"], min_evaluable=20)
    assert hi.status == "MSI-H" and hi.msi_score > 50
    lo = msi_score(sim["msi10"], sim["loci"], normal_bam=sim["normal"], min_evaluable=20)
    assert lo.status == "MSI-H"
    assert lo.statistic["p"] < 1e-6
    # at unstable loci 10% purity x half the alleles shifted = 5% of reads, all >= 3 units below the
    # reference; at het loci (-3 allele) only the -5/-6 shifts (40%) are >= 2 units below it
    truth = 0.05 * np.where(sim["het"], 0.4, 1.0)[sim["unstable"]].sum() / len(sim["loci"])
    lo_, hi_ = lo.statistic["unstable_read_fraction_ci95"]
    assert lo_ < truth < hi_


def test_paired_chisq_test_option(sim):
    r = msi_score(sim["msi100"], sim["loci"], normal_bam=sim["normal"], min_evaluable=20, test="chisq")
    assert r.status == "MSI-H" and r.summary["parameters"]["test"] == "chisq"


def test_outputs_and_json(sim, tmp_path):
    prefix = tmp_path / "T1"
    r = msi_score(sim["msi100"], sim["loci"], normal_bam=sim["normal"], min_evaluable=20)
    assert not list(tmp_path.iterdir())  # the API writes nothing
    r.write(prefix, dis=True)
    doc = json.loads((tmp_path / "T1.msi.json").read_text())
    from tmbcalc.msi.result import CORE_FIELDS

    for key in (*CORE_FIELDS, "evaluable_loci", "unstable_loci", "provenance"):
        assert key in doc
    assert "mantis" not in doc and "status" not in doc["informational"]
    assert (tmp_path / "T1.msi_msisensor.tsv").read_text().splitlines() == [
        "Total_Number_of_Sites\tNumber_of_Somatic_Sites\t%",
        f"{r.evaluable_loci}\t{r.unstable_loci}\t{100 * r.unstable_loci / r.evaluable_loci:.2f}"]
    assert doc["sample"] == "msi100" and doc["mode"] == "paired" and doc["status"] == r.status
    with gzip.open(tmp_path / "T1.msi_loci.tsv.gz", "rt") as fh:
        lines = [x for x in fh if not x.startswith("#")]
    header = lines[0].rstrip("\n").split("\t")
    assert header[:6] == ["chrom", "start", "end", "unit", "ref_copies", "name"]
    rows = [dict(zip(header, x.rstrip("\n").split("\t"))) for x in lines[1:]]
    assert len(rows) == len(sim["loci"])
    assert sum(int(x["unstable"]) for x in rows) == r.unstable_loci
    assert all(int(x["tumor_reads"]) == DEPTH for x in rows)
    dis = (tmp_path / "T1.msi_dis").read_text().splitlines()
    assert len(dis) == 3 * len(sim["loci"]) and dis[1].startswith("N: ") and dis[2].startswith("T: ")
    # the T: line counts, by copies, the reads of the first locus
    assert sum(map(int, dis[2][3:].split())) == DEPTH


def test_tumor_only_with_baseline(sim, tmp_path):
    normals = [write_bam(tmp_path / f"n{i}.bam", sim["seq"], sim["loci"], sim["germ"], DEPTH, 100 + i, f"n{i}")
               for i in range(5)]
    base = msi_baseline(sim["loci"], normals)
    base.write(tmp_path / "base.tsv.gz")
    assert base.support.tolist() == [5] * len(sim["loci"])
    assert base.parameters["null"]["n"] == 5  # leave-one-out null of the sample statistic
    back = read_baseline(tmp_path / "base.tsv.gz")
    assert np.allclose(back.mean, base.mean, atol=1e-6) and back.min_support == 5
    assert back.shift_of().tolist() == base.shift_of().tolist() and set(base.shift_of().tolist()) <= {2, 3, 4}
    hi = msi_score(sim["msi100"], sim["loci"], baseline=tmp_path / "base.tsv.gz", min_evaluable=20)
    assert hi.mode == "tumor-only" and hi.status == "MSI-H"
    ok = msi_score(sim["strong"], sim["loci"], baseline=tmp_path / "base.tsv.gz", min_evaluable=20)
    assert ok.status == "MSS"
    # a baseline from 2 normals with min_support 5 could score nothing: refused
    with pytest.raises(UsageError, match="2 normal"):
        msi_baseline(sim["loci"], normals[:2])


def test_usage_errors(sim):
    with pytest.raises(UsageError):
        msi_score(sim["mss"], sim["loci"])
    with pytest.raises(UsageError):
        msi_score(sim["mss"], sim["loci"], normal_bam=sim["normal"], baseline="x")
    with pytest.raises(InputError):
        msi_score(sim["mss"], sim["loci"], baseline=sim["fa"])  # not a baseline file


def test_reference_relative_shares_by_hand():
    from tmbcalc.msi.baseline import adjacent_fraction_vs_reference, distant_fraction_vs_reference
    from tmbcalc.msi.loci import LociTable
    from tmbcalc.msi.profile import RepeatLengthHistogram
    loci = LociTable.from_rows([("c", 100, 112, "A", 12, "CCCCC", "GGGGG", ""),
                                ("c", 200, 212, "CA", 6, "TTTTT", "GGGGG", "")])
    w = 30
    hist = np.zeros((2, 2 * w + 1), dtype=np.int32)
    # homopolymer: 50 at ref, 10 at -1, 20 at -2, 10 at +2, 10 at -5
    for dev, c in ((0, 50), (-1, 10), (-2, 20), (2, 10), (-5, 10)):
        hist[0, w + dev] = c
    # dinucleotide: 80 at ref, 10 at -2 (1 unit), 10 at -4 (2 units)
    for dev, c in ((0, 80), (-2, 10), (-4, 10)):
        hist[1, w + dev] = c
    prof = RepeatLengthHistogram(loci, hist, np.zeros((2, 5), dtype=np.int32), w, "x.bam", "x")
    assert distant_fraction_vs_reference(prof, 2, "shorter").tolist() == [0.3, 0.1]
    assert distant_fraction_vs_reference(prof, 2, "both").tolist() == [0.4, 0.1]
    assert adjacent_fraction_vs_reference(prof, 2).tolist() == [0.1, 0.1]


def test_tumor_only_stutter_ratio_is_a_median():
    from tmbcalc.msi.tumor_only import stutter_inflation as tumor_only_stutter
    r, infl = tumor_only_stutter(np.array([0.2, 0.2, 0.9, np.nan]), np.array([0.1, 0.1, 0.1, 0.1]))
    assert r == pytest.approx(2.0) and infl == pytest.approx(4.0)
    assert tumor_only_stutter(np.array([0.05]), np.array([0.1])) == (0.5, 1.0)
    # even count: the mean of the two middle ratios (1 and 3)
    assert tumor_only_stutter(np.array([0.3, 0.1]), np.array([0.1, 0.1]))[0] == pytest.approx(2.0)


def test_baseline_read_selection_must_match(sim, tmp_path):
    base = msi_baseline(sim["loci"], [sim["normal"]], min_support=1)
    base.write(tmp_path / "b.tsv")
    assert base.parameters["mapq"] == 20
    with pytest.raises(UsageError, match="mapq 20 in the baseline vs 30 here"):
        msi_score(sim["msi100"], sim["loci"], baseline=tmp_path / "b.tsv", mapq=30)


def test_special_functions_match_scipy():
    """The libm-based norm_sf / chi2_sf / log-binomials used instead of scipy.special."""
    from scipy import special as sp

    from tmbcalc.msi.statistics import _lnchoose, chi2_sf, norm_sf

    z = np.array([-40.0, -8.0, -1.5, 0.0, 0.3, 1.96, 5.0, 12.0, 37.0])
    assert np.allclose(norm_sf(z), sp.ndtr(-z), rtol=1e-12, atol=0)  # z/sqrt 2 rounding in the far tail
    assert isinstance(norm_sf(1.0), float) and norm_sf(1.0) == pytest.approx(sp.ndtr(-1.0), rel=1e-14)
    for dof in range(1, 62):
        for x in (0.0, 1e-6, 0.5, 1.0, dof - 0.5, dof, 2.0 * dof, 3.7 * dof + 10, 150.0, 600.0):
            want = float(sp.chdtrc(dof, x))
            got = chi2_sf(x, dof)
            assert got == pytest.approx(want, rel=1e-10, abs=1e-300), (dof, x)
    with pytest.raises(ValueError):
        chi2_sf(1.0, 0)
    n = np.array([0.0, 5.0, 100.0, 4000.0])
    k = np.array([0.0, 2.0, 37.0, 1999.0])
    want = sp.gammaln(n + 1) - sp.gammaln(k + 1) - sp.gammaln(n - k + 1)
    assert np.allclose(_lnchoose(n, k), want, rtol=1e-12, atol=1e-9)


def test_scoring_imports_neither_scipy_nor_pandas_nor_pysam(sim, tmp_path):
    """A whole paired and tumor-only run (CLI, outputs written) in a fresh interpreter: the
    kernel reads the BAM header itself, so pysam's Python modules stay unloaded too."""
    import subprocess
    import sys

    loci = tmp_path / "loci.tsv"
    from tmbcalc.msi.loci import write_loci

    with open(loci, "w") as fh:
        write_loci(sim["loci"], fh)
    runs = [["msi", "baseline", "--loci", str(loci), str(sim["normal"]), "--min-support", "1",
             "-o", str(tmp_path / "b.tsv")],
            ["msi", "score", str(sim["msi100"]), "--normal-bam", str(sim["normal"]), "--loci", str(loci),
             "-o", str(tmp_path / "p")],
            ["msi", "score", str(sim["msi100"]), "--baseline", str(tmp_path / "b.tsv"), "--loci", str(loci),
             "-o", str(tmp_path / "t")]]
    code = ("import sys\nfrom tmbcalc.cli import main\n"
            f"assert all(main(a) == 0 for a in {runs!r})\n"
            "print(sorted(m for m in ('scipy', 'pandas', 'pysam') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip().splitlines()[-1] == "[]"
    assert (tmp_path / "p.msi.json").exists() and (tmp_path / "t.msi.json").exists()
