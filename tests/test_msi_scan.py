"""msi scan vs an independent pure-Python regex oracle, on real reference pieces."""
from __future__ import annotations

import gzip
import re
import shutil

import pysam
import pytest

from tests.conftest import run_cli, run_tool
from tmbcalc.errors import ContigMismatchError, InputError
from tmbcalc.msi.loci import read_loci
from tmbcalc.msi.scan import msi_scan, scan_sequence

CHR3 = "reference/dndscv_grch37_chr3_segment/chr3_segment.fa"
CHR20 = "reference/nucleus_hg19_chr20/ucsc.hg19.chr20.unittest.fasta.gz"
REAL20 = (9_995_000, 11_095_000)  # the only non-N part of the chr20 test FASTA


def oracle(seq: str, *, min_homo=8, max_homo=50, min_copies=5, max_len=60, max_unit=6, flank=10):
    """Independent implementation of the documented scan rules (regex + sets)."""
    s = seq.upper()
    cands = []  # (start, span, unit_len)
    for p in range(1, max_unit + 1):
        for m in re.finditer(r"(?=(([ACGT]{%d})\2+))" % p, s):
            i = m.start()
            run = m.group(1)
            if i > 0 and s[i - 1] in "ACGT" and s[i - 1] == s[i - 1 + p]:
                continue  # not the start of a maximal run
            unit = run[:p]
            if any(p % d == 0 and unit[:d] * (p // d) == unit for d in range(1, p)):
                continue  # not a minimal unit
            copies = len(run) // p
            if (p == 1 and len(run) < min_homo) or (p > 1 and copies < min_copies):
                continue
            cands.append((i, copies * p, p))
    taken: set[int] = set()
    kept = []
    for st, span, p in sorted(cands, key=lambda c: (-c[1], c[2], c[0])):
        if any(x in taken for x in range(st, st + span)):
            continue
        taken.update(range(st, st + span))
        kept.append((st, span, p))
    out = set()
    for st, span, p in kept:
        if span > (max_homo if p == 1 else max_len):
            continue
        if st - flank < 0 or st + span + flank > len(s):
            continue
        lf, rf = s[st - flank:st], s[st + span:st + span + flank]
        if re.search("[^ACGT]", lf + rf):
            continue
        out.add((st, st + span, s[st:st + p], span // p, lf, rf))
    return out


def loci_set(table, offset=0):
    return {(int(table.start[i]) - offset, int(table.end[i]) - offset, table.unit[i], int(table.ref_copies[i]),
             table.left_flank[i], table.right_flank[i]) for i in range(len(table))}


def test_scan_chr3_segment_matches_oracle(shared, tmp_path):
    ref = shared / CHR3
    res = msi_scan(ref)
    res.write(tmp_path / "loci.tsv")
    seq = pysam.FastaFile(str(ref))
    name = seq.references[0]
    want = oracle(seq.fetch(name))
    assert len(want) > 100
    assert loci_set(res.loci) == want
    # the written file reads back identically and keeps the reference's contig spelling
    back = read_loci(tmp_path / "loci.tsv")
    assert loci_set(back) == want and set(back.chrom) == {name}


def test_scan_nondefault_thresholds_match_oracle(shared):
    fa = pysam.FastaFile(str(shared / CHR3))
    seq = fa.fetch(fa.references[0])
    kw = dict(min_homopolymer=5, max_homopolymer=20, min_copies=3, max_repeat_length=30, max_unit=4, flank=7)
    s, c, u = scan_sequence(seq.encode(), **kw)
    got = {(int(a), int(a + cc * uu)) for a, cc, uu in zip(s, c, u)}
    want = oracle(seq, min_homo=5, max_homo=20, min_copies=3, max_len=30, max_unit=4, flank=7)
    assert got == {(w[0], w[1]) for w in want}


def test_scan_chr20_real_region_matches_oracle(shared):
    ref = shared / CHR20
    res = msi_scan(ref)
    fa = pysam.FastaFile(str(ref))
    a, b = REAL20
    sub = fa.fetch("chr20", a, b)
    margin = 200
    want = {w for w in oracle(sub) if w[0] >= margin and w[1] <= len(sub) - margin}
    got = {g for g in loci_set(res.loci, offset=a) if g[0] >= margin and g[1] <= len(sub) - margin}
    assert len(want) > 300
    assert got == want
    # nothing reported in the N part: every locus lies in the real region
    assert ((res.loci.start >= a) & (res.loci.end <= b)).all()


def test_plain_gzip_bgzip_give_same_loci(shared, tmp_path):
    src = shared / CHR3
    plain = tmp_path / "ref.fa"
    shutil.copy(src, plain)  # no .fai: streamed
    gz = tmp_path / "ref.fa.gz"
    with open(src, "rb") as fi, gzip.open(gz, "wb") as fo:
        fo.write(fi.read())
    bgz = tmp_path / "ref.bgz.fa.gz"
    pysam.tabix_compress(str(src), str(bgz))
    run_tool("samtools", "faidx", str(bgz))
    sets = [loci_set(msi_scan(p).loci) for p in (src, plain, gz, bgz)]
    assert sets[0] == sets[1] == sets[2] == sets[3]
    assert not (tmp_path / "ref.fa.fai").exists()  # never writes an index beside the input


def test_footprint_keeps_repeats_fully_inside(shared, tmp_path):
    ref = shared / CHR3
    full = msi_scan(ref).loci
    name = full.chrom[0]
    # footprint: one interval cutting through a locus, one covering two loci exactly
    i, j = 10, 40
    bed = tmp_path / "fp.bed"
    bed.write_text(f"{name}\t{full.start[i] + 1}\t{full.end[i] + 5}\n"
                   f"{name}\t{full.start[j]}\t{full.end[j + 1]}\n")
    got = msi_scan(ref, footprint=bed).loci
    inside = {(int(full.start[k]), int(full.end[k])) for k in range(len(full))
              if full.start[k] >= full.start[j] and full.end[k] <= full.end[j + 1]}
    assert {(int(s), int(e)) for s, e in zip(got.start, got.end)} == inside
    assert (int(full.start[i]), int(full.end[i])) not in inside


def test_footprint_on_other_contigs_is_refused(shared, tmp_path):
    bed = tmp_path / "fp.bed"
    bed.write_text("7\t100\t200\n")
    with pytest.raises(ContigMismatchError):
        msi_scan(shared / CHR3, footprint=bed)


def test_n_runs_and_flanks(tmp_path):
    flank = "GCTTGCAGTC"
    seq = ("GATC" + flank + "A" * 12 + flank + "NNNNN" + "C" * 9 + "TGCA" + "N" * 20 + "GATC"
           + flank[:5] + "N" + flank[6:] + "T" * 10 + flank + "TG" * 6 + "NNNN")
    fa = tmp_path / "t.fa"
    fa.write_text(">t\n" + "\n".join(seq[k:k + 60] for k in range(0, len(seq), 60)) + "\n")
    got = msi_scan(fa, flank=10).loci
    # A12 kept; C9 rejected (N in left flank); T10 rejected (N in its left flank);
    # (TG)6 rejected (right flank runs into N / contig end); no repeat of N.
    assert [(u, int(c)) for u, c in zip(got.unit, got.ref_copies)] == [("A", 12)]
    assert got.left_flank[0] == flank and got.right_flank[0] == flank
    # contig ends: a homopolymer at the very start has no left flank
    fa2 = tmp_path / "u.fa"
    fa2.write_text(">u\n" + "A" * 15 + flank + "\n")
    assert len(msi_scan(fa2).loci) == 0


def test_minimal_unit_reported_once(tmp_path):
    flank_l, flank_r = "GCTTGCAGTG", "CGGACTTGAC"
    seq = flank_l + "AT" * 10 + flank_r + flank_l + "AAC" * 6 + flank_r
    fa = tmp_path / "m.fa"
    fa.write_text(">m\n" + seq + "\n")
    got = msi_scan(fa).loci
    assert sorted(zip(got.unit, got.ref_copies.tolist())) == [("AAC", 6), ("AT", 10)]


def test_cli_scan_bad_inputs(tmp_path, shared):
    out = tmp_path / "x.loci"
    r = run_cli("msi", "scan", "--reference", str(tmp_path / "missing.fa"), "-o", str(out))
    assert r.returncode == 1 and r.stderr.startswith("tmbcalc: error:") and len(r.stderr.strip().splitlines()) == 1
    assert not out.exists()
    bad = tmp_path / "bad.fa"
    bad.write_text("ACGT\n>x\nACGT\n")
    r = run_cli("msi", "scan", "--reference", str(bad), "-o", str(out))
    assert r.returncode == 1 and "line 1" in r.stderr and not out.exists()
    r = run_cli("msi", "scan", "--reference", str(shared / CHR3), "--min-repeat-copies", "1", "-o", str(out))
    assert r.returncode == 2 and not out.exists()
    r = run_cli("msi", "scan", "--reference", str(shared / CHR3), "-o", str(out) + ".gz")
    assert r.returncode == 0, r.stderr
    assert len(read_loci(str(out) + ".gz")) > 100


def test_bad_fasta_gzip_truncated(tmp_path, shared):
    data = gzip.compress((shared / CHR3).read_bytes())
    t = tmp_path / "trunc.fa.gz"
    t.write_bytes(data[: len(data) // 2])
    with pytest.raises(InputError):
        msi_scan(t)
