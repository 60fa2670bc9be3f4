"""Generate the benchmark BAM for ``tmbcalc callable`` (cached under a work directory).

Reference: two real sequences from ../shared/data/reference, written as two contigs:
``chr3seg`` = GRCh37 chr3:178,800,000-179,300,000 (dndscv, 500,001 bp) and ``chr20seg`` =
hg19 chr20:9,995,000-11,095,000 (nucleus, the 1.1 Mb of real sequence in that test FASTA).
Footprint: both contigs end to end (1,600,001 bp >= 1 Mb).

Reads: a deterministic paired-end simulator (numpy, seed 7): fragment length ~ N(320, 80)
clipped to [120, 700], 2 x 100 bp, 0.5% substitutions, 2% of fragments carry a 1-3 bp
deletion and 2% a 1-3 bp insertion in read 1; mates overlap whenever the fragment is < 200 bp.
Default 2,600,000 pairs = 5,200,000 reads (~325x).  Then ``bwa index``, ``bwa mem -t T``,
``samtools sort`` and ``samtools index``.  Debian has no wgsim; ART/dwgsim are not needed.

Usage: python benchmarks/make_bam.py WORKDIR [--pairs N] [--threads T]
Prints the path of the BAM; re-running reuses what exists.
"""
from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

import numpy as np

SHARED = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "reference"
CHR3 = SHARED / "dndscv_grch37_chr3_segment" / "chr3_segment.fa"
CHR20 = SHARED / "nucleus_hg19_chr20" / "ucsc.hg19.chr20.unittest.fasta.gz"
READ_LEN = 100
COMP = bytes.maketrans(b"ACGTN", b"TGCAN")


def write_reference(work: Path) -> Path:
    import pysam

    ref = work / "bench_ref.fa"
    if ref.exists() and Path(str(ref) + ".fai").exists():
        return ref
    a = pysam.FastaFile(str(CHR3))
    seq3 = a.fetch(a.references[0]).upper()
    b = pysam.FastaFile(str(CHR20))
    seq20 = b.fetch("chr20", 9_995_000, 11_095_000).upper()
    tmp = ref.with_suffix(".tmp")
    with open(tmp, "w") as fh:
        for name, seq in (("chr3seg", seq3), ("chr20seg", seq20)):
            fh.write(f">{name}\n")
            for i in range(0, len(seq), 60):
                fh.write(seq[i:i + 60] + "\n")
    tmp.rename(ref)
    pysam.faidx(str(ref))
    return ref


def footprint_bed(work: Path, ref: Path) -> Path:
    bed = work / "bench_footprint.bed"
    if not bed.exists():
        lines = [ln.split("\t")[:2] for ln in Path(str(ref) + ".fai").read_text().splitlines()]
        bed.write_text("".join(f"{n}\t0\t{ln}\n" for n, ln in lines))
    return bed


def simulate(work: Path, ref: Path, pairs: int, seed: int = 7) -> tuple[Path, Path]:
    import pysam

    r1p, r2p = work / f"sim_{pairs}_1.fq", work / f"sim_{pairs}_2.fq"
    if r1p.exists() and r2p.exists():
        return r1p, r2p
    fa = pysam.FastaFile(str(ref))
    seqs = [fa.fetch(n).encode() for n in fa.references]
    lens = np.array([len(s) for s in seqs], dtype=np.int64)
    rng = np.random.default_rng(seed)
    qual = b"I" * READ_LEN
    bases = np.frombuffer(b"ACGT", dtype=np.uint8)
    t1, t2 = r1p.with_suffix(".tmp1"), r2p.with_suffix(".tmp2")
    chunk = 200_000
    with open(t1, "wb") as f1, open(t2, "wb") as f2:
        done = 0
        while done < pairs:
            n = min(chunk, pairs - done)
            contig = rng.choice(len(seqs), size=n, p=lens / lens.sum())
            flen = np.clip(rng.normal(320, 80, n).astype(np.int64), 120, 700)
            start = (rng.random(n) * (lens[contig] - flen)).astype(np.int64)
            strand = rng.random(n) < 0.5
            indel = rng.random(n)
            ilen = rng.integers(1, 4, n)
            out1, out2 = [], []
            for i in range(n):
                s = seqs[contig[i]]
                frag = s[start[i]:start[i] + flen[i]]
                if strand[i]:
                    frag = frag.translate(COMP)[::-1]
                a = bytearray(frag[:READ_LEN + 3])
                if indel[i] < 0.02:  # deletion in read 1
                    p = 30 + int(ilen[i])
                    del a[p:p + int(ilen[i])]
                elif indel[i] < 0.04:  # insertion in read 1
                    p = 40
                    a[p:p] = b"A" * int(ilen[i])
                a = a[:READ_LEN]
                bb = bytearray(frag[-READ_LEN:].translate(COMP)[::-1])
                for arr in (a, bb):
                    err = np.flatnonzero(rng.random(len(arr)) < 0.005)
                    for e in err.tolist():
                        arr[e] = int(bases[rng.integers(0, 4)])
                name = f"r{done + i}"
                out1.append(b"@%s/1\n%s\n+\n%s\n" % (name.encode(), bytes(a), qual[:len(a)]))
                out2.append(b"@%s/2\n%s\n+\n%s\n" % (name.encode(), bytes(bb), qual[:len(bb)]))
            f1.write(b"".join(out1))
            f2.write(b"".join(out2))
            done += n
    t1.rename(r1p)
    t2.rename(r2p)
    return r1p, r2p


def align(work: Path, ref: Path, r1: Path, r2: Path, threads: int, pairs: int) -> Path:
    bam = work / f"bench_{pairs}.bam"
    if bam.exists() and Path(str(bam) + ".bai").exists():
        return bam
    if not Path(str(ref) + ".bwt").exists():
        subprocess.run(["bwa", "index", str(ref)], check=True, capture_output=True)
    tmp = bam.with_suffix(".tmp.bam")
    with subprocess.Popen(["bwa", "mem", "-t", str(threads), "-v", "1", str(ref), str(r1), str(r2)],
                          stdout=subprocess.PIPE) as bwa:
        subprocess.run(["samtools", "sort", "-@", str(threads), "-m", "1G", "-o", str(tmp), "-"],
                       stdin=bwa.stdout, check=True)
        bwa.stdout.close()
    if bwa.returncode:
        raise SystemExit("bwa mem failed")
    tmp.rename(bam)
    subprocess.run(["samtools", "index", str(bam)], check=True)
    return bam


def make(work: str | Path, pairs: int = 2_600_000, threads: int = 2) -> tuple[Path, Path, Path]:
    """Return (bam, footprint_bed, reference), generating what is missing."""
    work = Path(work)
    work.mkdir(parents=True, exist_ok=True)
    ref = write_reference(work)
    bed = footprint_bed(work, ref)
    r1, r2 = simulate(work, ref, pairs)
    bam = align(work, ref, r1, r2, threads, pairs)
    return bam, bed, ref


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("workdir")
    ap.add_argument("--pairs", type=int, default=2_600_000)
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args(argv)
    bam, bed, ref = make(a.workdir, a.pairs, a.threads)
    print(bam)
    print(bed)
    print(ref)
    return 0


if __name__ == "__main__":
    sys.exit(main())
