"""MAF reader: allele conversion by hand, column detection, real MC3/cBioPortal/GENIE files."""
from __future__ import annotations

import gzip

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tmbcalc import annotation
from tmbcalc.errors import InputError
from tmbcalc.io.maf import fnv1a_many, looks_like_maf, read_maf
from tmbcalc.variants import DEL, FILTER_FAIL, FILTER_MISSING, FILTER_PASS, INS, MNV, SNV, allele_key

HEADER = ["Hugo_Symbol", "Chromosome", "Start_Position", "End_Position", "Variant_Classification",
          "Variant_Type", "Reference_Allele", "Tumor_Seq_Allele1", "Tumor_Seq_Allele2", "Tumor_Sample_Barcode",
          "t_depth", "t_ref_count", "t_alt_count", "n_depth", "n_alt_count", "gnomAD_AF", "FILTER"]
ROWS = [
    ["KRAS", "12", "25398284", "25398284", "Missense_Mutation", "SNP", "C", "C", "T", "S1", "100", "80", "20",
     "50", "0", "", "PASS"],
    ["TP53", "chr17", "7577120", "7577121", "Nonsense_Mutation", "DNP", "CG", "CG", "TA", "S1", "", "30", "10",
     "", "1", "0.0001", "panel_of_normals"],
    ["BRCA2", "13", "32914438", "32914441", "Frame_Shift_Del", "DEL", "TACT", "TACT", "-", "S2", "40", "30", "10",
     "40", "0", "", "."],
    ["EGFR", "7", "55242464", "55242465", "In_Frame_Ins", "INS", "-", "-", "GGA", "S2", "60", "50", "10",
     "30", "0", "", "PASS"],
    ["MT-ND1", "M", "3500", "3500", "RNA", "SNP", "G", "A", "G", "S1", "200", "150", "50", "100", "0", "", "PASS"],
]


def _write_maf(path, rows=ROWS, header=HEADER, version=True):
    lines = (["#version 2.4"] if version else []) + ["\t".join(header)] + ["\t".join(r) for r in rows]
    path.write_text("\n".join(lines) + "\n")
    return path


def test_conversion_by_hand(tmp_path):
    t = read_maf(_write_maf(tmp_path / "x.maf"))
    assert t.samples == ["S1", "S2"] and list(t["sample"]) == [0, 0, 1, 1, 0]
    assert t.contigs == ["12", "17", "13", "7", "MT"]
    # SNV: 0-based position; DNP kept as MNV; deletion anchored one base before; insertion at Start
    assert list(t["pos"]) == [25398283, 7577119, 32914436, 55242463, 3499]
    assert list(t["vtype"]) == [SNV, MNV, DEL, INS, SNV]
    assert list(t["ref_len"]) == [1, 2, 5, 1, 1] and list(t["alt_len"]) == [1, 2, 1, 4, 1]
    assert [t.alleles(i) for i in range(5)] == [("C", "T"), ("CG", "TA"), ("NTACT", "N"), ("N", "NGGA"), ("G", "A")]
    assert int(t["allele_key"][0]) == allele_key("C", "T") and int(t["allele_key"][2]) == allele_key("NTACT", "N")
    # Tumor_Seq_Allele2 == REF -> Tumor_Seq_Allele1 is the tumor allele (row 5: A)
    # depth: t_depth, else t_ref + t_alt; VAF = alt/depth
    assert list(t["t_depth"]) == [100, 40, 40, 60, 200] and list(t["t_alt"]) == [20, 10, 10, 10, 50]
    assert t["t_vaf"][1] == pytest.approx(0.25)
    assert list(t["n_depth"]) == [50, -1, 40, 30, 100] and list(t["n_alt"]) == [0, 1, 0, 0, 0]
    assert np.isnan(t["pop_af"][0]) and t["pop_af"][1] == pytest.approx(0.0001)
    assert list(t["filter"]) == [FILTER_PASS, FILTER_FAIL, FILTER_MISSING, FILTER_PASS, FILTER_PASS]
    codes = annotation.CODE
    assert list(t["csq"]) == [codes["missense"], codes["nonsense"], codes["frameshift"], codes["inframe"],
                              codes["noncoding"]]
    assert t.meta["has_filter"] and t.meta["indel_anchor"] == "N"


def test_reference_anchor(tmp_path):
    fa = tmp_path / "ref.fa"
    seq13 = "ACGT" * 10
    fa.write_text(">13\n" + seq13 + "\n")
    import pysam

    pysam.faidx(str(fa))
    rows = [["G", "13", "11", "13", "Frame_Shift_Del", "DEL", "TAC", "TAC", "-", "S", "", "", "", "", "", "",
             "PASS"],
            ["G", "13", "20", "21", "Frame_Shift_Ins", "INS", "-", "-", "TT", "S", "", "", "", "", "", "", "PASS"]]
    t = read_maf(_write_maf(tmp_path / "y.maf", rows), reference=fa)
    # deletion of bases 11-13 (1-based): anchor = base 10 = seq13[9]; insertion after base 20 = seq13[19]
    assert t.alleles(0) == (seq13[9] + "TAC", seq13[9]) and t.alleles(1) == (seq13[19], seq13[19] + "TT")


def test_missing_columns_named(tmp_path):
    header = [h for h in HEADER if h not in ("Reference_Allele", "Tumor_Sample_Barcode")]
    rows = [[v for h, v in zip(HEADER, r) if h in header] for r in ROWS]
    p = _write_maf(tmp_path / "bad.maf", rows, header)
    with pytest.raises(InputError) as ei:
        read_maf(p)
    assert "Reference_Allele" in str(ei.value) and "Tumor_Sample_Barcode" in str(ei.value)
    assert str(p) in str(ei.value)


def test_bad_position_names_line(tmp_path):
    rows = [list(r) for r in ROWS]
    rows[2][2] = "NA"
    p = _write_maf(tmp_path / "na.maf", rows)
    with pytest.raises(InputError, match="line 5: Start_Position is not an integer"):
        read_maf(p)


def test_detection(tmp_path, shared):
    assert looks_like_maf(_write_maf(tmp_path / "a.maf"))
    assert not looks_like_maf(shared / "somatic/pcgr_examples/T001-COAD.grch37.vcf.gz")


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.text("ACGTN", min_size=1, max_size=40), st.text("ACGTN", min_size=1, max_size=40)),
                min_size=1, max_size=20))
def test_vectorised_hash_equals_scalar(pairs):
    texts = [f"{r}>{a}".encode() for r, a in pairs]
    got = fnv1a_many(texts)
    assert [int(x) for x in got] == [allele_key(r, a) for r, a in pairs]


def test_mc3_real_cohort(shared):
    p = shared / "somatic/tcga_mc3/TCGA_MC3_ACC.maf.tsv.gz"
    t = read_maf(p)
    df = pd.read_csv(p, sep="\t", low_memory=False)
    assert len(t) == len(df)
    assert len(t.samples) == df["Tumor_Sample_Barcode"].nunique()
    per_sample = pd.Series(t["sample"]).map(dict(enumerate(t.samples))).value_counts()
    expected = df["Tumor_Sample_Barcode"].value_counts()
    assert per_sample.sort_index().equals(expected.sort_index())
    # depth from t_ref_count + t_alt_count (the MC3 export has no t_depth)
    assert np.array_equal(t["t_depth"], (df.t_ref_count + df.t_alt_count).to_numpy())
    assert int((t["filter"] == FILTER_PASS).sum()) == int((df.FILTER == "PASS").sum())
    snv = (df.Variant_Type == "SNP").to_numpy()
    assert np.array_equal(t["pos"][snv], df.Start_Position.to_numpy()[snv] - 1)


def test_v2020_and_firehose_without_filter(shared):
    t = read_maf(shared / "somatic/tcga_firehose/TCGA_Firehose_COAD.maf.tsv.gz")
    assert not t.meta["has_filter"] and not t.meta["has_depth"] and not t.meta["has_vaf"]
    assert (t["filter"] == FILTER_MISSING).all()
    u = read_maf(shared / "somatic/tcga_firehose/TCGA_Firehose_UCEC.maf.tsv.gz")   # t_depth + t_vaf columns
    df = pd.read_csv(shared / "somatic/tcga_firehose/TCGA_Firehose_UCEC.maf.tsv.gz", sep="\t", low_memory=False)
    assert np.allclose(u["t_vaf"], df.t_vaf.to_numpy(dtype=float), equal_nan=True, atol=1e-6)
    t2 = read_maf(shared / "somatic/tcga_mc3/TCGA_MC3_BLCA_v2020.maf.tsv.gz")
    assert t2.meta["has_depth"] and not t2.meta["has_filter"]


def test_cbioportal_api_columns(shared):
    p = shared / "somatic/gnomeR_panel_examples/gnomeR_mutations.tsv"
    t = read_maf(p)
    df = pd.read_csv(p, sep="\t")
    assert len(t.samples) == df.sampleId.nunique() == 200
    assert t.meta["columns"]["start"] == "startPosition" and t.meta["columns"]["classification"] == "mutationType"


def test_gz_truncated(tmp_path):
    raw = "\n".join(["\t".join(HEADER)] + ["\t".join(r) for r in ROWS] * 2000).encode()
    data = gzip.compress(raw)
    p = tmp_path / "trunc.maf.gz"
    p.write_bytes(data[: len(data) // 2])
    with pytest.raises(InputError):
        read_maf(p)
