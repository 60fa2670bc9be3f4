"""Small read simulator for MSI unit tests: a random reference with many repeats and BAMs whose
repeat lengths follow given per-locus distributions (indels written in the CIGAR at random
points of the repeat).  Kept tiny on purpose; the full simulator lives elsewhere."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pysam

READ_LEN = 100


def build_reference(path: Path, n_loci: int, seed: int = 1, units=("A", "T", "CA", "G", "AGC")) -> str:
    rng = np.random.default_rng(seed)
    parts = []
    for i in range(n_loci):
        unit = units[i % len(units)]
        copies = 12 + (i % 7) if len(unit) == 1 else 7 + (i % 4)
        prev = parts[-1][0] if parts else ""
        while True:  # the pad must neither extend this repeat nor the previous one
            pad = "".join(rng.choice(list("ACGT"), 160))
            if pad[-1] not in (unit[0], unit[-1]) and pad[0] != prev:
                break
        parts.append(pad)
        parts.append(unit * copies)
    parts.append("".join(rng.choice(list("ACGT"), 160)))
    seq = "".join(parts)
    path.write_text(">chrS\n" + "\n".join(seq[i:i + 60] for i in range(0, len(seq), 60)) + "\n")
    pysam.faidx(str(path))
    return seq


def write_bam(path: Path, seq: str, loci, dists, depth: int, seed: int, sample: str = "s") -> Path:
    """``dists[i]`` = dict {delta_units: probability} for locus i; ``depth`` reads per locus."""
    rng = np.random.default_rng(seed)
    header = {"HD": {"VN": "1.6"}, "SQ": [{"SN": "chrS", "LN": len(seq)}], "RG": [{"ID": "1", "SM": sample}]}
    tmp = path.with_suffix(".unsorted.bam")
    rid = 0
    with pysam.AlignmentFile(str(tmp), "wb", header=header) as out:
        for i in range(len(loci)):
            s, e, unit = int(loci.start[i]), int(loci.end[i]), loci.unit[i]
            u = len(unit)
            copies = (e - s) // u
            deltas = list(dists[i].keys())
            probs = np.array([dists[i][d] for d in deltas], dtype=float)
            draws = rng.choice(len(deltas), size=depth, p=probs / probs.sum())
            for j in draws:
                delta = int(deltas[j])
                off = int(rng.integers(0, copies + min(delta, 0) + 1)) * u
                P = s + off
                hap = seq[:P] + unit * delta + seq[P:] if delta >= 0 else seq[:P] + seq[P - delta * u:]
                rs = int(rng.integers(s - 40, s - 10))
                read = hap[rs:rs + READ_LEN]
                left = P - rs
                if delta > 0:
                    cig = [(0, left), (1, delta * u), (0, READ_LEN - left - delta * u)]
                elif delta < 0:
                    cig = [(0, left), (2, -delta * u), (0, READ_LEN - left)]
                else:
                    cig = [(0, READ_LEN)]
                a = pysam.AlignedSegment()
                a.query_name = f"r{rid}"
                a.query_sequence = read
                a.flag = 0
                a.reference_id = 0
                a.reference_start = rs
                a.mapping_quality = 60
                a.cigartuples = [(op, ln) for op, ln in cig if ln > 0]
                a.query_qualities = pysam.qualitystring_to_array("I" * READ_LEN)
                out.write(a)
                rid += 1
    pysam.sort("-o", str(path), str(tmp))
    pysam.index(str(path))
    tmp.unlink()
    return path


def mix(a: dict, b: dict, frac_b: float) -> dict:
    keys = set(a) | set(b)
    return {k: (1 - frac_b) * a.get(k, 0.0) + frac_b * b.get(k, 0.0) for k in keys}
