"""``tmbcalc msi mutations``: MSI from somatic calls (MSIseq-style).

Expectations come from: MSIseq's own per-Mb figures (``train.mutationNum``), hand-counted
MAF/VCF examples, a pure-Python overlap definition (hypothesis), clinical MSI labels of
held-out TCGA tumours, and a refit of the shipped calibration file from its training data.
"""
from __future__ import annotations

import collections
import gzip
import json
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import run_cli
from tmbcalc.errors import UsageError
from tmbcalc.msi.indel_rule import DEFAULT_RULE_FILE, IndelRule, fit_indel_rule
from tmbcalc.msi.mutations import PUBLISHED_THRESHOLD, msi_mutations
from tmbcalc.resources import calibration_dir
from tmbcalc.variants import COLUMNS, DEL, INS, SNV, VariantTable

MAF_COLS = ["Hugo_Symbol", "Chromosome", "Start_Position", "End_Position", "Reference_Allele",
            "Tumor_Seq_Allele2", "Variant_Type", "Tumor_Sample_Barcode", "FILTER"]


def _write_maf(path: Path, rows: list[tuple]) -> Path:
    with open(path, "w") as fh:
        fh.write("\t".join(MAF_COLS) + "\n")
        for r in rows:
            fh.write("\t".join(str(x) for x in ("G", *r)) + "\n")
    return path


def _write_loci(path: Path, rows: list[tuple]) -> Path:
    with open(path, "w") as fh:
        fh.write("##tmbcalc-msi-loci v1\nchrom\tstart\tend\tunit\tref_copies\tleft_flank\tright_flank\tname\n")
        for chrom, start, unit, copies in rows:
            fh.write(f"{chrom}\t{start}\t{start + len(unit) * copies}\t{unit}\t{copies}\tGT\tGT\t.\n")
    return path


@pytest.fixture()
def hand_example(tmp_path):
    """Two repeats on contig 3 ([1000,1012) A x12, [5000,5010) AC x5); footprint 3:0-10000.

    MAF coordinates are 1-based; comments give the 0-based event.  Hand count for S1:
    indels in footprint = a b c d e f g = 7, in repeats = a b c g = 4, SNVs = 1.
    """
    loci = _write_loci(tmp_path / "loci.tsv", [("3", 1000, "A", 12), ("3", 5000, "AC", 5)])
    bed = tmp_path / "fp.bed"
    bed.write_text("3\t0\t10000\n")
    rows = [
        ("3", 1006, 1006, "A", "-", "DEL", "S1", "PASS"),      # a: deletes 1005 (inside R1)
        ("3", 1000, 1001, "-", "A", "INS", "S1", "PASS"),      # b: between 999|1000 (R1 left edge)
        ("3", 1012, 1013, "-", "A", "INS", "S1", "PASS"),      # c: between 1011|1012 (R1 right edge)
        ("3", 1013, 1014, "-", "G", "INS", "S1", "PASS"),      # d: between 1012|1013 (1 bp past R1)
        ("3", 3001, 3002, "GT", "-", "DEL", "S1", "PASS"),     # e: deletes 3000-3001 (no repeat)
        ("3", 4999, 5000, "GT", "-", "DEL", "S1", "PASS"),     # f: deletes 4998-4999 (ends at R2 start)
        ("3", 5000, 5001, "TA", "-", "DEL", "S1", "PASS"),     # g: deletes 4999-5000 (into R2)
        ("3", 1004, 1004, "A", "C", "SNP", "S1", "PASS"),      # h: SNV inside R1
        ("3", 5003, 5004, "AC", "-", "DEL", "S1", "germline_risk"),  # i: filtered, inside R2
        ("3", 20001, 20001, "A", "-", "DEL", "S1", "PASS"),    # j: outside the footprint
        ("3", 7001, 7001, "A", "T", "SNP", "S2", "PASS"),      # S2: one SNV
    ]
    maf = _write_maf(tmp_path / "calls.maf", rows)
    return {"loci": loci, "bed": bed, "maf": maf, "tmp": tmp_path}


def test_hand_counted_repeat_indels(hand_example):
    res = msi_mutations(hand_example["maf"], loci=hand_example["loci"], bed=hand_example["bed"])
    s1, s2 = res.sample("S1"), res.sample("S2")
    assert (s1.indels, s1.repeat_indels, s1.snvs) == (7, 4, 1)
    assert s1.footprint_mb == pytest.approx(0.01)
    assert s1.indels_per_mb == pytest.approx(700.0)
    assert s1.repeat_indels_per_mb == pytest.approx(400.0)
    assert res.repeat_coverage == 1.0
    assert res.rule_used == "msiseq_repeat_indels"
    assert s1.status == "MSI-H" and s1.rule_used == "msiseq_repeat_indels"
    assert (s2.indels, s2.repeat_indels, s2.snvs) == (0, 0, 1)
    assert s2.status == "MSS"
    # deletions among a-g: a (1 base), e f g (2 bases each); i is filtered, j outside
    assert (s1.deletions, s1.deletions_1bp) == (4, 1)
    assert s1.deletions_1bp_per_mb == pytest.approx(100.0)
    # FILTER-failed call i is counted only on request: one more indel, in a repeat
    res2 = msi_mutations(hand_example["maf"], loci=hand_example["loci"], bed=hand_example["bed"],
                         include_filtered=True)
    assert (res2.sample("S1").indels, res2.sample("S1").repeat_indels) == (8, 5)


def test_repeats_bed_equals_loci(hand_example):
    bed = hand_example["tmp"] / "rep.bed"
    bed.write_text("3\t1000\t1012\n3\t5000\t5010\n")
    a = msi_mutations(hand_example["maf"], repeats_bed=bed, bed=hand_example["bed"])
    assert (a.sample("S1").indels, a.sample("S1").repeat_indels) == (7, 4)


def test_published_threshold_is_strict(hand_example, tmp_path):
    """MSI-H only when repeat indels/Mb > 0.395: one repeat indel over exactly 1/0.395 Mb is MSS."""
    maf = _write_maf(tmp_path / "one.maf", [("3", 1006, 1006, "A", "-", "DEL", "S1", "PASS")])
    at = msi_mutations(maf, loci=hand_example["loci"], footprint_mb=1 / PUBLISHED_THRESHOLD)
    assert at.sample("S1").repeat_indels_per_mb == pytest.approx(0.395)
    above = msi_mutations(maf, loci=hand_example["loci"], footprint_mb=1 / 0.396)
    assert above.sample("S1").status == "MSI-H"
    assert msi_mutations(maf, loci=hand_example["loci"], footprint_mb=1 / 0.394).sample("S1").status == "MSS"


def test_repeats_not_covering_input_fall_back_to_fitted_rule(hand_example, tmp_path):
    loci = _write_loci(tmp_path / "chr20.tsv", [("20", 500, "T", 15)])
    res = msi_mutations(hand_example["maf"], loci=loci, footprint_mb=38.0)
    assert res.repeat_coverage == 0.0
    assert res.rule_used == "fitted_indel_rule"
    s1 = res.sample("S1")
    # every PASS indel counts with an explicit size (a-g and j: 8); single-base deletions a and j:
    # 2 / 38 Mb is far below the fitted threshold (~0.45 single-base deletions/Mb)
    assert s1.rule_used == "fitted_indel_rule" and s1.indels == 8 and s1.deletions_1bp == 2
    assert s1.status == "MSS"
    assert any("cover only" in w for w in res.warnings)


def test_vcf_input(tmp_path):
    """Same counting from a VCF (helper A's reader): padded alleles, 1-based POS."""
    vcf = tmp_path / "t.vcf"
    vcf.write_text(
        "##fileformat=VCFv4.2\n##contig=<ID=3,length=200000>\n"
        '##FILTER=<ID=PASS,Description="ok">\n'
        "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n"
        "3\t1000\t.\tGA\tG\t.\tPASS\t.\n"       # deletes 0-based 1000 (R1 first base)
        "3\t3000\t.\tGTT\tG\t.\tPASS\t.\n"      # deletes 2 bases, no repeat
        "3\t1000\t.\tG\tGA\t.\tPASS\t.\n"       # insertion 999|1000
        "3\t1012\t.\tA\tAT\t.\tPASS\t.\n"       # insertion 1011|1012 (R1 right edge)
        "3\t1013\t.\tG\tGT\t.\tPASS\t.\n"       # insertion 1012|1013: outside
        "3\t1004\t.\tA\tC\t.\tPASS\t.\n")       # SNV
    loci = _write_loci(tmp_path / "loci.tsv", [("3", 1000, "A", 12)])
    res = msi_mutations(vcf, loci=loci, footprint_mb=1.0)
    (s,) = res.samples
    assert (s.indels, s.repeat_indels, s.snvs) == (5, 3, 1)
    assert (s.deletions, s.deletions_1bp) == (2, 1)


def _table(events: list[tuple[int, int, int]]) -> VariantTable:
    """events: (vtype, pos0, indel length) on contig '1', one sample."""
    n = len(events)
    cols = {k: np.zeros(n, dtype=t) for k, t in COLUMNS.items()}
    for i, (vt, pos, ln) in enumerate(events):
        cols["vtype"][i] = vt
        cols["pos"][i] = pos
        cols["ref_len"][i] = 1 + ln if vt == DEL else 1
        cols["alt_len"][i] = 1 + ln if vt == INS else 1
    return VariantTable(cols, ["1"], ["S"], "hypothesis")


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 300), st.integers(1, 12)), min_size=1, max_size=6),
       st.lists(st.tuples(st.sampled_from([INS, DEL, SNV]), st.integers(1, 400), st.integers(1, 6)),
                min_size=1, max_size=25))
def test_in_repeat_matches_bruteforce(reps, events):
    """Repeat membership vs the definition spelled out base by base in pure Python."""
    spans = []
    for s, ln in sorted(reps):
        if spans and s < spans[-1][1]:
            continue
        spans.append((s, s + ln))
    bases = {b for s, e in spans for b in range(s, e)}
    expect = 0
    for vt, pos, ln in events:
        if vt == DEL and any(b in bases for b in range(pos + 1, pos + 1 + ln)):
            expect += 1
        if vt == INS and (pos in bases or pos + 1 in bases):
            expect += 1
    with tempfile.TemporaryDirectory() as d:
        bed = Path(d) / "r.bed"
        bed.write_text("".join(f"1\t{s}\t{e}\n" for s, e in spans))
        res = msi_mutations(_table(events), repeats_bed=bed, footprint_mb=1.0)
    (s,) = res.samples
    assert s.repeat_indels == expect
    assert s.indels == sum(vt != SNV for vt, _, _ in events)
    assert s.snvs == sum(vt == SNV for vt, _, _ in events)


def test_needs_exactly_one_denominator(hand_example):
    with pytest.raises(UsageError):
        msi_mutations(hand_example["maf"], loci=hand_example["loci"])
    with pytest.raises(UsageError):
        msi_mutations(hand_example["maf"], bed=hand_example["bed"], footprint_mb=1.0)


# ---------------------------------------------------------------------------------------------
# MSIseq TCGA data

def _msiseq_maf(shared: Path, which: str, out: Path) -> tuple[Path, dict[str, float]]:
    """MSIseq's 5-column table -> minimal MAF (placeholder alleles of the right length)."""
    d = shared / "somatic" / "msiseq_tcga"
    t = pd.read_csv(d / f"MSIseq_NGS{which}data.tsv.gz", sep="\t")
    rows = []
    for chrom, s, e, vt, bc in t.itertuples(index=False):
        if vt == "SNP":
            rows.append((chrom, s, e, "A", "C", vt, bc, "PASS"))
        elif vt == "INS":
            rows.append((chrom, s, e, "-", "T", vt, bc, "PASS"))
        else:
            rows.append((chrom, s, e, "N" * (e - s + 1), "-", vt, bc, "PASS"))
    _write_maf(out, rows)
    sl = pd.read_csv(d / f"MSIseq_NGS{which}seqLen.tsv", sep="\t")
    return out, dict(zip(sl.Tumor_Sample_Barcode, sl.Sequence_Length.astype(float)))


@pytest.fixture(scope="module")
def msiseq_train(shared, tmp_path_factory):
    maf, seqlen = _msiseq_maf(shared, "train", tmp_path_factory.mktemp("msiseq") / "train.maf")
    res = msi_mutations(maf, footprint_mb=seqlen)  # its FILTER column says PASS
    return pd.DataFrame([s.to_dict() for s in res.samples]).set_index("sample")


def test_rates_agree_with_msiseq_mutationNum(shared, msiseq_train):
    """indels/Mb and SNVs/Mb equal MSIseq's own T.ind / T.sns for all 361 training tumours."""
    m = pd.read_csv(shared / "somatic/msiseq_tcga/MSIseq_train.mutationNum.tsv", sep="\t").set_index("rownames")
    assert len(msiseq_train) == len(m) == 361
    got = msiseq_train.reindex(m.index)
    np.testing.assert_allclose(got.indels_per_mb, m["T.ind"], rtol=0, atol=1e-9)
    np.testing.assert_allclose(got.snvs_per_mb, m["T.sns"], rtol=0, atol=1e-9)


def _assert_same_refit(new: str, shipped: str) -> None:
    """Byte for byte under the scikit-learn version the shipped file names (in ``training.fit``).
    Under another version (a fresh machine gets the newest from PyPI), the logistic solver may move
    the last digits: then the files must agree in every key and string (version text aside) and in
    every number to 1e-6 relative."""
    import json
    import re

    import sklearn

    ver = re.search(r"scikit-learn (\S+) ", json.loads(shipped)["training"]["fit"]).group(1)
    if ver == sklearn.__version__:
        assert new == shipped
        return

    def same(a, b, where="") -> None:
        assert type(a) is type(b) or {type(a), type(b)} <= {int, float}, where
        if isinstance(a, dict):
            assert a.keys() == b.keys(), where
            for k in a:
                same(a[k], b[k], f"{where}.{k}")
        elif isinstance(a, list):
            assert len(a) == len(b), where
            for i, (x, y) in enumerate(zip(a, b)):
                same(x, y, f"{where}[{i}]")
        elif isinstance(a, float):
            assert a == pytest.approx(b, rel=1e-6, abs=1e-12), where
        elif isinstance(a, str):
            assert a.replace(f"scikit-learn {sklearn.__version__} ", "") == b.replace(f"scikit-learn {ver} ", ""), where
        else:
            assert a == b, where

    same(json.loads(new), json.loads(shipped))


def test_calibration_file_refits_byte_identical(shared, tmp_path):
    """scripts/fit_msi_mutations_rule.py (MSIseq training set only) rewrites the shipped v3 rule
    byte for byte; the superseded v2 still loads (by --rule), v1 (positive SNV weight) is refused."""
    import subprocess
    import sys

    repo = Path(__file__).resolve().parent.parent
    subprocess.run([sys.executable, str(repo / "scripts/fit_msi_mutations_rule.py"), "--shared", str(shared),
                    "--out", str(tmp_path)], check=True, capture_output=True)
    name = "msi_mutations_msiseq_tcga_v3.json"
    assert DEFAULT_RULE_FILE == name
    _assert_same_refit((tmp_path / name).read_text(), (calibration_dir() / name).read_text())
    shipped = IndelRule.load()
    assert shipped.version == "3" and shipped.status.startswith("current")
    assert shipped.feature == "deletions_1bp_per_mb" and shipped.coef_log_snvs == 0.0
    v2 = IndelRule.load(calibration_dir() / "msi_mutations_msiseq_tcga_v2.json")
    assert v2.feature == "indels_per_mb" and v2.status.startswith("superseded")
    from tmbcalc.errors import InputError

    with pytest.raises(InputError, match="rewards SNV load"):
        IndelRule.load(calibration_dir() / "msi_mutations_msiseq_tcga_v1.json")


def test_fit_matches_sklearn_on_pandas_counts(shared, msiseq_train):
    """The v3 coefficients equal a logistic fit on single-base deletions counted here with pandas
    from MSIseq's table (End - Start + 1 == 1 for DEL) over NGStrainseqLen; msi_mutations' counts
    agree per tumour; the training resubstitution separates most tumours."""
    from sklearn.linear_model import LogisticRegression

    d = shared / "somatic/msiseq_tcga"
    t = pd.read_csv(d / "MSIseq_NGStraindata.tsv.gz", sep="\t")
    one = t[(t.Variant_Type == "DEL") & (t.End_Position == t.Start_Position)]
    sl = pd.read_csv(d / "MSIseq_NGStrainseqLen.tsv", sep="\t").set_index("Tumor_Sample_Barcode").Sequence_Length
    n1 = one.groupby("Tumor_Sample_Barcode").size().reindex(sl.index, fill_value=0)
    assert (msiseq_train.deletions_1bp.reindex(sl.index) == n1).all()
    lab = pd.read_csv(d / "MSIseq_NGStrainclass.tsv", sep="\t").set_index("Tumor_Sample_Barcode").MSI_status
    y = (lab.reindex(sl.index) == "MSI-H").to_numpy()
    x = np.log10(n1 / sl + 0.01).to_numpy()[:, None]
    lr = LogisticRegression(C=100.0, max_iter=1000).fit(x, y)
    shipped = IndelRule.load()
    assert shipped.coef_log_feature == pytest.approx(lr.coef_[0, 0], rel=1e-9)
    assert shipped.intercept == pytest.approx(lr.intercept_[0], rel=1e-9)
    pred = lr.predict(x).astype(bool)
    assert (pred & y).sum() / y.sum() >= 0.9 and (~pred & ~y).sum() / (~y).sum() >= 0.98


def _hand_threshold() -> float:
    """The v3 rule's cut-off from its JSON: P = 0.5 where b0 + b1 log10(r + pseudo) = 0."""
    d = json.loads((calibration_dir() / "msi_mutations_msiseq_tcga_v3.json").read_text())
    return 10 ** (-d["intercept"] / d["coef_log_feature"]) - d["pseudo"]


@pytest.mark.parametrize("barcode", ["TCGA-A6-3809", "TCGA-CK-5913", "TCGA-G4-6321", "TCGA-AD-6964",
                                     "TCGA-G4-6293", "TCGA-DM-A1HB", "TCGA-AA-3864", "TCGA-A6-6141"])
def test_real_tumour_calls_match_pandas(shared, barcode):
    """Firehose COAD tumours (held-out MSI-H, the missed clinical MSI-H, label disagreements, an
    ultramutated MSS, a 70 SNVs/Mb tumour with 1.1 indels/Mb): SNV, indel and single-base
    deletion counts recomputed with pandas from the MAF, divided by 44 Mb, and the status from
    the rule's threshold worked out from its JSON by hand."""
    maf = shared / "somatic/tcga_firehose/TCGA_Firehose_COAD.maf.tsv.gz"
    df = pd.read_csv(maf, sep="\t", low_memory=False)
    df = df[df.Tumor_Sample_Barcode == barcode]
    n_snv = int((df.Variant_Type == "SNP").sum())
    n_ind = int(df.Variant_Type.isin(["INS", "DEL"]).sum())
    n_d1 = int(((df.Variant_Type == "DEL") & (df.Reference_Allele.str.len() == 1) & (df.Tumor_Seq_Allele2 == "-")).sum())
    res = msi_mutations(maf, footprint_mb=44.0, tumor_sample=barcode, profile_overrides={"filter_missing_is_pass": True})
    (s,) = res.samples
    assert (s.snvs, s.indels, s.deletions_1bp) == (n_snv, n_ind, n_d1)
    assert s.deletions_1bp_per_mb == pytest.approx(n_d1 / 44.0)
    # documented under-calling rule: one tumour is the whole input, so < 3 indels per 100 SNVs with
    # >= 1,000 SNVs (A6-6141: 3 indels, 1,144 SNVs) makes an MSS call indeterminate
    under = n_snv >= 1000 and n_ind < 0.03 * n_snv
    assert s.status == ("MSI-H" if n_d1 / 44.0 > _hand_threshold() else "indeterminate" if under else "MSS")
    d = res.to_dict()
    assert d["msi_score"] == pytest.approx(n_d1 / 44.0) and d["score_unit"] == "single-base deletions per Mb"


def test_heldout_firehose_coad(shared):
    """Held-out tumours: Firehose COAD MAF (another caller run), clinical MSI label, not in the
    MSIseq training set: 29 tumours, 5 MSI-H.  Observed 4/5 and 24/24; floors allow one more
    miss (sens >= 0.6) and two false positives (spec >= 0.9) but fail a broken rule."""
    fh = shared / "somatic" / "tcga_firehose"
    clin = pd.read_csv(fh / "TCGA_Firehose_COAD.clinical.tsv.gz", sep="\t", low_memory=False)
    clin = clin.dropna(subset=["microsatellite_instability"])
    lab = dict(zip(clin.Tumor_Sample_Barcode.str[:12], clin.microsatellite_instability == "YES"))
    train = set(pd.read_csv(shared / "somatic/msiseq_tcga/MSIseq_NGStrainclass.tsv", sep="\t").Tumor_Sample_Barcode)
    # 44 Mb: the captured length MSIseq gives TCGA colorectal exomes (the training features' scale)
    res = msi_mutations(fh / "TCGA_Firehose_COAD.maf.tsv.gz", footprint_mb=44.0,
                        profile_overrides={"filter_missing_is_pass": True})  # no FILTER column
    pairs = [(lab[s.sample[:12]], s.status == "MSI-H") for s in res.samples
             if s.sample[:12] in lab and s.sample[:12] not in train]
    truth = np.array([p[0] for p in pairs])
    pred = np.array([p[1] for p in pairs])
    assert len(pairs) == 29 and truth.sum() == 5
    assert (pred & truth).sum() / truth.sum() >= 0.6
    assert (~pred & ~truth).sum() / (~truth).sum() >= 0.9
    assert res.rule_used == "fitted_indel_rule"
    # POLE-like tumours (many SNVs, few indels) are flagged, not called indeterminate: the input as a
    # whole reports indels normally
    assert all(s.status != "indeterminate" for s in res.samples)


def test_undercalled_indels_flagged_per_tumour(shared):
    """Firehose UCEC has 2,237 indels for 170,881 SNVs.  The flag is per tumour, checked here
    against a pandas count: a tumour with >= 100 SNVs and indels < 3% of them is flagged; as the
    whole input under-calls (0.013), a flagged tumour cannot be called MSS (indeterminate unless
    MSI-H anyway); the others are not flagged."""
    maf = shared / "somatic/tcga_firehose/TCGA_Firehose_UCEC.maf.tsv.gz"
    res = msi_mutations(maf, footprint_mb=38.0, profile_overrides={"filter_missing_is_pass": True})
    df = pd.read_csv(maf, sep="\t", usecols=["Variant_Type", "Tumor_Sample_Barcode"])
    snv = df[df.Variant_Type == "SNP"].groupby("Tumor_Sample_Barcode").size()
    ind = df[df.Variant_Type.isin(["INS", "DEL"])].groupby("Tumor_Sample_Barcode").size()
    flagged = 0
    for s in res.samples:
        n_s, n_i = int(snv.get(s.sample, 0)), int(ind.get(s.sample, 0))
        assert (s.snvs, s.indels) == (n_s, n_i)
        want = n_s >= 100 and n_i < 0.03 * n_s
        assert s.indel_undercalling == want, s.sample
        if want:
            flagged += 1
            assert s.status in ("MSI-H", "indeterminate")
            assert any(w.startswith(f"{s.sample}:") for w in res.warnings)
    assert 0 < flagged < len(res.samples)


def test_snv_load_not_rewarded(tmp_path):
    """Issue #12's ultramutated MSS tumour (Firehose STAD TCGA-BR-8680: 177 SNVs/Mb, 0.6 indels/Mb,
    0.18 single-base deletions/Mb) is not MSI-H, and adding SNVs never turns MSS into MSI-H."""
    rows = [("1", 1000 + 10 * i, 1000 + 10 * i, "A", "C", "SNP", "U", "PASS") for i in range(1770)]
    rows += [("1", 50000 + 10 * i, 50000 + 10 * i, "A", "-", "DEL", "U", "PASS") for i in range(2)]
    rows += [("1", 60000 + 10 * i, 60001 + 10 * i, "AC", "-", "DEL", "U", "PASS") for i in range(4)]
    maf = _write_maf(tmp_path / "u.maf", rows)
    s10 = msi_mutations(maf, footprint_mb=10.0).sample("U")  # 177 SNVs/Mb, 0.6 indels/Mb, 0.2 1-bp dels/Mb
    assert (s10.snvs_per_mb, s10.indels_per_mb, s10.deletions_1bp_per_mb) == pytest.approx((177.0, 0.6, 0.2))
    # not MSI-H: the rule's probability is below 0.5; 6 indels for 1,770 SNVs in a one-tumour input
    # is also the documented under-calling pattern, so the MSS call is reported as indeterminate
    assert s10.fitted_probability < 0.5 and s10.indel_undercalling and s10.status == "indeterminate"
    s = msi_mutations(maf, footprint_mb=1.0).sample("U")  # 2 single-base deletions/Mb
    assert s.status == "MSI-H"  # well above the fitted threshold (~0.45)
    rule = IndelRule.load()
    p = rule.probability(np.array([0.6, 0.6]), np.array([1.0, 500.0]))
    assert p[0] == p[1]


# ---------------------------------------------------------------------------------------------
# CLI

def test_cli_outputs_and_provenance(hand_example):
    prefix = hand_example["tmp"] / "out"
    p = run_cli("msi", "mutations", str(hand_example["maf"]), "--loci", str(hand_example["loci"]),
                "--bed", str(hand_example["bed"]), "-o", str(prefix))
    assert p.returncode == 0, p.stderr
    d = json.loads(Path(f"{prefix}.msi.json").read_text())
    assert d["rule_used"] == "msiseq_repeat_indels"
    from tmbcalc.msi.result import CORE_FIELDS

    assert all(k in d for k in CORE_FIELDS) and d["mode"] == "mutations"
    assert d["sample"] is None and len(d["samples"]) == 2  # two tumours: the core fields are per tumour
    assert all(k in d["samples"][0] for k in CORE_FIELDS)
    assert d["provenance"]["inputs"]["input"]["name"] == "calls.maf"
    assert d["provenance"]["calibration_model"]["id"] == "msi-mutations-msiseq-tcga"
    s1 = next(s for s in d["samples"] if s["sample"] == "S1")
    assert s1["repeat_indels"] == 4 and s1["status"] == "MSI-H"
    lines = Path(f"{prefix}.msi.tsv").read_text().splitlines()
    assert lines[0].startswith("# tmbcalc") and lines[1].startswith("# parameters: {")
    head = next(ln for ln in lines if not ln.startswith("#")).split("\t")
    rows = [dict(zip(head, ln.split("\t"))) for ln in lines if not ln.startswith("#")][1:]
    assert {r["sample"]: r["repeat_indels"] for r in rows} == {"S1": "4", "S2": "0"}


def test_cli_errors_leave_no_output(hand_example, tmp_path):
    prefix = tmp_path / "bad"
    p = run_cli("msi", "mutations", str(hand_example["maf"]), "--loci", str(hand_example["loci"]),
                "-o", str(prefix))
    assert p.returncode == 2 and "tmbcalc: error:" in p.stderr and "Traceback" not in p.stderr
    bad_loci = tmp_path / "bad.tsv"
    bad_loci.write_text("chrom\tstart\n3\t5\n")
    p = run_cli("msi", "mutations", str(hand_example["maf"]), "--loci", str(bad_loci), "--footprint-mb", "1",
                "-o", str(prefix))
    assert p.returncode == 1 and "bad.tsv" in p.stderr and "Traceback" not in p.stderr
    p = run_cli("msi", "mutations", str(tmp_path / "missing.maf"), "--footprint-mb", "1", "-o", str(prefix))
    assert p.returncode == 1 and "missing.maf" in p.stderr
    assert not list(tmp_path.glob("bad.*msi*"))
    gz = tmp_path / "trunc.maf.gz"
    gz.write_bytes(gzip.compress(hand_example["maf"].read_bytes())[:60])
    p = run_cli("msi", "mutations", str(gz), "--footprint-mb", "1", "-o", str(prefix))
    assert p.returncode == 1 and "Traceback" not in p.stderr
    assert not list(tmp_path.glob("bad*"))[1:]  # only bad.tsv itself


def test_panel_footprint_counts_match_pandas(shared):
    """--panel: variants restricted to the panel BED (build from the MAF's NCBI_Build), counted
    independently here with pandas + bisect over the raw BED; the exome-trained rule is flagged."""
    import bisect

    from tmbcalc.panels.registry import load_panel

    pnl = load_panel("msk-impact-468")
    bed_path = pnl.bed_path("GRCh37")
    maf = shared / "somatic/tcga_firehose/TCGA_Firehose_COAD.maf.tsv.gz"
    res = msi_mutations(maf, panel="msk-impact-468", profile_overrides={"filter_missing_is_pass": True})
    assert res.footprint["build"] == "GRCh37"
    assert any("trained on exome-wide rates" in w for w in res.warnings)

    iv: dict[str, list[tuple[int, int]]] = collections.defaultdict(list)
    opener = gzip.open if str(bed_path).endswith(".gz") else open
    with opener(bed_path, "rt") as fh:
        for line in fh:
            if line.startswith(("#", "track", "browser")) or not line.strip():
                continue
            c, s, e = line.split("\t")[:3]
            iv[c.removeprefix("chr")].append((int(s), int(e)))
    merged: dict[str, tuple[list[int], list[int]]] = {}
    total = 0
    for c, lst in iv.items():
        lst.sort()
        out: list[list[int]] = []
        for s, e in lst:
            if out and s <= out[-1][1]:
                out[-1][1] = max(out[-1][1], e)
            else:
                out.append([s, e])
        merged[c] = ([a for a, _ in out], [b for _, b in out])
        total += sum(b - a for a, b in out)
    assert res.samples[0].footprint_mb == pytest.approx(total / 1e6)

    def inside(c: str, p: int) -> bool:
        if c not in merged:
            return False
        st, en = merged[c]
        k = bisect.bisect_right(st, p) - 1
        return k >= 0 and p < en[k]

    df = pd.read_csv(maf, sep="\t", usecols=["Chromosome", "Start_Position", "Variant_Type", "Tumor_Sample_Barcode"])
    # tmb's footprint rule: SNV its base; DEL any deleted base; INS either base flanking the
    # insertion point (MAF Start_Position/End_Position, 1-based)
    df = df.merge(pd.read_csv(maf, sep="\t", usecols=["End_Position"]), left_index=True, right_index=True)
    df["s0"] = df.Start_Position - 1
    df["e0"] = np.where(df.Variant_Type == "INS", df.Start_Position + 1, df.End_Position)

    def overlaps(c: str, s: int, e: int) -> bool:
        return any(inside(c, p) for p in range(s, e))
    df["in"] = [overlaps(str(c), int(s), int(e)) for c, s, e in zip(df.Chromosome, df.s0, df.e0)]
    sub = df[df["in"]]
    ind = sub[sub.Variant_Type.isin(["INS", "DEL"])].groupby("Tumor_Sample_Barcode").size()
    snv = sub[sub.Variant_Type == "SNP"].groupby("Tumor_Sample_Barcode").size()
    for s in res.samples:
        assert s.indels == int(ind.get(s.sample, 0)), s.sample
        assert s.snvs == int(snv.get(s.sample, 0)), s.sample


@pytest.mark.parametrize("tumour,status", [("COAD", "MSI-H"), ("BRCA", "MSS")])
def test_pcgr_vcf_counts_match_bcftools(shared, tumour, status):
    """Real single-tumour VCFs (PCGR TCGA examples): indel and SNV counts equal bcftools'
    (-v indels / -v snps, FILTER PASS or '.'); the hypermutated COAD (TCGA-A6-2686) is MSI-H by
    the fitted rule, the BRCA tumour MSS."""
    from tests.conftest import run_tool

    vcf = shared / f"somatic/pcgr_examples/T001-{tumour}.grch37.vcf.gz"
    n_ind = len(run_tool("bcftools", "view", "-H", "-v", "indels", "-f", "PASS,.", str(vcf)).splitlines())
    n_snv = len(run_tool("bcftools", "view", "-H", "-v", "snps", "-f", "PASS,.", str(vcf)).splitlines())
    res = msi_mutations(vcf, footprint_mb=38.0, profile_overrides={"filter_missing_is_pass": True})
    (s,) = res.samples
    assert (s.indels, s.snvs) == (n_ind, n_snv)
    assert s.indels_per_mb == pytest.approx(n_ind / 38.0)
    assert s.status == status and res.rule_used == "fitted_indel_rule"
