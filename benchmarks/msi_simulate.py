#!/usr/bin/env python3
"""Simulate tumor/normal BAMs with per-locus microsatellite truth on a real reference piece.

Independent of tmbcalc's MSI engine (pure Python + numpy; aligned with ``bwa mem``, sorted and
indexed with ``samtools``), so that tests and benchmarks can check ``tmbcalc msi`` and peer tools
against known truth.  Importable (``simulate(...)``) and a CLI::

    python benchmarks/msi_simulate.py --reference REF.fa --outdir DIR \
        [--purities 1.0,0.5,0.2,0.1] [--loci 100] [--coverage 150] [--seed 7]

Model (all lengths in repeat *units*, all randomness from one seeded numpy generator):

* **Loci**: a pure-Python scan of the reference for homopolymers of 10-30 bp and dinucleotide
  repeats of 6-15 copies whose 60 bp flanks hold no N and no other homopolymer >= 6 bp; loci
  at least 1,500 bp apart so that their read windows never overlap.
* **Germline**: each individual carries two alleles per locus; at a fraction of loci (5% by
  default, 30% for the ``germline`` scenario) one allele (sometimes both) differs from the
  reference by +/-1..3 units.  A tumor and its matched normal share the individual.
* **MSI clone**: in an MSI tumor 45% of homopolymer and 30% of dinucleotide loci are unstable:
  one allele (both in 30% of cases) carries a somatic shift of -2..-8 units (homopolymers, 10%
  of them +1..+2) or -1..-3 / +1..+2 units (dinucleotides).  Tumor cells make up ``purity`` of
  the sample; the rest are normal cells with the germline alleles.
* **Stutter** (PCR slippage, per DNA fragment, so both mates see it): the observed length is
  the true one + d, P(d=-1) = base(L), P(-2) = 0.2 base, P(+1) = 0.25 base, where base grows
  with the repeat length L in bp (homopolymers 1.2% per bp above 6 bp, capped at 35%;
  dinucleotides 0.6% per bp above 8 bp); the ``strong`` library prep multiplies base by 2.2; the
  ``heavy`` prep (``heavy=True`` adds an MSS pair and a 10%-purity MSI pair made with it) has
  P(-1) = min(0.3, 2.5 base), P(-2) = P(+1) = P(-1) / 2 (broad stutter, 2-unit slips common).
* **Reads**: paired 2 x 150 bp, fragment length ~ N(320, 50) clipped to [150, 600]; ``coverage``
  fragments per locus, each overlapping the repeat by >= 10 bp (reads exist only around loci;
  about ``coverage`` reads cover each repeat), Illumina-like substitution errors rising from
  0.1% to 0.5% along the read.
* **Background** (``background`` > 0, for exome/genome-like read sets): in addition, fragments
  drawn uniformly along every contig at ``background`` x read depth (reference sequence, no
  stutter, same error model), leaving out fragments that overlap a selected repeat (their reads
  come from the per-locus fragments above) or hold an N.  Read names: ``{sample}:bg:{n}``.
* **Dense loci** (``spacing`` < 1500): loci closer than 1,500 bp are allowed (panel-like sets
  of a few hundred loci on a small reference); read windows then overlap, so a neighbouring
  locus inside a fragment drawn for another one shows its *reference* length there - the
  per-locus truth is slightly diluted at close pairs.

Read names encode the truth: ``{sample}:{locus}:{copies}:{cell}:{l1}:{r1}:{l2}:{r2}:{n}`` where
``copies`` is the observed (post-stutter) repeat length in units, ``cell`` is T (MSI tumor cell)
or N, ``l1``/``r1`` (``l2``/``r2``) are the numbers of read-1 (read-2) bases before and after the
repeat (-1:-1 when that read does not cover the whole repeat).  Outputs in
``outdir``: ``ref.fa`` (+ bwa index, .fai), ``loci.tsv`` (tmbcalc loci format v1), ``loci.bed``,
``truth.tsv`` (one row per sample x locus), ``<sample>.bam`` + ``.bai``, ``manifest.json``.
Outputs are cached: a second call with the same parameters reuses them.
"""
from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

READ_LEN = 150
WINDOW = 400          # bp of reference either side of a locus from which fragments are drawn
MIN_SPACING = 1500    # bp between selected loci
FLANK_CHECK = 60      # bp either side that must be clean
SIM_VERSION = 4       # bump when the model changes (invalidates caches)

_COMP = bytes.maketrans(b"ACGTN", b"TGCAN")


@dataclass
class Locus:
    """One simulated microsatellite; ``start``/``end`` 0-based half-open repeat span."""
    idx: int
    chrom: str
    start: int
    end: int
    unit: str
    copies: int


@dataclass
class SampleSpec:
    name: str
    individual: int
    role: str                 # "normal" or "tumor"
    prep: str = "standard"    # "standard" or "strong" stutter
    msi: bool = False
    purity: float = 0.0       # tumor cell fraction (tumors only)
    germline_rate: float = 0.05


@dataclass
class Simulation:
    """What :func:`simulate` built: paths and the scenario layout."""
    outdir: Path
    reference: Path
    loci_tsv: Path
    loci_bed: Path
    truth_tsv: Path
    loci: list[Locus]
    samples: dict[str, SampleSpec]
    bams: dict[str, Path]
    scenarios: dict[str, dict]
    params: dict = field(default_factory=dict)

    def bam(self, name: str) -> Path:
        return self.bams[name]


# ---------------------------------------------------------------------------------------------
# reference and loci

def read_fasta(path: str | Path) -> dict[str, str]:
    """Contig name (first word of the header) -> upper-case sequence; plain or gzip/bgzip."""
    p = Path(path)
    with open(p, "rb") as fh:
        gz = fh.read(2) == b"\x1f\x8b"
    opener = gzip.open if gz else open
    seqs: dict[str, list[str]] = {}
    name = None
    with opener(p, "rt") as fh:
        for line in fh:
            if line.startswith(">"):
                name = line[1:].split()[0]
                seqs[name] = []
            elif name is not None:
                seqs[name].append(line.strip())
    return {k: "".join(v).upper() for k, v in seqs.items()}


def _minimal_unit(motif: str) -> str:
    n = len(motif)
    for k in range(1, n + 1):
        if n % k == 0 and motif[:k] * (n // k) == motif:
            return motif[:k]
    return motif


def find_candidates(seq: str, chrom: str) -> list[Locus]:
    """Homopolymers 10-30 bp and dinucleotide repeats of 6-15 whole copies (leftmost phase)."""
    out: list[Locus] = []
    for m in re.finditer(r"([ACGT])\1{9,}", seq):
        n = m.end() - m.start()
        if n <= 30:
            out.append(Locus(-1, chrom, m.start(), m.end(), m.group(1), n))
    for m in re.finditer(r"([ACGT]{2})\1{5,}", seq):
        unit = m.group(1)
        if _minimal_unit(unit) != unit:
            continue
        copies = (m.end() - m.start()) // 2
        if copies <= 15:
            out.append(Locus(-1, chrom, m.start(), m.start() + 2 * copies, unit, copies))
    out.sort(key=lambda x: x.start)
    return out


_HP6 = re.compile(r"A{6,}|C{6,}|G{6,}|T{6,}")


def _clean(seq: str, loc: Locus) -> bool:
    s, e = loc.start, loc.end
    if s - WINDOW - READ_LEN < 0 or e + WINDOW + READ_LEN > len(seq):
        return False
    left, right = seq[s - FLANK_CHECK:s], seq[e:e + FLANK_CHECK]
    if "N" in seq[s - WINDOW - READ_LEN:e + WINDOW + READ_LEN]:
        return False
    if _HP6.search(left) or _HP6.search(right):
        return False
    # the repeat must not continue with a partial copy of more than unit-1 bases: fine for
    # dinucleotides; for homopolymers the regex already took the maximal run.
    # no other tandem repeat of >= 3 dinucleotide copies right at the edges
    if re.search(r"([ACGT]{2})\1{3,}", left[-20:]) or re.search(r"([ACGT]{2})\1{3,}", right[:20]):
        return False
    return True


def select_loci(ref: dict[str, str], n_loci: int, rng: np.random.Generator,
                spacing: int = MIN_SPACING) -> list[Locus]:
    """Clean loci at least ``spacing`` bp apart; about 80% homopolymers, 20% dinucleotides."""
    cands: list[Locus] = []
    for chrom, seq in ref.items():
        cands += [c for c in find_candidates(seq, chrom) if _clean(seq, c)]
    # remove candidates closer than MIN_SPACING to each other (keep none of a close pair
    # group except the first) -> no overlapping windows
    cands.sort(key=lambda c: (c.chrom, c.start))
    spaced: list[Locus] = []
    for c in cands:
        if spaced and spaced[-1].chrom == c.chrom and c.start - spaced[-1].end < spacing:
            continue
        spaced.append(c)
    hp = [c for c in spaced if len(c.unit) == 1]
    di = [c for c in spaced if len(c.unit) == 2]
    n_di = min(len(di), n_loci // 5)
    n_hp = min(len(hp), n_loci - n_di)
    pick = [hp[i] for i in sorted(rng.choice(len(hp), n_hp, replace=False))] + \
           [di[i] for i in sorted(rng.choice(len(di), n_di, replace=False))]
    pick.sort(key=lambda c: (c.chrom, c.start))
    for i, c in enumerate(pick):
        c.idx = i
    return pick


# ---------------------------------------------------------------------------------------------
# genotypes

def germline_alleles(loci: list[Locus], individual: int, rate: float, seed: int) -> np.ndarray:
    """(n_loci, 2) allele lengths in units for one individual."""
    rng = np.random.default_rng([seed, 1000 + individual, int(rate * 1000)])
    ref = np.array([lo.copies for lo in loci])
    alle = np.stack([ref, ref], axis=1)
    poly = rng.random(len(loci)) < rate
    for i in np.nonzero(poly)[0]:
        k = int(rng.choice([1, 2, 3], p=[0.6, 0.3, 0.1])) * int(rng.choice([-1, 1]))
        alle[i, 1] = max(3, ref[i] + k)
        if rng.random() < 0.2:
            alle[i, 0] = alle[i, 1]
    return alle


def somatic_alleles(loci: list[Locus], germ: np.ndarray, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """MSI clone: (alleles (n,2), unstable mask)."""
    rng = np.random.default_rng([seed, 77])
    som = germ.copy()
    unstable = np.zeros(len(loci), dtype=bool)
    for i, lo in enumerate(loci):
        hp = len(lo.unit) == 1
        if rng.random() >= (0.45 if hp else 0.30):
            continue
        unstable[i] = True
        for a in ([0, 1] if rng.random() < 0.3 else [int(rng.integers(2))]):
            if hp:
                shift = -int(rng.integers(2, 9)) if rng.random() >= 0.1 else int(rng.integers(1, 3))
            else:
                shift = -int(rng.integers(1, 4)) if rng.random() >= 0.3 else int(rng.integers(1, 3))
            new = max(4, germ[i, a] + shift)
            if new == germ[i, a]:
                new = germ[i, a] + 1
            som[i, a] = new
    return som, unstable


def stutter_probs(length_bp: int, unit_len: int, prep: str) -> tuple[float, float, float]:
    """(P(-1 unit), P(-2 units), P(+1 unit)) of PCR slippage for a repeat of ``length_bp``."""
    if unit_len == 1:
        base = min(0.35, max(0.0, 0.012 * (length_bp - 6)))
    else:
        base = min(0.20, max(0.0, 0.006 * (length_bp - 8)))
    if prep == "strong":
        base = min(0.5, base * 2.2)
    if prep == "heavy":  # stutter-heavy library (broad, NR21-amplicon-like): 2-unit slips common
        p1 = min(0.3, base * 2.5)
        return p1, 0.5 * p1, 0.5 * p1
    return base, 0.2 * base, 0.25 * base


# ---------------------------------------------------------------------------------------------
# reads

def _revcomp(s: bytes) -> bytes:
    return s.translate(_COMP)[::-1]


def _errors(rng: np.random.Generator, reads: np.ndarray) -> tuple[np.ndarray, bytes]:
    """Apply substitutions in place; return (reads, one quality string for all reads)."""
    n, rl = reads.shape
    pos = np.arange(rl) / (rl - 1)
    perr = 0.001 + 0.004 * pos ** 2
    hit = rng.random((n, rl)) < perr[None, :]
    if hit.any():
        bases = np.frombuffer(b"ACGT", dtype=np.uint8)
        cur = reads[hit]
        shift = rng.integers(1, 4, size=cur.size)
        idx = np.searchsorted(bases, cur)
        idx = np.where(bases[np.minimum(idx, 3)] == cur, idx, 0)
        reads[hit] = bases[(idx + shift) % 4]
    q = np.clip(np.round(-10 * np.log10(perr)), 2, 40).astype(np.uint8) + 33
    return reads, q.tobytes()


def simulate_sample_reads(spec: SampleSpec, loci: list[Locus], ref: dict[str, str],
                          germ: np.ndarray, som: np.ndarray, coverage: float, seed: int,
                          fq1: Path, fq2: Path) -> None:
    """Write paired FASTQs for one sample."""
    rng = np.random.default_rng([seed, int(hashlib.sha256(spec.name.encode()).hexdigest()[:8], 16)])
    rl = READ_LEN
    with open(fq1, "wb") as f1, open(fq2, "wb") as f2:
        for lo in loci:
            seq = ref[lo.chrom]
            left = seq[lo.start - WINDOW:lo.start].encode()
            right = seq[lo.end:lo.end + WINDOW].encode()
            unit = lo.unit.encode()
            # fragments overlap the repeat (reads elsewhere carry no MSI signal): with ~320 bp
            # fragments and 2 x 150 bp reads, about one read per fragment covers the repeat
            n_frag = int(round(coverage))
            fl = np.clip(np.round(rng.normal(320, 50, n_frag)), rl, 600).astype(int)
            tumor_cell = rng.random(n_frag) < (spec.purity if spec.role == "tumor" else 0.0)
            hap = rng.integers(0, 2, n_frag)
            r = rng.random(n_frag)
            strand = rng.integers(0, 2, n_frag)
            r1s = np.zeros((n_frag, rl), dtype=np.uint8)
            r2s = np.zeros((n_frag, rl), dtype=np.uint8)
            names = []
            for k in range(n_frag):
                alle = som if (tumor_cell[k] and spec.msi) else germ
                c = int(alle[lo.idx, hap[k]])
                pm1, pm2, pp1 = stutter_probs(c * len(lo.unit), len(lo.unit), spec.prep)
                d = -1 if r[k] < pm1 else -2 if r[k] < pm1 + pm2 else 1 if r[k] < pm1 + pm2 + pp1 else 0
                c = max(1, c + d)
                hseq = left + unit * c + right
                rs, re_ = WINDOW, WINDOW + c * len(lo.unit)
                f = min(int(fl[k]), len(hseq))
                s = int(rng.integers(max(0, rs - f + 10), min(len(hseq) - f, re_ - 10) + 1))
                frag = hseq[s:s + f]
                a, b = frag[:rl], _revcomp(frag[f - rl:])
                # anchors: read bases before/after the repeat for the forward-placed read
                fa = (rs - s, s + rl - re_)          # read covering [s, s+rl)
                fb = (rs - (s + f - rl), s + f - re_)  # read covering [s+f-rl, s+f)
                if strand[k]:
                    a, b, fa, fb = b, a, fb, fa
                r1s[k] = np.frombuffer(a, dtype=np.uint8)
                r2s[k] = np.frombuffer(b, dtype=np.uint8)
                cell = "T" if (tumor_cell[k] and spec.msi) else "N"
                names.append((c, cell, fa, fb))
            r1s, q = _errors(rng, r1s)
            r2s, _ = _errors(rng, r2s)
            for k in range(n_frag):
                c, cell, fa, fb = names[k]
                # anchors are meaningful only when the read covers the whole repeat
                def anc(t: tuple[int, int]) -> str:
                    return f"{t[0]}:{t[1]}" if t[0] >= 0 and t[1] >= 0 else "-1:-1"
                # one name per pair (mates share it): read 1's anchors, then read 2's
                nm = f"{spec.name}:{lo.idx}:{c}:{cell}:{anc(fa)}:{anc(fb)}:{k}".encode()
                f1.write(b"@" + nm + b"\n" + r1s[k].tobytes() + b"\n+\n" + q + b"\n")
                f2.write(b"@" + nm + b"\n" + r2s[k].tobytes() + b"\n+\n" + q + b"\n")


def simulate_background_reads(spec: SampleSpec, loci: list[Locus], ref: dict[str, str], depth: float,
                              seed: int, f1, f2) -> None:
    """Append uniform fragments at ``depth`` x read depth along every contig to open FASTQ
    handles (see *Background* in the module docstring)."""
    rng = np.random.default_rng([seed, 555, int(hashlib.sha256(spec.name.encode()).hexdigest()[:8], 16)])
    rl = READ_LEN
    k = 0
    for chrom, seq in ref.items():
        n_frag = int(round(depth * len(seq) / (2 * rl)))
        if n_frag == 0 or len(seq) < 600:
            continue
        fl = np.clip(np.round(rng.normal(320, 50, n_frag)), rl, 600).astype(np.int64)
        st = (rng.random(n_frag) * (len(seq) - fl)).astype(np.int64)
        strand = rng.integers(0, 2, n_frag)
        reps = sorted((lo.start, lo.end) for lo in loci if lo.chrom == chrom)
        rs = np.array([r[0] for r in reps] + [len(seq) + 10 ** 9], dtype=np.int64)
        re_ = np.array([r[1] for r in reps] + [len(seq) + 10 ** 9], dtype=np.int64)
        # drop fragments overlapping a selected repeat: first repeat ending after the start
        j = np.searchsorted(re_, st, side="right")
        keep = rs[j] >= st + fl
        st, fl, strand = st[keep], fl[keep], strand[keep]
        bseq = seq.encode()
        r1s = np.zeros((len(st), rl), dtype=np.uint8)
        r2s = np.zeros((len(st), rl), dtype=np.uint8)
        ok = np.ones(len(st), dtype=bool)
        for i in range(len(st)):
            frag = bseq[st[i]:st[i] + fl[i]]
            if b"N" in frag:
                ok[i] = False
                continue
            a, b = frag[:rl], _revcomp(frag[-rl:])
            if strand[i]:
                a, b = b, a
            r1s[i] = np.frombuffer(a, dtype=np.uint8)
            r2s[i] = np.frombuffer(b, dtype=np.uint8)
        r1s, q = _errors(rng, r1s[ok])
        r2s, _ = _errors(rng, r2s[ok])
        for i in range(len(r1s)):
            nm = f"{spec.name}:bg:{k}".encode()
            k += 1
            f1.write(b"@" + nm + b"\n" + r1s[i].tobytes() + b"\n+\n" + q + b"\n")
            f2.write(b"@" + nm + b"\n" + r2s[i].tobytes() + b"\n+\n" + q + b"\n")


def _run(cmd: list[str] | str, **kw) -> None:
    proc = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if proc.returncode != 0:
        raise RuntimeError(f"{cmd if isinstance(cmd, str) else ' '.join(cmd)} failed: {proc.stderr[-2000:]}")


def align(reference: Path, fq1: Path, fq2: Path, sample: str, bam: Path, threads: int = 1) -> None:
    """bwa mem -> samtools sort -> samtools index (written under a temporary name, then renamed)."""
    rg = f"@RG\\tID:{sample}\\tSM:{sample}\\tPL:ILLUMINA"
    tmp = bam.with_suffix(".tmp.bam")
    cmd = (f"bwa mem -v 1 -t {threads} -R '{rg}' {reference} {fq1} {fq2} "
           f"| samtools sort -@ {threads} -o {tmp} - && samtools index {tmp} && "
           f"mv {tmp} {bam} && mv {tmp}.bai {bam}.bai")
    _run(cmd, shell=True)


# ---------------------------------------------------------------------------------------------
# scenarios

def default_samples(purities: list[float], n_normals: int = 6, heavy: bool = False
                    ) -> tuple[dict[str, SampleSpec], dict[str, dict]]:
    s: dict[str, SampleSpec] = {}
    for i in range(1, n_normals + 1):
        s[f"normal_{i}"] = SampleSpec(f"normal_{i}", i, "normal")
    baseline = [f"normal_{i}" for i in range(2, n_normals + 1)]
    s["mss_tumor"] = SampleSpec("mss_tumor", 1, "tumor", purity=0.6)
    s["strong_normal"] = SampleSpec("strong_normal", 20, "normal", prep="strong")
    s["strong_tumor"] = SampleSpec("strong_tumor", 20, "tumor", prep="strong", purity=0.6)
    s["germ_normal"] = SampleSpec("germ_normal", 30, "normal", germline_rate=0.30)
    s["germ_tumor"] = SampleSpec("germ_tumor", 30, "tumor", purity=0.6, germline_rate=0.30)
    s["msi_normal"] = SampleSpec("msi_normal", 40, "normal")
    scen = {
        "mss": {"tumor": "mss_tumor", "normal": "normal_1", "truth": "MSS"},
        "mss_strong_stutter": {"tumor": "strong_tumor", "normal": "strong_normal", "truth": "MSS"},
        "mss_germline": {"tumor": "germ_tumor", "normal": "germ_normal", "truth": "MSS"},
    }
    for p in purities:
        name = f"msi_p{int(round(p * 100)):03d}"
        s[name] = SampleSpec(name, 40, "tumor", msi=True, purity=p)
        scen[name] = {"tumor": name, "normal": "msi_normal", "truth": "MSI-H", "purity": p}
    if heavy:  # stutter-heavy library: an MSS pair and a 10%-purity MSI pair
        s["heavy_normal"] = SampleSpec("heavy_normal", 50, "normal", prep="heavy")
        s["heavy_tumor"] = SampleSpec("heavy_tumor", 50, "tumor", prep="heavy", purity=0.6)
        s["heavy_msi_normal"] = SampleSpec("heavy_msi_normal", 60, "normal", prep="heavy")
        s["heavy_msi_p010"] = SampleSpec("heavy_msi_p010", 60, "tumor", prep="heavy", msi=True, purity=0.1)
        scen["mss_heavy_stutter"] = {"tumor": "heavy_tumor", "normal": "heavy_normal", "truth": "MSS"}
        scen["msi_heavy_p010"] = {"tumor": "heavy_msi_p010", "normal": "heavy_msi_normal", "truth": "MSI-H",
                                  "purity": 0.1}
        for i in range(1, 6):  # tumor-only baseline of the same library prep
            s[f"heavy_base_{i}"] = SampleSpec(f"heavy_base_{i}", 70 + i, "normal", prep="heavy")
    for k, v in scen.items():
        v["baseline"] = [f"heavy_base_{i}" for i in range(1, 6)] if "heavy" in k else baseline
    return s, scen


def _write_loci(loci: list[Locus], ref: dict[str, str], path: Path, bed: Path, flank: int = 10) -> None:
    with open(path, "w") as fh:
        fh.write("##tmbcalc-msi-loci v1\n# simulated loci (benchmarks/msi_simulate.py)\n")
        fh.write("chrom\tstart\tend\tunit\tref_copies\tleft_flank\tright_flank\tname\n")
        for lo in loci:
            seq = ref[lo.chrom]
            fh.write(f"{lo.chrom}\t{lo.start}\t{lo.end}\t{lo.unit}\t{lo.copies}\t"
                     f"{seq[lo.start - flank:lo.start]}\t{seq[lo.end:lo.end + flank]}\tsim{lo.idx}\n")
    with open(bed, "w") as fh:
        for lo in loci:
            fh.write(f"{lo.chrom}\t{lo.start}\t{lo.end}\tsim{lo.idx}\n")


def simulate(reference: str | Path, outdir: str | Path, *, purities: tuple[float, ...] = (1.0, 0.5, 0.2, 0.1),
             n_loci: int = 100, coverage: float = 150.0, seed: int = 7, n_normals: int = 6,
             threads: int = 2, samples: list[str] | None = None, background: float = 0.0,
             spacing: int = MIN_SPACING, heavy: bool = False) -> Simulation:
    """Build (or reuse) the simulated cohort in ``outdir``; see the module docstring.

    ``samples`` restricts which BAMs are built (truth is written for all); ``background``
    (read depth) adds uniform reads along the contigs; ``spacing`` (bp) is the least distance
    between loci."""
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    params = {"reference": str(Path(reference).resolve()), "purities": list(purities), "n_loci": n_loci,
              "coverage": coverage, "seed": seed, "n_normals": n_normals, "version": SIM_VERSION}
    if background:  # only when used: keeps the caches of earlier simulations valid
        params["background"] = background
    if spacing != MIN_SPACING:
        params["spacing"] = spacing
    if heavy:
        params["heavy"] = True
    specs, scen = default_samples(list(purities), n_normals, heavy)
    wanted = list(specs) if samples is None else samples
    manifest_path = outdir / "manifest.json"
    ref_copy = outdir / "ref.fa"
    if manifest_path.exists():
        old = json.loads(manifest_path.read_text())
        if old.get("params") != params:
            raise RuntimeError(f"{outdir} holds a simulation with other parameters; use another --outdir")
    ref = read_fasta(reference)
    rng = np.random.default_rng(seed)
    loci = select_loci(ref, n_loci, rng, spacing)
    if not ref_copy.exists():
        with open(ref_copy.with_suffix(".tmp"), "w") as fh:
            for name, seq in ref.items():
                fh.write(f">{name}\n")
                for i in range(0, len(seq), 60):
                    fh.write(seq[i:i + 60] + "\n")
        _run(["bwa", "index", str(ref_copy.with_suffix(".tmp"))])
        for ext in (".amb", ".ann", ".bwt", ".pac", ".sa"):
            os.replace(str(ref_copy.with_suffix(".tmp")) + ext, str(ref_copy) + ext)
        os.replace(ref_copy.with_suffix(".tmp"), ref_copy)
        _run(["samtools", "faidx", str(ref_copy)])
    loci_tsv, loci_bed, truth_tsv = outdir / "loci.tsv", outdir / "loci.bed", outdir / "truth.tsv"
    _write_loci(loci, ref, loci_tsv, loci_bed)

    germ: dict[int, np.ndarray] = {}
    som: dict[int, tuple[np.ndarray, np.ndarray]] = {}
    for sp in specs.values():
        if sp.individual not in germ:
            germ[sp.individual] = germline_alleles(loci, sp.individual, sp.germline_rate, seed)
            som[sp.individual] = somatic_alleles(loci, germ[sp.individual], seed + sp.individual)
    with open(truth_tsv, "w") as fh:
        fh.write("sample\trole\tindividual\tprep\tpurity\tmsi\tlocus\tchrom\tstart\tend\tunit\tref_copies\t"
                 "germline_a1\tgermline_a2\tsomatic_a1\tsomatic_a2\tunstable\n")
        for sp in specs.values():
            g = germ[sp.individual]
            t, unst = som[sp.individual]
            tumor_msi = sp.role == "tumor" and sp.msi
            for lo in loci:
                i = lo.idx
                sa = t[i] if tumor_msi else g[i]
                fh.write(f"{sp.name}\t{sp.role}\t{sp.individual}\t{sp.prep}\t{sp.purity}\t{int(sp.msi)}\t"
                         f"sim{i}\t{lo.chrom}\t{lo.start}\t{lo.end}\t{lo.unit}\t{lo.copies}\t"
                         f"{g[i, 0]}\t{g[i, 1]}\t{sa[0]}\t{sa[1]}\t"
                         f"{'yes' if tumor_msi and unst[i] else 'no'}\n")

    bams = {n: outdir / f"{n}.bam" for n in specs}

    def build(name: str) -> None:
        if bams[name].exists() and Path(str(bams[name]) + ".bai").exists():
            return
        sp = specs[name]
        t, _ = som[sp.individual]
        fq1, fq2 = outdir / f"{name}_R1.fq", outdir / f"{name}_R2.fq"
        simulate_sample_reads(sp, loci, ref, germ[sp.individual], t, coverage, seed, fq1, fq2)
        if background:
            with open(fq1, "ab") as f1, open(fq2, "ab") as f2:
                simulate_background_reads(sp, loci, ref, background, seed, f1, f2)
        align(ref_copy, fq1, fq2, name, bams[name], threads=1)
        fq1.unlink()
        fq2.unlink()

    todo = [n for n in wanted if n in specs]
    with ThreadPoolExecutor(max_workers=max(1, threads)) as ex:
        list(ex.map(build, todo))
    manifest = {"params": params, "samples": {k: asdict(v) for k, v in specs.items()}, "scenarios": scen,
                "loci": len(loci)}
    manifest_path.write_text(json.dumps(manifest, indent=1))
    return Simulation(outdir, ref_copy, loci_tsv, loci_bed, truth_tsv, loci, specs,
                      {n: bams[n] for n in todo}, scen, params)


def read_truth(path: str | Path) -> dict[str, dict[str, dict]]:
    """truth.tsv -> {sample: {locus_name: row dict}} (numbers converted)."""
    out: dict[str, dict[str, dict]] = {}
    with open(path) as fh:
        head = fh.readline().rstrip("\n").split("\t")
        for line in fh:
            row = dict(zip(head, line.rstrip("\n").split("\t")))
            for k in ("start", "end", "ref_copies", "germline_a1", "germline_a2", "somatic_a1", "somatic_a2"):
                row[k] = int(row[k])
            row["purity"] = float(row["purity"])
            out.setdefault(row["sample"], {})[row["locus"]] = row
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--reference", required=True, help="FASTA (plain/gzip) of the real reference piece")
    ap.add_argument("--outdir", required=True)
    ap.add_argument("--purities", default="1.0,0.5,0.2,0.1")
    ap.add_argument("--loci", type=int, default=100, help="number of loci (default 100)")
    ap.add_argument("--coverage", type=float, default=150.0, help="read depth at loci (default 150)")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--normals", type=int, default=6, help="normals of distinct individuals (default 6)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--background", type=float, default=0.0,
                    help="also tile every contig with reads at this depth (default 0: reads only at loci)")
    ap.add_argument("--spacing", type=int, default=MIN_SPACING,
                    help=f"least distance between loci in bp (default {MIN_SPACING})")
    a = ap.parse_args(argv)
    for tool in ("bwa", "samtools"):
        if shutil.which(tool) is None:
            print(f"msi_simulate: '{tool}' is not installed", file=sys.stderr)
            return 1
    t0 = time.time()
    sim = simulate(a.reference, a.outdir, purities=tuple(float(x) for x in a.purities.split(",")),
                   n_loci=a.loci, coverage=a.coverage, seed=a.seed, n_normals=a.normals, threads=a.threads,
                   background=a.background, spacing=a.spacing)
    print(f"{len(sim.loci)} loci, {len(sim.bams)} BAMs in {sim.outdir} ({time.time() - t0:.1f} s)")
    for k, v in sim.scenarios.items():
        print(f"  {k}: tumor={v['tumor']} normal={v['normal']} truth={v['truth']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
