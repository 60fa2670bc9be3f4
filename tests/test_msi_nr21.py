"""Paired MSI on real reads: the MIAmS NR21 amplicon dilution series (built at test time).

Real MiniSeq reads of an MSS (spl001) and an MSI (spl002) sample; half the MSS read pairs are the
normal, the other half the tumor base into which 0/5/10/20/50% MSI read pairs are mixed (see
tests/_nr21.py; reference built from the MSS reads, bwa mem, samtools).  The normal has broad
homopolymer stutter (about half its reads >= 2 units off its mode), so this is the low-purity,
stutter-heavy case of issue #12.
"""
from __future__ import annotations

import json

import pytest

from tests._nr21 import build
from tests.conftest import need_tool, run_cli
from tmbcalc.msi.score import msi_score


@pytest.fixture(scope="module")
def nr21(shared, tmp_path_factory):
    for tool in ("bwa", "samtools"):
        need_tool(tool)
    return build(shared, tmp_path_factory.mktemp("nr21"))


@pytest.fixture(scope="module")
def series(nr21):
    return {f: msi_score(bam, nr21["loci"], normal_bam=nr21["normal"]) for f, bam in nr21["tumors"].items()}


def test_fixture_is_what_it_claims(nr21):
    # exact pair counts: the MSI pairs are the stated share of the tumor's pairs
    for f, (mss, msi) in nr21["counts"].items():
        assert abs(msi / (mss + msi) - f) < 0.002
    assert [a["name"] for a in nr21["amplicons"]] == ["amp1", "amp2"]
    assert all(a["run"] >= 15 for a in nr21["amplicons"])  # homopolymers of ~20 bp


def test_mss_at_0_percent(series):
    r = series[0.0]
    assert r.status == "MSS" and r.evaluable_loci == 2
    lo, hi = r.statistic["unstable_read_fraction_ci95"]
    assert lo < 0 < hi  # no MSI reads: the interval holds zero
    assert not r.summary["pair_check"]["flag"]


@pytest.mark.parametrize("fraction", [0.10, 0.20, 0.50])
def test_msi_from_10_percent(series, fraction):
    r = series[fraction]
    assert r.status == "MSI-H", r.call_basis
    assert r.statistic["p"] < 1e-3 and not r.summary["pair_check"]["flag"]


def test_unstable_fraction_grows_with_the_msi_share(series):
    est = [series[f].statistic["unstable_read_fraction"] for f in sorted(series)]
    assert est == sorted(est)
    # the pure MSI sample's reads are not all contracted (normal cells, stutter back to the mode):
    # the estimate at 50% stays below 50%, and above the 20% mix's
    assert series[0.2].statistic["unstable_read_fraction"] < series[0.5].statistic["unstable_read_fraction"] < 0.5


def test_swapped_pair_is_flagged_not_called(nr21):
    r = msi_score(nr21["mss_half"], nr21["loci"], normal_bam=nr21["msi_pure"])
    assert r.summary["pair_check"]["flag"]
    assert r.status == "indeterminate" and "swapped" in r.call_basis
    assert r.to_dict()["warnings"]


def test_fragments_counted_once(nr21):
    both = msi_score(nr21["normal"], nr21["loci"], normal_bam=nr21["normal"], mate_dedup=False)
    once = msi_score(nr21["normal"], nr21["loci"], normal_bam=nr21["normal"])
    # every read pair overlaps the whole amplicon: counting both mates would add read 2 wherever
    # read 1 was measured too (the MC tags come from samtools fixmate -m)
    assert once.summary["reads"]["tumor_rejected"]["mate_counted"] > 0
    assert both.summary["reads"]["tumor_measured"] > once.summary["reads"]["tumor_measured"]


def test_marker_mode_and_cli(nr21, tmp_path):
    r = run_cli("msi", "score", str(nr21["tumors"][0.1]), "--normal-bam", str(nr21["normal"]), "--loci",
                str(nr21["loci"]), "--markers", "-o", str(tmp_path / "m10"))
    assert r.returncode == 0, r.stderr
    doc = json.loads((tmp_path / "m10.msi.json").read_text())
    assert doc["status"] == "MSI-H" and doc["unstable_loci"] == 2  # 2 of 2 markers (>= 40%)
    assert [(m["name"], m["unstable"]) for m in doc["markers"]] == [("amp1", True), ("amp2", True)]
    r = run_cli("msi", "score", str(nr21["tumors"][0.0]), "--normal-bam", str(nr21["normal"]), "--loci",
                str(nr21["loci"]), "--markers", "-o", str(tmp_path / "m0"))
    assert r.returncode == 0 and json.loads((tmp_path / "m0.msi.json").read_text())["status"] == "MSS"


def test_msisensor_site_list_scores_alike(nr21, series, tmp_path):
    """The same two amplicon loci given as an MSIsensor-pro scan list (5-bp flanks, 0-based
    location) give the same histograms, hence the same call and statistic."""
    sites = tmp_path / "nr21.list"
    with open(sites, "w") as fh:
        fh.write("chromosome\tlocation\trepeat_unit_length\trepeat_unit_binary\trepeat_times\tleft_flank_binary\t"
                 "right_flank_binary\trepeat_unit_bases\tleft_flank_bases\tright_flank_bases\n")
        for a in nr21["amplicons"]:
            fh.write(f"{a['name']}\t{len(a['left'])}\t1\t3\t{a['run']}\t0\t0\tT\t{a['left'][-5:]}\t{a['right'][:5]}\n")
    r = msi_score(nr21["tumors"][0.1], sites, normal_bam=nr21["normal"])
    ref = series[0.1]
    assert r.status == ref.status == "MSI-H"
    assert r.statistic["z"] == pytest.approx(ref.statistic["z"])
