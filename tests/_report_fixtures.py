"""Result files for the report tests, made once per session by the real commands on real data:

* ``TUMOR``: ``tmbcalc tmb`` on the bundled example VCF (GRCh38, Mutect2 + VEP CSQ) with its panel
  BED, + ``msi score --write-dis`` (synthetic reads over a synthetic reference, sample TUMOR) and
  ``callable`` on the SEQC2 HCC1395 tumour/normal test BAMs, all under one prefix;
* ``chol``: ``tmbcalc tmb`` on the TCGA MC3 CHOL MAF (36 tumours) with ``--panel msk-impact-468
  --calibrate-to exome-wes-merino`` (harmonized values from the shipped model).
"""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.conftest import REPO, SHARED, run_cli

EXAMPLE_VCF = REPO / "tmbcalc/examples/example_tumor_normal.vcf.gz"
EXAMPLE_BED = REPO / "tmbcalc/examples/example_panel.bed"
SEQC2 = SHARED / "bam/ghga_seqc2_hcc1395/seq2_testdata_snv"
CHOL = SHARED / "somatic/tcga_mc3/TCGA_MC3_CHOL.maf.tsv.gz"


def _ok(r):
    assert r.returncode == 0, r.stderr
    return r


@pytest.fixture(scope="session")
def results(tmp_path_factory) -> dict[str, Path]:
    from tests._msi_reads import build_reference, write_bam
    from tmbcalc.msi.loci import read_loci

    d = tmp_path_factory.mktemp("report_results")
    _ok(run_cli("tmb", str(EXAMPLE_VCF), "--bed", str(EXAMPLE_BED), "--profile", "wes-merino", "--quiet",
                "-o", str(d / "TUMOR")))
    _ok(run_cli("callable", str(SEQC2 / "WES_LL_T_1_test.bam"), "--normal-bam", str(SEQC2 / "WES_LL_N_1_test.bam"),
                "--bed", str(SEQC2 / "seq2_testdata.bed"), "--min-depth", "10", "-o", str(d / "TUMOR")))
    m = d / "msi"
    m.mkdir()
    seq = build_reference(m / "ref.fa", 30, seed=9)
    _ok(run_cli("msi", "scan", "--reference", str(m / "ref.fa"), "-o", str(m / "loci.tsv")))
    loci = read_loci(m / "loci.tsv")
    stutter = {0: 0.86, -1: 0.09, 1: 0.04, -2: 0.01}
    normal = write_bam(m / "normal.bam", seq, loci, [stutter] * len(loci), 40, 1, "N")
    tumor = write_bam(m / "tumor.bam", seq, loci,
                      [{-4: 0.5, **{k: v / 2 for k, v in stutter.items()}}] * len(loci), 40, 2, "T")
    _ok(run_cli("msi", "score", str(tumor), "--normal-bam", str(normal), "--loci", str(m / "loci.tsv"),
                "--sample", "TUMOR", "--min-evaluable", "10", "--write-dis", "-o", str(d / "TUMOR")))
    _ok(run_cli("tmb", str(CHOL), "--panel", "msk-impact-468", "--calibrate-to", "exome-wes-merino", "--quiet",
                "-o", str(d / "chol")))
    return {"dir": d, "TUMOR": d / "TUMOR", "chol": d / "chol"}


def copy_prefix(src: Path, dst: Path) -> Path:
    """Copy every PREFIX.* file of ``src`` to prefix ``dst``."""
    for f in src.parent.glob(src.name + ".*"):
        shutil.copy(f, dst.parent / (dst.name + f.name[len(src.name):]))
    return dst
