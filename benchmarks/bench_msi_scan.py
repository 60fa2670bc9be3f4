"""Benchmarks of ``msi scan`` (reference scan kernel) and of the profile kernel on real reads.

Opt-in::

    python -m pytest benchmarks/bench_msi_scan.py -m heavy --benchmark-enable

* scan of the hg19 chr20 test FASTA (63 Mb contig, bgzip; 1.1 Mb of real sequence, rest N);
* scan of the GRCh37 chr3 segment (500 kb plain FASTA, streamed without index);
* profile of NA12878_small.bam at loci scanned in its region (low thresholds), 1 vs 2 threads.
"""
from __future__ import annotations

from pathlib import Path

import pytest

SHARED = Path(__file__).resolve().parent.parent.parent / "shared" / "data"
CHR20 = SHARED / "reference/nucleus_hg19_chr20/ucsc.hg19.chr20.unittest.fasta.gz"
CHR3 = SHARED / "reference/dndscv_grch37_chr3_segment/chr3_segment.fa"
NA12878 = SHARED / "bam/nucleus/NA12878_small.bam"


@pytest.mark.heavy
def test_bench_scan_chr20_bgzip(benchmark):
    from tmbcalc.msi.scan import msi_scan

    res = benchmark(msi_scan, CHR20)
    assert len(res.loci) > 500


@pytest.mark.heavy
def test_bench_scan_chr3_plain(benchmark):
    from tmbcalc.msi.scan import msi_scan

    res = benchmark(msi_scan, CHR3)
    assert len(res.loci) > 300


@pytest.mark.heavy
@pytest.mark.parametrize("threads", [1, 2])
def test_bench_profile_na12878(benchmark, tmp_path, threads):
    from tmbcalc.msi.profile import profile_bam
    from tmbcalc.msi.scan import msi_scan

    bed = tmp_path / "region.bed"
    bed.write_text("chr20\t9999900\t10002100\n")
    loci = msi_scan(CHR20, footprint=bed, min_homopolymer=5, min_copies=3).loci
    prof = benchmark(profile_bam, NA12878, loci, threads=threads)
    assert prof.reads.sum() > 300
