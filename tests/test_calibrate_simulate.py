"""`calibrate simulate` on real TCGA MC3 cohorts vs an independent pandas + bedtools computation.

The expectation is built here from the MAF text: pandas applies each profile's conditions to the
MAF columns (FILTER, Variant_Classification, Variant_Type, t_ref/t_alt/n_ref/n_alt counts,
ExAC_AF) and `bedtools intersect -u` decides footprint membership of each variant's span
(MAF coordinates: SNV/MNV/deletion = the reference bases [Start-1, Start-1+len(REF)),
insertion = the two bases flanking the insertion point [Start-1, Start+1)).  Footprint sizes
come from `bedtools merge`.
"""
from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.conftest import need_tool, run_tool
from tmbcalc.calibrate import PanelSpec, calibrate_simulate
from tmbcalc.io.bed import read_bed
from tmbcalc.tmb.profiles import load_profile

COHORTS = ["ACC", "CHOL", "UVM", "KICH"]
EXOME = "panels/exome_kits/SureSelect_Human_All_Exon_V4_S03723314_Covered_hg19.bed.gz"
IMPACT = "panels/msk_impact_gnomeR/IMPACT468_targets_GRCh37.bed"
GOAL = "panels/goal_consortium/GOAL_Core_497_genes_sorted.bed"
NONSYN = {"Missense_Mutation", "Nonsense_Mutation", "Nonstop_Mutation", "Translation_Start_Site",
          "Frame_Shift_Del", "Frame_Shift_Ins", "In_Frame_Del", "In_Frame_Ins"}


def _sorted_merged_bed(src: Path, out: Path) -> Path:
    text = run_tool("bash", "-c", f"zcat -f {src} | grep -v '^track' | grep -v '^browser' | grep -v '^#' "
                                  f"| cut -f1-3 | sort -k1,1 -k2,2n | bedtools merge -i -")
    out.write_text(text)
    return out


def _bed_bp(path: Path) -> int:
    total = 0
    for line in path.read_text().splitlines():
        f = line.split("\t")
        total += int(f[2]) - int(f[1])
    return total


def _in_bed(maf: pd.DataFrame, bed: Path, tmp: Path) -> np.ndarray:
    start0 = maf["Start_Position"].to_numpy(np.int64) - 1
    ref = maf["Reference_Allele"].astype(str)
    ins = (ref == "-").to_numpy()
    end = np.where(ins, start0 + 2, start0 + ref.str.len().to_numpy())
    spans = tmp / "spans.bed"
    pd.DataFrame({"c": maf["Chromosome"].astype(str), "s": start0, "e": end, "i": np.arange(len(maf))}) \
        .to_csv(spans, sep="\t", header=False, index=False)
    out = run_tool("bedtools", "intersect", "-u", "-a", str(spans), "-b", str(bed))
    hit = np.zeros(len(maf), bool)
    for line in out.splitlines():
        hit[int(line.split("\t")[3])] = True
    return hit


def _expected_counts(maf: pd.DataFrame, mask: np.ndarray) -> pd.Series:
    samples = pd.unique(maf["Tumor_Sample_Barcode"])
    return maf.loc[mask].groupby("Tumor_Sample_Barcode").size().reindex(samples, fill_value=0)


def _conditions(maf: pd.DataFrame) -> dict[str, np.ndarray]:
    t_ref = pd.to_numeric(maf["t_ref_count"], errors="coerce")
    t_alt = pd.to_numeric(maf["t_alt_count"], errors="coerce")
    n_alt = pd.to_numeric(maf["n_alt_count"], errors="coerce")
    n_ref = pd.to_numeric(maf["n_ref_count"], errors="coerce")
    depth = t_ref + t_alt
    vaf = t_alt / depth
    exac = pd.to_numeric(maf["ExAC_AF"], errors="coerce")
    cls = maf["Variant_Classification"]
    vt = maf["Variant_Type"]
    passed = (maf["FILTER"] == "PASS").to_numpy()
    wes = passed & cls.isin(NONSYN) & (depth >= 25) & (t_alt >= 3) & (vaf >= 0.05)
    msk = passed & cls.isin(NONSYN | {"Splice_Site"}) & (depth >= 20) & (vaf >= 0.05) & (n_alt <= 1)
    coding = NONSYN | {"Splice_Site", "Silent"}
    no_normal = n_ref.isna() & n_alt.isna()
    in_window = ((vaf >= 0.45) & (vaf <= 0.55)) | (vaf >= 0.95)
    germline = no_normal & in_window & (exac > 0)
    tso = (passed & cls.isin(coding) & vt.isin(["SNP", "INS", "DEL"]) & (depth >= 50) & (vaf >= 0.05)
           & ~(exac > 0.001) & ~germline)
    return {"wes-merino": wes.to_numpy(bool), "msk-impact-like": msk.to_numpy(bool),
            "tso500-like": tso.to_numpy(bool)}


@pytest.fixture(scope="module")
def beds(shared, tmp_path_factory):
    need_tool("bedtools")
    tmp = tmp_path_factory.mktemp("beds")
    exome = _sorted_merged_bed(shared / EXOME, tmp / "exome.bed")
    out = {"exome": exome}
    for name, rel in (("impact", IMPACT), ("goal", GOAL)):
        merged = _sorted_merged_bed(shared / rel, tmp / f"{name}.bed")
        inter = tmp / f"{name}_x_exome.bed"
        inter.write_text(run_tool("bash", "-c", f"bedtools intersect -a {merged} -b {exome} "
                                                f"| sort -k1,1 -k2,2n | bedtools merge -i -"))
        out[name] = inter
    return out


def test_simulate_counts_match_pandas_and_bedtools(shared, beds, tmp_path):
    mafs = [shared / f"somatic/tcga_mc3/TCGA_MC3_{c}.maf.tsv.gz" for c in COHORTS]
    ex = read_bed(shared / EXOME)
    imp = read_bed(shared / IMPACT).intersect(ex)
    goal = read_bed(shared / GOAL).intersect(ex)
    specs = [PanelSpec("impact468", load_profile("msk-impact-like"), imp, imp.total_mb()),
             PanelSpec("goal-tso", load_profile("tso500-like"), goal, goal.total_mb())]
    res = calibrate_simulate([str(m) for m in mafs], specs, reference_regions=ex)
    tab = res.table
    # footprint sizes (bedtools merge) -> Mb used as denominators
    assert ex.total_bp() == _bed_bp(beds["exome"])
    assert imp.total_bp() == _bed_bp(beds["impact"])
    assert goal.total_bp() == _bed_bp(beds["goal"])
    checked = 0
    for cohort, maf_path in zip(COHORTS, mafs):
        maf = pd.read_csv(maf_path, sep="\t", dtype=str, keep_default_na=False, na_values=[""])
        maf["Start_Position"] = maf["Start_Position"].astype(int)
        cond = _conditions(maf)
        in_ex = _in_bed(maf, beds["exome"], tmp_path)
        in_imp = _in_bed(maf, beds["impact"], tmp_path)
        in_goal = _in_bed(maf, beds["goal"], tmp_path)
        expect = {"exome-wes-merino": (_expected_counts(maf, cond["wes-merino"] & in_ex), _bed_bp(beds["exome"])),
                  "impact468": (_expected_counts(maf, cond["msk-impact-like"] & in_imp), _bed_bp(beds["impact"])),
                  "goal-tso": (_expected_counts(maf, cond["tso500-like"] & in_goal), _bed_bp(beds["goal"]))}
        name = f"TCGA_MC3_{cohort}"
        for panel, (counts, bp) in expect.items():
            got = tab[(tab.cohort == name) & (tab.panel == panel)].set_index("sample")
            assert list(got.index) == list(counts.index), (cohort, panel)
            assert got["count"].tolist() == counts.tolist(), (cohort, panel)
            assert np.allclose(got["tmb"].to_numpy(), counts.to_numpy() / (bp / 1e6))
            checked += int(counts.sum())
    assert checked > 1000  # the comparison is not vacuous


def test_cohort_names_and_relaxed_rules(shared, beds, tmp_path):
    """Firehose LUSC has t_depth/t_vaf but no FILTER or alt counts: those two rules are relaxed
    (recorded), the others still apply; with missing_fields='error' the file is refused."""
    from tmbcalc.calibrate.simulate import cohort_from_filename
    from tmbcalc.errors import InputError

    assert cohort_from_filename("x/TCGA_MC3_ACC.maf.tsv.gz") == "TCGA_MC3_ACC"
    assert cohort_from_filename("SCA_skcm_tcga.tsv.gz") == "SCA_skcm_tcga"
    ex = read_bed(shared / EXOME)
    imp = read_bed(shared / IMPACT).intersect(ex)
    specs = [PanelSpec("impact468", load_profile("msk-impact-like"), imp, imp.total_mb())]
    fh = shared / "somatic/tcga_firehose/TCGA_Firehose_LUSC.maf.tsv.gz"
    res = calibrate_simulate([str(fh)], specs, reference_regions=ex)
    assert res.relaxed_rules["TCGA_Firehose_LUSC"]["wes-merino"] == ["filter", "min_alt_reads"]
    assert res.relaxed_rules["TCGA_Firehose_LUSC"]["msk-impact-like"] == ["filter", "max_normal_alt_reads"]
    maf = pd.read_csv(fh, sep="\t", dtype=str, keep_default_na=False, na_values=[""])
    maf["Start_Position"] = maf["Start_Position"].astype(int)
    depth = pd.to_numeric(maf["t_depth"], errors="coerce")
    vaf = pd.to_numeric(maf["t_vaf"], errors="coerce")
    wes = (maf["Variant_Classification"].isin(NONSYN) & (depth >= 25) & (vaf >= 0.05)).to_numpy(bool)
    expect = _expected_counts(maf, wes & _in_bed(maf, beds["exome"], tmp_path))
    got = res.table[res.table.panel == "exome-wes-merino"].set_index("sample")["count"]
    assert got.tolist() == expect.tolist() and expect.sum() > 10000
    with pytest.raises(InputError, match="relax"):
        calibrate_simulate([str(fh)], specs, reference_regions=ex, missing_fields="error")
