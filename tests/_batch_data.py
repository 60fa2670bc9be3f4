"""Small cohorts for the batch tests and benchmark, generated at test time: a random reference
with microsatellites (tests/_msi_reads), tumor/normal BAMs whose reads carry given repeat-length
shifts, Mutect2-style tumor/normal VCFs on that reference (some indels inside repeats), a loci
file from ``tmbcalc msi scan``, and GRCh37/GRCh38-headed VCFs for the panel rows."""
from __future__ import annotations

import gzip
import subprocess
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pysam

from tests._msi_reads import build_reference, write_bam
from tmbcalc.contigs import BUILD_LENGTHS
from tmbcalc.msi.loci import read_loci

STUTTER = {0: 0.86, -1: 0.09, 1: 0.04, -2: 0.01}
UNSTABLE = {-4: 0.5, **{k: v / 2 for k, v in STUTTER.items()}}
VCF_HEAD = """##fileformat=VCFv4.2
##FILTER=<ID=PASS,Description="All filters passed">
##FILTER=<ID=weak_evidence,Description="weak">
##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">
##FORMAT=<ID=AD,Number=R,Type=Integer,Description="Allelic depths">
##FORMAT=<ID=AF,Number=A,Type=Float,Description="Allele fraction">
##FORMAT=<ID=DP,Number=1,Type=Integer,Description="Depth">
##tumor_sample=TUMOR
##normal_sample=NORMAL
"""


@dataclass
class Cohort:
    root: Path
    ref: Path
    seq: str
    loci: Path
    bed: Path


def make_cohort(root: Path, n_loci: int = 12, seed: int = 3) -> Cohort:
    root.mkdir(parents=True, exist_ok=True)
    ref = root / "ref.fa"
    seq = build_reference(ref, n_loci, seed=seed)
    loci = root / "loci.tsv"
    subprocess.run(["tmbcalc", "msi", "scan", "--reference", str(ref), "-o", str(loci)], check=True,
                   capture_output=True)
    bed = root / "footprint.bed"
    bed.write_text(f"chrS\t0\t{len(seq)}\n")
    return Cohort(root, ref, seq, loci, bed)


def write_vcf(path: Path, records: list[tuple[str, int, str, str, str, int, int, int]],
              contigs: dict[str, int], csq: str | None = None) -> Path:
    """records: (chrom, pos 1-based, ref, alt, filter, tumor depth, tumor alt reads, normal depth);
    ``csq``: a VEP consequence given to every record (INFO CSQ), or none."""
    head = VCF_HEAD.rstrip("\n")
    if csq:
        head += ('\n##INFO=<ID=CSQ,Number=.,Type=String,Description="Consequence annotations from Ensembl VEP. '
                 'Format: Allele|Consequence|IMPACT|SYMBOL">')
    lines = [head] + [f"##contig=<ID={c},length={n}>" for c, n in contigs.items()]
    lines.append("#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tTUMOR\tNORMAL")
    for c, pos, ref, alt, flt, dp, alt_n, ndp in records:
        af = alt_n / dp if dp else 0
        info = f"CSQ={alt}|{csq}|MODERATE|GENE" if csq else "."
        lines.append(f"{c}\t{pos}\t.\t{ref}\t{alt}\t.\t{flt}\t{info}\tGT:AD:AF:DP\t0/1:{dp - alt_n},{alt_n}:{af:.3f}:{dp}"
                     f"\t0/0:{ndp},0:0:{ndp}")
    plain = path.with_suffix("")
    plain.write_text("\n".join(lines) + "\n")
    pysam.tabix_compress(str(plain), str(path), force=True)
    plain.unlink()
    return path


def sample_records(cohort: Cohort, seed: int, n: int) -> list[tuple]:
    """SNVs at random positions plus a deletion of one unit inside some repeats."""
    rng = np.random.default_rng(seed)
    seq, recs = cohort.seq, {}
    loci = read_loci(cohort.loci)
    for p in rng.choice(np.arange(50, len(seq) - 50), size=n, replace=False).tolist():
        ref = seq[p]
        alt = "ACGT"[("ACGT".index(ref) + 1 + int(rng.integers(0, 3))) % 4]
        dp = int(rng.integers(8, 60))
        alt_n = int(rng.integers(1, dp // 2 + 2))
        flt = "PASS" if rng.random() < 0.85 else "weak_evidence"
        recs[p + 1] = ("chrS", p + 1, ref, alt, flt, dp, min(alt_n, dp), int(rng.integers(10, 50)))
    for i in range(len(loci)):
        if rng.random() < 0.3:
            s, unit = int(loci.start[i]), loci.unit[i]
            anchor = seq[s - 1]
            recs[s] = ("chrS", s, anchor + unit, anchor, "PASS", 40, 12, 30)
    return [recs[k] for k in sorted(recs)]


def make_pair(cohort: Cohort, name: str, seed: int, unstable: bool, depth: int = 40) -> tuple[Path, Path]:
    loci = read_loci(cohort.loci)
    n = len(loci)
    normal = write_bam(cohort.root / f"{name}.normal.bam", cohort.seq, loci, [STUTTER] * n, depth, seed, "N")
    tumor = write_bam(cohort.root / f"{name}.tumor.bam", cohort.seq, loci,
                      [UNSTABLE if unstable else STUTTER] * n, depth, seed + 1000, "T")
    return tumor, normal


def panel_vcf(path: Path, build: str, seed: int, n: int = 30) -> Path:
    """A VCF with a GRCh37/GRCh38 header whose records sit in the msk-impact-468 GRCh37 footprint."""
    rng = np.random.default_rng(seed)
    bed = Path(__file__).resolve().parent.parent / "panels" / "msk-impact-468.GRCh37.bed.gz"
    rows = [ln.split("\t")[:3] for ln in gzip.open(bed, "rt") if not ln.startswith("#")]
    pick = sorted(rng.choice(len(rows), size=n, replace=False).tolist(),
                  key=lambda i: (BUILD_CHROMS.index(rows[i][0]), int(rows[i][1])))
    recs = []
    for i in pick:
        c, s, e = rows[i][0], int(rows[i][1]), int(rows[i][2])
        pos = int(rng.integers(s, e)) + 1
        dp = int(rng.integers(30, 200))
        recs.append((c, pos, "A", "G", "PASS", dp, max(5, dp // 5), 50))
    return write_vcf(path, recs, dict(BUILD_LENGTHS[build]), csq="missense_variant")


BUILD_CHROMS = list(BUILD_LENGTHS["GRCh37"])


def truncated_vcf(cohort: Cohort, dst: Path, seed: int) -> Path:
    """A bgzipped VCF of several BGZF blocks cut in its data (header intact): a truncated transfer."""
    rng = np.random.default_rng(seed)
    pos = np.sort(rng.integers(60, len(cohort.seq) - 60, size=3000))
    recs = [("chrS", int(p) + 1, cohort.seq[p], "ACGT"[("ACGT".index(cohort.seq[p]) + 1) % 4], "PASS", 40, 10, 30)
            for p in pos]
    full = write_vcf(dst.with_name("full-" + dst.name), recs, {"chrS": len(cohort.seq)})
    data = full.read_bytes()
    dst.write_bytes(data[: len(data) * 2 // 3])
    full.unlink()
    return dst
