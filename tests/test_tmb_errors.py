"""Bad input through the CLI: exit code, one-line error naming the file, no output files."""
from __future__ import annotations

import pytest

from tests.conftest import run_cli
from tmbcalc.resources import examples_dir

VCF = examples_dir() / "example_tumor_normal.vcf.gz"
BED = examples_dir() / "example_panel.bed"
IMPACT = "panels/msk_impact_gnomeR/IMPACT468_targets_GRCh37.bed"   # GRCh37, for GRCh37 inputs


def check_failure(tmp_path, args, code, *fragments):
    prefix = tmp_path / "out"
    r = run_cli("tmb", *map(str, args), "-o", str(prefix))
    assert r.returncode == code, (r.returncode, r.stderr)
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("tmbcalc: error:"), r.stderr
    assert "Traceback" not in r.stderr
    for frag in fragments:
        assert frag in lines[0], (frag, lines[0])
    assert not list(tmp_path.glob("out*")) and not list(tmp_path.glob(".out*")), list(tmp_path.iterdir())
    return lines[0]


def test_missing_input(tmp_path):
    check_failure(tmp_path, [tmp_path / "nope.vcf.gz", "--bed", BED], 1, "nope.vcf.gz", "does not exist")


def test_truncated_bgzf(tmp_path):
    data = VCF.read_bytes()
    bad = tmp_path / "trunc.vcf.gz"
    bad.write_bytes(data[: len(data) // 2])
    check_failure(tmp_path, [bad, "--bed", BED], 1, "trunc.vcf.gz")


def test_maf_missing_columns(tmp_path):
    maf = tmp_path / "cols.maf"
    maf.write_text("Hugo_Symbol\tChromosome\tStart_Position\tTumor_Seq_Allele2\tTumor_Sample_Barcode\n"
                   "KRAS\t12\t25398284\tT\tS1\n")
    check_failure(tmp_path, [maf, "--bed", BED], 1, "cols.maf", "lacks required column(s) Reference_Allele")


def test_maf_missing_reference_column_named(tmp_path):
    maf = tmp_path / "cols2.maf"
    maf.write_text("Chromosome\tStart_Position\tReference_Allele\tTumor_Seq_Allele2\tTumor_Sample_Barcode\n"
                   "12\tNA\tC\tT\tS1\n")
    check_failure(tmp_path, [maf, "--bed", BED, "--consequences", "all", "--filter-missing-is-pass",
                             "--min-depth", "off", "--min-alt", "off", "--min-vaf", "off"], 1,
                  "cols2.maf", "line 2", "Start_Position")


def test_real_malformed_maf(tmp_path, shared):
    # maftools' APL_primary.maf.gz has FLT3-ITD rows with Start_Position 'NA'
    # (the profile's requirements are checked from the header first: switch them off to reach the data)
    check_failure(tmp_path, [shared / "somatic/maftools/APL_primary.maf.gz", "--bed", BED, "--filter-missing-is-pass",
                             "--min-depth", "off", "--min-alt", "off", "--min-vaf", "off", "--consequences", "all"], 1,
                  "APL_primary.maf.gz", "Start_Position is not an integer")


def test_multisample_vcf_without_tumor(tmp_path, shared):
    check_failure(tmp_path, [shared / "popfreq_hotspots/vcfanno_exac_subset/query.vcf.gz", "--bed", BED], 1,
                  "query.vcf.gz")


def test_bed_bad_line(tmp_path):
    bed = tmp_path / "bad.bed"
    bed.write_text("chr1\t100\t200\nchr1\tabc\t300\n")
    check_failure(tmp_path, [VCF, "--bed", bed], 1, "bad.bed", "line 2")


def test_no_shared_contigs(tmp_path):
    bed = tmp_path / "other.bed"
    bed.write_text("demo20\t0\t5000\n")
    check_failure(tmp_path, [VCF, "--bed", bed], 1, "contig")


def test_empty_footprint_after_coding(tmp_path):
    coding = tmp_path / "coding.bed"
    coding.write_text("chr1\t1\t2\n")
    check_failure(tmp_path, [VCF, "--bed", BED, "--coding-bed", coding], 1, "footprint is empty")


def test_missing_consequences(tmp_path, shared):
    vcf = shared / "somatic/pcgr_examples/T001-BRCA.grch37.vcf.gz"
    line = check_failure(tmp_path, [vcf, "--bed", shared / IMPACT], 1,
                         "T001-BRCA.grch37.vcf.gz", "VEP")
    assert "--consequences all" in line and "--coding-bed" in line


def test_maf_without_filter_column(tmp_path, shared):
    check_failure(tmp_path, [shared / "somatic/tcga_mc3/TCGA_MC3_BRCA_v2020.maf.tsv.gz", "--bed", shared / IMPACT], 1,
                  "FILTER", "--filter-missing-is-pass")


def test_missing_format_field(tmp_path, shared):
    # Firehose COAD MAF has no read counts: the depth rule cannot be evaluated
    check_failure(tmp_path, [shared / "somatic/tcga_firehose/TCGA_Firehose_COAD.maf.tsv.gz", "--bed", shared / IMPACT,
                             "--filter-missing-is-pass"], 1, "min_depth", "--min-depth off")


def test_bad_profile_key(tmp_path):
    prof = tmp_path / "p.toml"
    prof.write_text('name = "p"\nmin_vaf = 0.05\nmax_depht = 3\n')
    check_failure(tmp_path, [VCF, "--bed", BED, "--profile", prof], 1, "p.toml", "max_depht")


@pytest.mark.parametrize("args,frag", [
    (["--bed", str(BED), "--panel", "x"], "exactly one of"),
    ([], "exactly one of"),
    (["--bed", str(BED), "--profile", "nope"], "unknown profile"),
    (["--bed", str(BED), "--min-vaf", "abc"], "--min-vaf"),
    (["--bed", str(BED), "--min-vaf", "2"], "--min-vaf"),
    (["--bed", str(BED), "--callable-bed", str(BED), "--tumor-bam", str(BED)], "--callable-bed"),
    (["--bed", str(BED), "--profile", "f1cdx-like"], "--exclude-hotspots"),
])
def test_bad_argument_combinations(tmp_path, args, frag):
    check_failure(tmp_path, [VCF, *args], 2, frag)


def test_output_directory_missing_is_created(tmp_path):
    """Issue #13 item 8: ``-o`` creates missing parent folders (a file in the way is refused)."""
    r = run_cli("tmb", str(VCF), "--bed", str(BED), "-o", str(tmp_path / "no" / "dir" / "x"))
    assert r.returncode == 0 and (tmp_path / "no" / "dir" / "x.tmb.json").is_file()
    (tmp_path / "f").write_text("")
    r = run_cli("tmb", str(VCF), "--bed", str(BED), "-o", str(tmp_path / "f" / "x"))
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1


def test_build_mismatch_bed(tmp_path):
    # the example VCF is GRCh38 by its header contig lengths; chr1 of GRCh37 is longer than GRCh38's
    bed = tmp_path / "grch37.bed"
    bed.write_text("chr1\t248956000\t249250000\n" + "".join(
        l + "\n" for l in BED.read_text().splitlines() if not l.startswith("#")))
    check_failure(tmp_path, [VCF, "--bed", bed], 1, "grch37.bed", "GRCh38", "wrong genome build")


def test_panel_bed_not_shipped(tmp_path, monkeypatch):
    # the exome panel's BED is not redistributable: the error says how to supply it
    monkeypatch.delenv("TMBCALC_PANELS_DIR", raising=False)
    check_failure(tmp_path, [VCF, "--panel", "exome-grch38"], 1, "--panel-bed")
