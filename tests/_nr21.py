"""Real-read MSI dilution series from the MIAmS NR21 amplicon FASTQs (built at test time).

The FASTQs in ``../shared/data/msi/miams/test_amplicon_NR21`` are real paired-end MiniSeq reads of
one MSS (spl001) and one MSI (spl002) sample.  They hold two homopolymer amplicons (each read pair
starts at one of two primer pairs).  No GRCh37 sequence is staged, so the amplicon reference is
built from the MSS reads themselves:

* reads are grouped by their first 20 bases (the primer); for the two largest R1 groups the
  left context is the per-position majority of R1 up to the first T run of >= 8 bases, the right
  context the reverse complement of the majority of the mates (R2) up to their first A run;
* the repeat length written into the reference is the modal run length in the MSS R1 reads.

Then: ``bwa mem`` (read group SM), ``samtools fixmate -m`` (MC tags for one-count-per-fragment),
sort, index.  Mixtures take an exact number of read pairs by name (deterministic, seeded):
the MSS pairs are split in two halves (tumor base / normal) and MSI pairs are added to the
tumor base so that they are ``p`` of the tumor's pairs.  Nothing here uses tmbcalc.
"""
from __future__ import annotations

import gzip
import random
import subprocess
from collections import Counter
from pathlib import Path

DIR = "msi/miams/test_amplicon_NR21"
MSS = ("test_stable_spl001_S19_L001_R1.fastq.gz", "test_stable_spl001_S19_L001_R2.fastq.gz")
MSI = ("test_unstable_spl002_S13_L001_R1.fastq.gz", "test_unstable_spl002_S13_L001_R2.fastq.gz")
FLANK = 12  # flank bases written into the loci file


def read_pairs(r1: Path, r2: Path) -> list[tuple[str, str, str, str, str]]:
    """(name, seq1, qual1, seq2, qual2) per pair, in file order."""
    out = []
    with gzip.open(r1, "rt") as a, gzip.open(r2, "rt") as b:
        while True:
            h1 = a.readline()
            if not h1:
                break
            s1, _, q1 = a.readline().strip(), a.readline(), a.readline().strip()
            h2 = b.readline()
            s2, _, q2 = b.readline().strip(), b.readline(), b.readline().strip()
            name = h1[1:].split()[0]
            assert h2[1:].split()[0] == name, "R1/R2 out of order"
            out.append((name, s1, q1, s2, q2))
    return out


def _revcomp(s: str) -> str:
    return s[::-1].translate(str.maketrans("ACGTN", "TGCAN"))


def _majority_until_run(seqs: list[str], base: str) -> str:
    """Per-position majority sequence, cut before the first run of >= 8 ``base``."""
    cons = []
    for col in zip(*seqs):
        cons.append(Counter(col).most_common(1)[0][0])
    s = "".join(cons)
    i = s.find(base * 8)
    assert i > 0, "no homopolymer found in the consensus"
    return s[:i]


def _run_length(seq: str, at: int, base: str) -> int:
    n = 0
    while at + n < len(seq) and seq[at + n] == base:
        n += 1
    return n


def amplicons(pairs) -> list[dict]:
    """The two amplicons: left context, modal T-run length, right context."""
    groups = Counter(p[1][:20] for p in pairs).most_common(2)
    out = []
    for k, (prefix, _n) in enumerate(groups):
        sel = [p for p in pairs if p[1].startswith(prefix)]
        left = _majority_until_run([p[1][:100] for p in sel], "T")
        r2 = Counter(p[3][:20] for p in sel).most_common(1)[0][0]
        right_rc = _majority_until_run([p[3][:100] for p in sel if p[3].startswith(r2)], "A")
        runs = Counter(_run_length(p[1], len(left), "T") for p in sel if p[1].startswith(left))
        out.append({"name": f"amp{k + 1}", "left": left, "run": runs.most_common(1)[0][0],
                    "right": _revcomp(right_rc)})
    return out


def write_fastq(path1: Path, path2: Path, pairs) -> None:
    with open(path1, "w") as a, open(path2, "w") as b:
        for name, s1, q1, s2, q2 in pairs:
            a.write(f"@{name}\n{s1}\n+\n{q1}\n")
            b.write(f"@{name}\n{s2}\n+\n{q2}\n")


def align(ref: Path, pairs, out: Path, sample: str) -> Path:
    """bwa mem -> fixmate -m -> sort -> index; returns the BAM path."""
    fq1, fq2 = out.with_suffix(".R1.fq"), out.with_suffix(".R2.fq")
    write_fastq(fq1, fq2, pairs)
    bwa = subprocess.run(["bwa", "mem", "-v", "1", "-R", f"@RG\\tID:{sample}\\tSM:{sample}", str(ref),
                          str(fq1), str(fq2)], capture_output=True, check=True)
    fix = subprocess.run(["samtools", "fixmate", "-m", "-O", "bam", "-", "-"], input=bwa.stdout,
                         capture_output=True, check=True)
    subprocess.run(["samtools", "sort", "-o", str(out), "-"], input=fix.stdout, capture_output=True,
                   check=True)
    subprocess.run(["samtools", "index", str(out)], check=True, capture_output=True)
    fq1.unlink()
    fq2.unlink()
    return out


def build(shared: Path, outdir: Path, fractions=(0.0, 0.05, 0.10, 0.20, 0.50), seed: int = 12) -> dict:
    """Reference, loci file, normal BAM and one tumor BAM per MSI fraction (plus a swapped pair).

    Returns a dict: ``reference``, ``loci``, ``normal``, ``tumors`` {fraction: BAM},
    ``msi_pure`` (all MSI pairs), ``counts`` {fraction: (mss pairs, msi pairs)}, ``amplicons``.
    """
    outdir.mkdir(parents=True, exist_ok=True)
    base = shared / DIR
    mss = read_pairs(base / MSS[0], base / MSS[1])
    msi = read_pairs(base / MSI[0], base / MSI[1])
    amps = amplicons(mss)
    ref = outdir / "nr21_amplicons.fa"
    pad = 0
    with open(ref, "w") as fh:
        for a in amps:
            fh.write(f">{a['name']}\n{a['left']}{'T' * a['run']}{a['right']}\n")
    subprocess.run(["bwa", "index", str(ref)], check=True, capture_output=True)
    subprocess.run(["samtools", "faidx", str(ref)], check=True, capture_output=True)
    loci = outdir / "nr21.loci.tsv"
    with open(loci, "w") as fh:
        fh.write("##tmbcalc-msi-loci v1\nchrom\tstart\tend\tunit\tref_copies\tleft_flank\tright_flank\tname\n")
        for a in amps:
            s = len(a["left"]) + pad
            fh.write(f"{a['name']}\t{s}\t{s + a['run']}\tT\t{a['run']}\t{a['left'][-FLANK:]}\t"
                     f"{a['right'][:FLANK]}\t{a['name']}\n")
    rng = random.Random(seed)
    order = list(range(len(mss)))
    rng.shuffle(order)
    half = len(order) // 2
    tumor_base = [mss[i] for i in sorted(order[:half])]
    normal = [mss[i] for i in sorted(order[half:])]
    msi_order = list(range(len(msi)))
    rng.shuffle(msi_order)
    res = {"reference": ref, "loci": loci, "amplicons": amps, "tumors": {}, "counts": {}}
    res["normal"] = align(ref, normal, outdir / "normal.bam", "normal_mss")
    res["msi_pure"] = align(ref, msi, outdir / "msi_pure.bam", "msi_pure")
    res["mss_half"] = align(ref, tumor_base, outdir / "mss_half.bam", "mss_half")
    for f in fractions:
        k = min(round(f * len(tumor_base) / (1 - f)), len(msi))
        names = outdir / f"msi_names_{k}.txt"
        names.write_text("".join(msi[i][0] + "\n" for i in sorted(msi_order[:k])))
        tag = f"tumor_msi{int(round(f * 100)):02d}"
        part = outdir / f"{tag}.msi_part.bam"
        subprocess.run(["samtools", "view", "-b", "-N", str(names), "-o", str(part), str(res["msi_pure"])],
                       check=True, capture_output=True)
        out = outdir / f"{tag}.bam"
        # one read group (the first input's header), so the sample name is the tumor base's
        subprocess.run(["samtools", "merge", "-f", "-c", "-p", "-o", str(out), str(res["mss_half"]), str(part)],
                       check=True, capture_output=True)
        subprocess.run(["samtools", "index", str(out)], check=True, capture_output=True)
        res["counts"][f] = (len(tumor_base), k)
        res["tumors"][f] = out
    return res
