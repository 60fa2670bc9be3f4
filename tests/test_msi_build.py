"""MSI inputs and the genome build: a loci file records its reference's build; scoring refuses an
alignment of another build (the loci would read the wrong bases everywhere)."""
from __future__ import annotations

import json

from tests.conftest import run_cli
from tmbcalc.contigs import BUILD_LENGTHS
from tmbcalc.msi.build import loci_build, reference_build

GHGA = "bam/ghga_seqc2_hcc1395/seqc2_somatic_calling"


def test_reference_build_from_lengths():
    # GRCh37 chr1 is 249,250,621 bp, GRCh38 chr1 248,956,422 bp (by hand from the assemblies)
    assert reference_build({"chr1": 249_250_621}, "/x/hg19.fa")["build"] == "GRCh37"
    assert reference_build({"1": 248_956_422, "2": 242_193_529}, "ref.fa")["build"] == "GRCh38"
    piece = reference_build({"chr3_segment": 500_000}, "piece.fa")
    assert piece["build"] is None and piece["method"] == "not_determined"
    assert set(BUILD_LENGTHS) == {"GRCh37", "GRCh38"}


def _loci_file(path, build):
    prov = {"command": "msi scan", "genome_build": {"build": build, "method": "reference_contig_lengths"}}
    path.write_text("##tmbcalc-msi-loci v1\n# provenance: " + json.dumps(prov) + "\n"
                    "chrom\tstart\tend\tunit\tref_copies\tleft_flank\tright_flank\tname\n"
                    "chr1\t1654120\t1654130\tA\t10\tACGTACGTAC\tGTCAGTCAGT\t.\n")
    return path


def test_loci_file_build_is_read_from_its_provenance(tmp_path):
    from tmbcalc.msi.loci import read_loci

    assert loci_build(read_loci(_loci_file(tmp_path / "l.tsv", "GRCh37")).comments) == "GRCh37"


def test_score_refuses_alignments_of_another_build(tmp_path, shared):
    d = shared / GHGA                       # GRCh38 reads (header: chr1 248,956,422 bp)
    loci = _loci_file(tmp_path / "grch37.loci.tsv", "GRCh37")
    r = run_cli("msi", "score", str(d / "WES_LL_T_1_test.bam"), "--normal-bam", str(d / "WES_LL_N_1_test.bam"),
                "--loci", str(loci), "-o", str(tmp_path / "o"))
    assert r.returncode == 1, r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "WES_LL_T_1_test.bam" in lines[0] and "GRCh37" in lines[0] and "GRCh38" in lines[0]
    assert not list(tmp_path.glob("o*"))


def test_scan_records_the_build(tmp_path, shared):
    ref = shared / "bam/strelka_demo/chrM_hg19.fa"           # hg19 chrM: 16,571 bp, not a primary assembly length
    r = run_cli("msi", "scan", "--reference", str(ref), "-o", str(tmp_path / "l.tsv"))
    assert r.returncode == 0, r.stderr
    from tmbcalc.msi.loci import read_loci

    text = "\n".join(read_loci(tmp_path / "l.tsv").comments)
    assert '"genome_build"' in text and '"not_determined"' in text


def test_baseline_refuses_alignments_of_another_build(tmp_path, shared):
    d = shared / GHGA
    loci = _loci_file(tmp_path / "grch37.loci.tsv", "GRCh37")
    bams = [str(d / "WES_LL_N_1_test.bam"), str(d / "WES_LL_T_1_test.bam")]
    r = run_cli("msi", "baseline", "--loci", str(loci), *bams, "--min-support", "2", "-o", str(tmp_path / "b.tsv"))
    assert r.returncode == 1, r.stderr
    assert len(r.stderr.strip().splitlines()) == 1 and "GRCh37" in r.stderr and "GRCh38" in r.stderr
    assert not (tmp_path / "b.tsv").exists()
