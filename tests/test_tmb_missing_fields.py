"""``tmbcalc tmb --missing-fields relax|error`` (issue #11): MAFs lacking a rule's data.

Real MAFs without a FILTER column from ../shared/data: the TCGA MC3 2020 BRCA compile (FILTER
only missing) and the Broad Firehose LUAD MAF (no FILTER, no matched-normal counts).  Expected
counts come from an independent pandas computation over the MAF (Variant_Classification,
t_depth / t_alt_count / t_vaf, n_alt_count) and the panel's TMB-region BED, not from tmbcalc.
"""
from __future__ import annotations

import gzip
import json
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tmbcalc.errors import UsageError

from .conftest import REPO

BRCA = "somatic/tcga_mc3/TCGA_MC3_BRCA_v2020.maf.tsv.gz"
LUAD = "somatic/tcga_firehose/TCGA_Firehose_LUAD.maf.tsv.gz"
REGION = REPO / "panels/msk-impact-468.tmb.GRCh37.bed.gz"
# msk-impact-like: nonsynonymous = these MAF classes; depth >= 20; VAF >= 0.05; normal alt reads <= 1
NONSYN = {"Missense_Mutation", "Nonsense_Mutation", "Frame_Shift_Del", "Frame_Shift_Ins", "In_Frame_Del",
          "In_Frame_Ins", "Splice_Site", "Nonstop_Mutation", "Translation_Start_Site"}
MODEL = "msk-impact-468__to__exome-wes-merino__anchored-log2__v4"


def _tmb(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["tmbcalc", "tmb", *args], capture_output=True, text=True)


def _in_region(df: pd.DataFrame, bed: Path) -> np.ndarray:
    """MAF rows whose 1-based inclusive [Start, End] span shares a base with the (merged) BED."""
    b = pd.read_csv(bed, sep="\t", header=None, usecols=[0, 1, 2], names=["c", "s", "e"], dtype={"c": str},
                    comment="#")
    out = np.zeros(len(df), bool)
    chrom = df["Chromosome"].astype(str).str.replace("^chr", "", regex=True).to_numpy()
    for c, g in b.groupby("c"):
        g = g.sort_values("s")
        s, e = g["s"].to_numpy(), g["e"].to_numpy()
        rows = np.flatnonzero(chrom == c.removeprefix("chr"))
        st = df["Start_Position"].to_numpy()[rows] - 1
        en = df["End_Position"].to_numpy()[rows]
        i = np.searchsorted(s, en, side="left") - 1          # last interval starting before the span ends
        out[rows] = (i >= 0) & (e[np.maximum(i, 0)] > st)
    return out


def _expected(maf: Path, normal: bool) -> pd.Series:
    df = pd.read_csv(maf, sep="\t", comment="#", low_memory=False)
    vaf = df["t_alt_count"] / df["t_depth"] if "t_alt_count" in df else df["t_vaf"]
    keep = df["Variant_Classification"].isin(NONSYN) & (df["t_depth"] >= 20) & (vaf >= 0.05)
    if normal:
        keep &= df["n_alt_count"] <= 1
    keep &= _in_region(df, REGION)
    samples = df["Tumor_Sample_Barcode"].unique()
    return df[keep].groupby("Tumor_Sample_Barcode").size().reindex(samples, fill_value=0)


def test_maf_without_filter_refused_by_default_naming_the_option(shared, tmp_path):
    p = _tmb(str(shared / BRCA), "--panel", "msk-impact-468", "-o", str(tmp_path / "o"), "--quiet")
    assert p.returncode == 1
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in p.stderr
    assert str(shared / BRCA) in lines[0] and "no FILTER column" in lines[0]
    assert "--missing-fields relax" in lines[0] and "missing_fields" not in lines[0].replace("--missing-fields", "")
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize("maf, normal, rules", [(BRCA, True, ["filter"]),
                                                (LUAD, False, ["filter", "max_normal_alt_reads"])])
def test_relax_counts_match_pandas_and_every_output_says_so(shared, tmp_path, maf, normal, rules):
    prefix = tmp_path / "o"
    p = _tmb(str(shared / maf), "--panel", "msk-impact-468", "--missing-fields", "relax", "-o", str(prefix),
             "--quiet")
    assert p.returncode == 0, p.stderr
    doc = json.loads((tmp_path / "o.tmb.json").read_text())
    got = pd.Series({s["sample"]: s["eligible_variants"] for s in doc["samples"]})
    exp = _expected(shared / maf, normal)
    assert len(got) == len(exp) and exp.sum() > 1000
    assert (got.reindex(exp.index) == exp).all()
    rel = doc["provenance"]["relaxed_rules"]
    assert rel["missing_fields"] == "relax" and rel["rules_off"] == rules
    assert [r["rule"] for r in rel["inputs"][str(shared / maf)]] == rules
    assert doc["provenance"]["parameters"]["missing_fields"] == "relax"
    assert any("rules switched off" in w and "filter" in w for w in doc["warnings"])
    tsv = (tmp_path / "o.tmb.tsv").read_text().splitlines()
    line = [x for x in tsv if x.startswith("# relaxed rules")]
    assert len(line) == 1 and str(shared / maf) in line[0] and all(r in line[0] for r in rules)
    with gzip.open(tmp_path / "o.variants.tsv.gz", "rt") as fh:
        head = [x for x in fh.read(20000).splitlines() if x.startswith("#")]
    assert any("rules switched off" in x and "no FILTER column" in x for x in head)


def test_relax_changes_nothing_when_the_data_are_there(shared, tmp_path):
    uvm = shared / "somatic/tcga_mc3/TCGA_MC3_UVM.maf.tsv.gz"
    a = _tmb(str(uvm), "--panel", "msk-impact-468", "-o", str(tmp_path / "a"), "--quiet")
    b = _tmb(str(uvm), "--panel", "msk-impact-468", "--missing-fields", "relax", "-o", str(tmp_path / "b"), "--quiet")
    assert a.returncode == 0 and b.returncode == 0
    da, db = (json.loads((tmp_path / f"{x}.tmb.json").read_text()) for x in "ab")
    assert [s["eligible_variants"] for s in da["samples"]] == [s["eligible_variants"] for s in db["samples"]]
    assert db["provenance"]["relaxed_rules"]["rules_off"] == []
    assert not [x for x in (tmp_path / "b.tmb.tsv").read_text().splitlines() if x.startswith("# relaxed")]


def test_api_rejects_unknown_mode(shared):
    import tmbcalc

    with pytest.raises(UsageError, match="missing_fields"):
        tmbcalc.compute_tmb(shared / BRCA, panel="msk-impact-468", missing_fields="ignore")


def _model_copy(tmp_path: Path, relaxed: dict | None) -> Path:
    from tmbcalc.calibrate.models import load_model

    d = json.loads(Path(load_model(MODEL).path).read_text())
    if relaxed is None:
        d["training"].pop("relaxed_rules", None)
    else:
        d["training"]["relaxed_rules"] = relaxed
    path = tmp_path / f"{MODEL}.json"
    path.write_text(json.dumps(d))
    return path


def test_calibrate_to_accepts_relaxed_run_only_if_training_was_treated_alike(shared, tmp_path):
    """The shipped model records the rules switched off per training cohort; a relaxed run is
    harmonized only when some training cohort had exactly its rules switched off."""
    from tmbcalc.calibrate.models import load_model

    trained = load_model(MODEL).data["training"]["relaxed_rules"]
    assert trained["TCGA_MC3_BRCA_v2020"] == ["filter"]
    assert trained["TCGA_Firehose_LUAD"] == ["filter", "max_normal_alt_reads"]
    assert "TCGA_MC3_UVM" not in trained
    base = [str(shared / BRCA), "--panel", "msk-impact-468", "--calibrate-to", "exome-wes-merino", "--quiet"]
    p = _tmb(*base, "--missing-fields", "relax", "-o", str(tmp_path / "ok"))
    assert p.returncode == 0, p.stderr
    doc = json.loads((tmp_path / "ok.tmb.json").read_text())
    assert doc["harmonization"]["model"] == MODEL
    assert any("filter switched off" in n for n in doc["harmonization"]["notes"])
    # the same value with FILTER treated by an explicit override is another definition
    p = _tmb(*base, "--filter-missing-is-pass", "-o", str(tmp_path / "over"))
    assert p.returncode == 2 and "filter_missing_is_pass" in p.stderr and not (tmp_path / "over.tmb.json").exists()
    # a model none of whose training cohorts lacked only FILTER: refused, one line, nothing written
    other = {c: r for c, r in trained.items() if r != ["filter"]}
    p = _tmb(*base, "--missing-fields", "relax", "--calibration-model", str(_model_copy(tmp_path, other)),
             "-o", str(tmp_path / "no"))
    assert p.returncode == 2 and len(p.stderr.strip().splitlines()) == 1
    assert "no training cohort" in p.stderr and "relaxed rules" in p.stderr
    assert not list(tmp_path.glob("no.*"))
    p = _tmb(*base, "--missing-fields", "relax", "--calibration-model", str(_model_copy(tmp_path, None)),
             "-o", str(tmp_path / "none"))
    assert p.returncode == 2 and "records no relaxed rules" in p.stderr


PCGR_VCF = "somatic/pcgr_examples/T001-BRCA.grch37.vcf.gz"


def _vcf_expected_count(bcftools: str, bedtools: str, vcf: Path, bed: Path, tmp: Path) -> int:
    """PASS SNVs and indels with tumor depth (FORMAT DPT) >= 50 and VAF (ADT alt / DPT) >= 0.05 whose
    footprint span overlaps the merged BED: an SNV its base, a deletion its deleted bases, an
    insertion the anchor and the next base (docs/tmb.md), computed with bcftools and bedtools."""
    rows = subprocess.run([bcftools, "query", "-f", r"%CHROM\t%POS\t%REF\t%ALT\t%FILTER\t[%DPT]\t[%ADT]\n", str(vcf)],
                          capture_output=True, text=True, check=True).stdout.splitlines()
    spans = []
    for r in rows:
        chrom, pos, ref, alt, filt, dpt, adt = r.split("\t")
        pos, depth, alt_reads = int(pos), int(dpt), int(adt.split(",")[1])
        if filt != "PASS" or depth < 50 or alt_reads / depth < 0.05:
            continue
        if len(ref) == len(alt) == 1:
            spans.append((chrom, pos - 1, pos))
        elif len(alt) == 1 < len(ref):
            spans.append((chrom, pos, pos + len(ref) - 1))
        elif len(ref) == 1 < len(alt):
            spans.append((chrom, pos - 1, pos + 1))
    (tmp / "eligible.bed").write_text("".join(f"{c}\t{s}\t{e}\n" for c, s, e in spans))
    out = subprocess.run([bedtools, "intersect", "-u", "-a", str(tmp / "eligible.bed"), "-b", str(bed)],
                         capture_output=True, text=True, check=True).stdout
    return len(out.splitlines())


def test_relax_on_a_real_vcf_without_population_af(shared, tmp_path):
    """The PCGR TCGA BRCA VCF has read counts but no population AF: `error` refuses it for the
    tso500-like profile (max_pop_af, likely germline) naming the option; `relax` switches exactly those
    two rules off, says so in every output, and counts what bcftools + bedtools count."""
    from .conftest import need_tool

    bcftools, bedtools = need_tool("bcftools"), need_tool("bedtools")
    vcf = shared / PCGR_VCF
    args = [str(vcf), "--panel", "tso500", "--consequences", "all", "--quiet"]   # the VCF has no CSQ
    p = _tmb(*args, "-o", str(tmp_path / "e"))
    assert p.returncode == 1 and len(p.stderr.strip().splitlines()) == 1
    assert "max_pop_af" in p.stderr and "--missing-fields relax" in p.stderr
    assert not list(tmp_path.glob("e.*"))
    p = _tmb(*args, "--missing-fields", "relax", "-o", str(tmp_path / "r"))
    assert p.returncode == 0, p.stderr
    doc = json.loads((tmp_path / "r.tmb.json").read_text())
    assert doc["provenance"]["relaxed_rules"]["rules_off"] == ["likely_germline", "max_pop_af"]
    head = [r for r in (tmp_path / "r.tmb.tsv").read_text().splitlines() if r.startswith("# relaxed rules")]
    assert len(head) == 1 and "max_pop_af" in head[0] and "likely_germline" in head[0]
    bed = tmp_path / "tso500.bed"
    subprocess.run(f"zcat {REPO / 'panels/tso500.GRCh37.bed.gz'} | grep -v '^#' | cut -f1-3 | sort -k1,1 -k2,2n | "
                   f"{bedtools} merge > {bed}", shell=True, check=True)
    want = _vcf_expected_count(bcftools, bedtools, vcf, bed, tmp_path)
    assert want > 0
    assert doc["samples"][0]["eligible_variants"] == want
    assert doc["denominator"]["footprint_bp"] == sum(int(e) - int(s) for _, s, e in
                                                     (r.split("\t") for r in bed.read_text().splitlines()))
