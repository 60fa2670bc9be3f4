"""Profile kernel vs a pure-Python oracle (pysam, documented rules) and vs simulated truth."""
from __future__ import annotations

import re

import numpy as np
import pysam
import pytest

from tmbcalc.errors import ContigMismatchError, InputError, UsageError
from tmbcalc.msi.loci import LociTable
from tmbcalc.msi.profile import REASONS, profile_bam
from tmbcalc.msi.scan import msi_scan

EXCL = 0xF04


def _cigar_ref_len(cigar: str) -> int:
    return sum(int(n) for n, op in re.findall(r"(\d+)([MIDNSHP=X])", cigar) if op in "MDN=X")


def oracle_profile(bam, loci, k=5, mapq=20, flags=EXCL, window=30, mate_dedup=True):
    """Same rules as docs/msi.md, written independently with pysam objects."""
    n = len(loci)
    hist = np.zeros((n, 2 * window + 1), dtype=np.int64)
    rej = np.zeros((n, 6), dtype=np.int64)
    with pysam.AlignmentFile(str(bam)) as af:
        names = set(af.references)
        for i in range(n):
            chrom = loci.chrom[i]
            if chrom not in names:
                continue
            s, e = int(loci.start[i]), int(loci.end[i])
            a_pos, b_pos = s - k, e + k - 1
            left, right = loci.left_flank[i][-k:], loci.right_flank[i][:k]
            for r in af.fetch(chrom, a_pos, b_pos + 1):
                if r.flag & flags:
                    rej[i, 0] += 1
                    continue
                if r.mapping_quality < mapq:
                    rej[i, 1] += 1
                    continue
                if (mate_dedup and r.is_paired and r.is_read2 and not r.mate_is_unmapped
                        and r.next_reference_id == r.reference_id and r.next_reference_start <= a_pos
                        and r.has_tag("MC")
                        and r.next_reference_start + _cigar_ref_len(r.get_tag("MC")) - 1 >= b_pos):
                    rej[i, 5] += 1
                    continue
                ref2q = {rp: qp for qp, rp in r.get_aligned_pairs(matches_only=True)}
                if a_pos not in ref2q or b_pos not in ref2q:
                    rej[i, 2] += 1
                    continue
                qa, qb = ref2q[a_pos], ref2q[b_pos]
                seq = r.query_sequence
                length = qb - qa + 1 - 2 * k
                if length < 0 or seq[qa:qa + k] != left or seq[qb - k + 1:qb + 1] != right:
                    rej[i, 3] += 1
                    continue
                col = length - (e - s) + window
                if not 0 <= col <= 2 * window:
                    rej[i, 4] += 1
                    continue
                hist[i, col] += 1
    return hist, rej


# ---------------------------------------------------------------------------------------
# Synthetic reference + BAM with known repeat lengths
# ---------------------------------------------------------------------------------------
RNG_SEED = 7
READ_LEN = 100


def _random_seq(rng, n):
    return "".join(rng.choice(list("ACGT"), n))


def build_reference(tmp_path):
    rng = np.random.default_rng(RNG_SEED)
    parts, loci = [], []
    pos = 0
    specs = [("A", 12), ("CA", 8), ("T", 15), ("AGC", 6), ("G", 9)]
    for unit, copies in specs:
        pad = _random_seq(rng, 150)
        # make sure the flank bases beside the repeat do not continue it
        while pad[-1] == unit[-1] or pad[-1] == unit[0]:
            pad = _random_seq(rng, 150)
        parts.append(pad)
        pos += len(pad)
        rep = unit * copies
        parts.append(rep)
        loci.append((pos, pos + len(rep), unit, copies))
        pos += len(rep)
    tail = _random_seq(rng, 150)
    while tail[0] == specs[-1][0][0]:
        tail = _random_seq(rng, 150)
    parts.append(tail)
    seq = "".join(parts)
    fa = tmp_path / "ref.fa"
    fa.write_text(">chrS\n" + "\n".join(seq[i:i + 60] for i in range(0, len(seq), 60)) + "\n")
    pysam.faidx(str(fa))
    return fa, seq


def make_bam(tmp_path, seq, loci, rng, *, n_per_locus=60, name="sim", clean=False):
    """Reads with +/- unit changes placed at random points of the repeat (incl. its edges).

    Returns (bam path, truth dict: read name -> (locus index, true repeat length in bp)).
    """
    header = {"HD": {"VN": "1.6", "SO": "unsorted"}, "SQ": [{"SN": "chrS", "LN": len(seq)}],
              "RG": [{"ID": "rg1", "SM": name}]}
    unsorted = tmp_path / f"{name}.unsorted.bam"
    truth = {}
    with pysam.AlignmentFile(str(unsorted), "wb", header=header) as out:
        rid = 0
        for li in range(len(loci)):
            s, e, unit = int(loci.start[li]), int(loci.end[li]), loci.unit[li]
            u = len(unit)
            copies = (e - s) // u
            for _ in range(n_per_locus):
                delta = int(rng.integers(-3, 4))
                if copies + delta < 1:
                    delta = 0
                # indel point inside or at either edge of the repeat (a deletion removes repeat units only)
                off = int(rng.integers(0, copies + min(delta, 0) + 1)) * u
                P = s + off
                if delta >= 0:
                    hap = seq[:P] + unit * delta + seq[P:]
                else:
                    hap = seq[:P] + seq[P - delta * u:]
                rs = int(rng.integers(max(0, s - 70), s - 8))
                read = hap[rs:rs + READ_LEN]
                left = P - rs
                if delta > 0:
                    cig = [(0, left), (1, delta * u), (0, READ_LEN - left - delta * u)]
                elif delta < 0:
                    cig = [(0, left), (2, -delta * u), (0, READ_LEN - left)]
                else:
                    cig = [(0, READ_LEN)]
                cig = [(op, ln) for op, ln in cig if ln > 0]
                kind = 1.0 if clean else rng.random()
                flag, mapq = 0, 60
                true_len = e - s + delta * u
                if kind < 0.06:
                    flag = 1024
                elif kind < 0.09:
                    flag = 256
                elif kind < 0.11:
                    flag = 2048
                elif kind < 0.13:
                    flag = 512
                elif kind < 0.18:
                    mapq = 5
                elif kind < 0.24:  # soft-clip the last 25 bases (right anchor lost)
                    op, ln = cig[-1]  # trim 25 query bases off the end of the last M
                    if op == 0 and ln > 25:
                        cig = [*cig[:-1], (0, ln - 25), (4, 25)]
                    true_len = None
                elif kind < 0.29 and delta != 0:  # aligner wrote the indel as mismatches
                    cig = [(0, READ_LEN)]
                    true_len = None
                elif kind < 0.33:  # sequencing error in the left anchor
                    q = s - 2 - rs
                    b = read[q]
                    read = read[:q] + ("A" if b != "A" else "C") + read[q + 1:]
                    true_len = None
                a = pysam.AlignedSegment()
                a.query_name = f"r{rid}"
                a.query_sequence = read
                a.flag = flag
                a.reference_id = 0
                a.reference_start = rs
                a.mapping_quality = mapq
                a.cigartuples = cig
                a.query_qualities = pysam.qualitystring_to_array("I" * READ_LEN)
                a.set_tag("RG", "rg1")
                mate = None
                if rng.random() < 0.3:  # a fully overlapping mate (same bases), with or without MC
                    a.flag |= 1 | 64
                    a.next_reference_id, a.next_reference_start = 0, rs
                    mate = pysam.AlignedSegment()
                    mate.query_name, mate.query_sequence = a.query_name, read
                    mate.flag = (a.flag & ~64) | 128
                    mate.reference_id, mate.reference_start, mate.mapping_quality = 0, rs, mapq
                    mate.cigartuples = a.cigartuples
                    mate.query_qualities = a.query_qualities
                    mate.next_reference_id, mate.next_reference_start = 0, rs
                    with_mc = rng.random() < 0.8
                    if with_mc:
                        a.set_tag("MC", a.cigarstring)
                        mate.set_tag("MC", a.cigarstring)
                    out.write(mate)
                out.write(a)
                ref_end = rs + sum(ln for op, ln in cig if op in (0, 2))
                spans = rs <= s - 5 and ref_end >= e + 5
                if true_len is not None and not flag and mapq >= 20 and spans:
                    truth[f"r{rid}"] = (li, true_len)
                    if mate is not None and not with_mc:
                        truth[f"r{rid}/2"] = (li, true_len)
                rid += 1
    bam = tmp_path / f"{name}.bam"
    pysam.sort("-o", str(bam), str(unsorted))
    pysam.index(str(bam))
    return bam, truth


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("msiprof")
    fa, seq = build_reference(tmp)
    loci = msi_scan(fa, min_copies=5, min_homopolymer=8).loci
    assert len(loci) == 5
    rng = np.random.default_rng(11)
    bam, _ = make_bam(tmp, seq, loci, rng)
    clean, truth = make_bam(tmp, seq, loci, rng, name="clean", clean=True, n_per_locus=80)
    return fa, seq, loci, bam, (clean, truth)


def test_kernel_matches_oracle_on_synthetic(synthetic):
    fa, seq, loci, bam, _ = synthetic
    prof = profile_bam(bam, loci)
    hist, rej = oracle_profile(bam, loci)
    assert np.array_equal(prof.hist, hist)
    assert np.array_equal(prof.rejected, rej)
    assert rej[:, 0].sum() > 0 and rej[:, 1].sum() > 0 and rej[:, 2].sum() > 0 and rej[:, 3].sum() > 0
    assert rej[:, 5].sum() > 0
    assert prof.sample == "sim"


def test_measured_lengths_equal_simulated_truth(synthetic):
    fa, seq, loci, _, (bam, truth) = synthetic
    prof = profile_bam(bam, loci)
    assert len(truth) > 300
    want = np.zeros_like(prof.hist)
    for li, length in truth.values():
        want[li, length - int(loci.end[li] - loci.start[li]) + prof.window] += 1
    # every clean read is measured at its true length, wherever the aligner put the indel
    assert np.array_equal(prof.hist, want)
    assert len({d for _, d in truth.values()}) > 5


def test_threads_do_not_change_results(synthetic):
    _, _, loci, bam, _ = synthetic
    one = profile_bam(bam, loci)
    for t in (2, 3, 8):
        other = profile_bam(bam, loci, threads=t)
        assert np.array_equal(one.hist, other.hist) and np.array_equal(one.rejected, other.rejected)


def test_filters_are_configurable(synthetic):
    _, _, loci, bam, _ = synthetic
    lax = profile_bam(bam, loci, mapq=0, exclude_flags=0x4)
    hist, rej = oracle_profile(bam, loci, mapq=0, flags=0x4)
    assert np.array_equal(lax.hist, hist) and np.array_equal(lax.rejected, rej)
    assert lax.reads.sum() > profile_bam(bam, loci).reads.sum()
    both = profile_bam(bam, loci, mate_dedup=False)
    hist2, rej2 = oracle_profile(bam, loci, mate_dedup=False)
    assert np.array_equal(both.hist, hist2) and np.array_equal(both.rejected, rej2)
    assert rej2[:, 5].sum() == 0 and profile_bam(bam, loci).rejected[:, 5].sum() > 0
    k3 = profile_bam(bam, loci, anchor=3)
    assert np.array_equal(k3.hist, oracle_profile(bam, loci, k=3)[0])


def test_cram_needs_reference_and_matches_bam(synthetic, tmp_path):
    fa, _, loci, bam, _ = synthetic
    cram = tmp_path / "sim.cram"
    pysam.view("-C", "-T", str(fa), "-o", str(cram), str(bam), catch_stdout=False)
    pysam.index(str(cram))
    with pytest.raises(InputError, match="CRAM"):
        profile_bam(cram, loci)
    c = profile_bam(cram, loci, reference=fa)
    assert np.array_equal(c.hist, profile_bam(bam, loci).hist)


def test_missing_index_and_contig_mismatch(synthetic, tmp_path):
    _, seq, loci, bam, _ = synthetic
    noidx = tmp_path / "noidx.bam"
    noidx.write_bytes(bam.read_bytes())
    with pytest.raises(InputError, match="samtools index"):
        profile_bam(noidx, loci)
    other = LociTable.from_rows([("chr9", 100, 112, "A", 12, "ACGTACGTAC", "GTCAGTCAGT", "")])
    with pytest.raises(ContigMismatchError, match="chr9"):
        profile_bam(bam, other)
    beyond = LociTable.from_rows([("chrS", len(seq) + 100, len(seq) + 112, "A", 12, "ACGTACGTAC",
                                   "GTCAGTCAGT", "")])
    with pytest.raises(ContigMismatchError, match="beyond the end"):
        profile_bam(bam, beyond)
    with pytest.raises(UsageError):
        profile_bam(bam, loci, anchor=11)


def test_no_reads_at_any_locus_is_an_error(synthetic, tmp_path):
    _, seq, loci, _, _ = synthetic
    header = {"HD": {"VN": "1.6"}, "SQ": [{"SN": "chrS", "LN": len(seq)}]}
    empty = tmp_path / "empty.bam"
    with pysam.AlignmentFile(str(empty), "wb", header=header):
        pass
    pysam.index(str(empty))
    with pytest.raises(InputError, match="no read spans"):
        profile_bam(empty, loci)


def test_real_bam_matches_oracle(shared, tmp_path):
    """NA12878 reads on the hg19 chr20 piece: loci scanned in the BAM's region (low thresholds)."""
    bam = shared / "bam/nucleus/NA12878_small.bam"
    bed = tmp_path / "region.bed"
    bed.write_text("chr20\t9999900\t10002100\n")
    loci = msi_scan(shared / "reference/nucleus_hg19_chr20/ucsc.hg19.chr20.unittest.fasta.gz",
                    footprint=bed, min_homopolymer=5, min_copies=3).loci
    assert len(loci) >= 10
    prof = profile_bam(bam, loci)
    hist, rej = oracle_profile(bam, loci)
    assert np.array_equal(prof.hist, hist)
    assert np.array_equal(prof.rejected, rej)
    assert prof.reads.sum() > 300
    assert REASONS[3] == "anchor_mismatch"


# ---------------------------------------------------------------------------------------
# One multi-region iterator per block of sorted loci: order, overlap, contigs, threads
# ---------------------------------------------------------------------------------------
def _two_contig_bam(tmp_path, bam, seq):
    """The synthetic reads twice: on chrS and, copied, on chrT (same sequence)."""
    header = {"HD": {"VN": "1.6", "SO": "unsorted"},
              "SQ": [{"SN": "chrS", "LN": len(seq)}, {"SN": "chrT", "LN": len(seq)}],
              "RG": [{"ID": "rg1", "SM": "two"}]}
    unsorted = tmp_path / "two.unsorted.bam"
    with pysam.AlignmentFile(str(bam)) as src, \
            pysam.AlignmentFile(str(unsorted), "wb", header=header) as out:
        for r in src:
            out.write(pysam.AlignedSegment.fromstring(r.to_string(), out.header))
            t = pysam.AlignedSegment.fromstring(r.to_string(), out.header)
            t.reference_id = 1
            if t.is_paired:
                t.next_reference_id = 1
            out.write(t)
    two = tmp_path / "two.bam"
    pysam.sort("-o", str(two), str(unsorted))
    pysam.index(str(two))
    return two


def test_unsorted_duplicated_loci_on_two_contigs_match_oracle(synthetic, tmp_path):
    """Loci given out of order, repeated (identical, overlapping windows) and on two contigs:
    each locus still gets exactly the reads a per-locus query gives (pysam oracle)."""
    fa, seq, loci, bam, _ = synthetic
    two = _two_contig_bam(tmp_path, bam, seq)
    idx = np.array([4, 0, 2, 2, 1, 3, 0, 4])
    sub = loci.subset(idx)
    other = loci.subset(np.array([3, 1, 1, 0, 2, 4]))
    other.chrom = np.array(["chrT"] * len(other), dtype=object)
    mixed = LociTable(*(np.concatenate([getattr(other, f)[:3], getattr(sub, f), getattr(other, f)[3:]])
                        for f in ("chrom", "start", "end", "unit", "ref_copies", "left_flank",
                                  "right_flank", "name")))
    hist, rej = oracle_profile(two, mixed)
    assert hist.sum() > 500 and rej[:, 5].sum() > 0
    for threads in (1, 2, 5):
        prof = profile_bam(two, mixed, threads=threads)
        assert np.array_equal(prof.hist, hist) and np.array_equal(prof.rejected, rej)
    # the chrT copies measure what the chrS loci measure
    single = profile_bam(bam, loci)
    assert np.array_equal(hist[:3], single.hist[[3, 1, 1]])


def test_decompression_threads_and_profile_many_do_not_change_results(synthetic):
    from tmbcalc.msi.profile import profile_many

    _, _, loci, bam, (clean, _) = synthetic
    one = profile_bam(bam, loci)
    for io in (1, 2):
        other = profile_bam(bam, loci, io_threads=io, threads=2)
        assert np.array_equal(one.hist, other.hist) and np.array_equal(one.rejected, other.rejected)
    seq = [profile_bam(b, loci) for b in (bam, clean, bam)]
    for t in (1, 2, 4):
        many = profile_many([bam, clean, bam], loci, threads=t)
        assert [m.bam for m in many] == [s.bam for s in seq]
        assert all(np.array_equal(m.hist, s.hist) and np.array_equal(m.rejected, s.rejected)
                   for m, s in zip(many, seq))


def test_profile_many_reports_the_first_failing_file(synthetic, tmp_path):
    from tmbcalc.msi.profile import profile_many

    _, _, loci, bam, _ = synthetic
    missing = tmp_path / "nope.bam"
    with pytest.raises(InputError, match="nope.bam"):
        profile_many([bam, missing, bam], loci, threads=3)


def test_kernel_rejects_an_unsorted_order(synthetic):
    from tmbcalc.ext import load_kernel

    _, _, loci, bam, _ = synthetic
    kern = load_kernel("_msiprofile")
    n = len(loci)
    hist = np.zeros((n, 61), dtype=np.int32)
    rej = np.zeros((n, 6), dtype=np.int32)
    codes = np.ones((n, 5), dtype=np.uint8)
    tid = np.zeros(n, dtype=np.int32)
    with pytest.raises(ValueError, match="sort"):
        kern.profile_range(str(bam).encode(), b"", tid, loci.start.astype(np.int64), loci.end.astype(np.int64),
                           codes, codes, np.arange(n, dtype=np.int64)[::-1].copy(), 0, n, 20, 0xF04, 30,
                           hist, rej)


# ---------------------------------------------------------------------------------------
# The libdeflate BAM reader (default for BAM) against htslib's iterator
# ---------------------------------------------------------------------------------------
def _kernel_counts(bam, loci, fast, k=5, spec=None):
    """hist, rejected and reads returned by the kernel at all loci, with or without the
    libdeflate reader; ``spec`` is the path handed to the kernel (default: ``bam``)."""
    from tmbcalc.ext import load_kernel
    from tmbcalc.msi.profile import anchor_codes, map_loci_to_file, open_alignment

    kern = load_kernel("_msiprofile")
    _, names, lengths = open_alignment(bam, None)
    tid, _ = map_loci_to_file(loci, names, lengths, str(bam))
    start, end = loci.start.astype(np.int64), loci.end.astype(np.int64)
    order = np.lexsort((start, tid)).astype(np.int64)
    order = np.ascontiguousarray(order[tid[order] >= 0])
    hist = np.zeros((len(loci), 61), dtype=np.int32)
    rej = np.zeros((len(loci), 6), dtype=np.int32)
    n = kern.profile_range(str(spec or bam).encode(), b"", tid, start, end,
                           anchor_codes(loci.left_flank, k, "left"), anchor_codes(loci.right_flank, k, "right"),
                           order, 0, len(order), 20, EXCL, 30, hist, rej, True, 0, fast)
    return hist, rej, n


def test_fast_reader_equals_htslib_iterator(synthetic, shared, tmp_path):
    from tmbcalc.ext import load_kernel

    if not load_kernel("_msiprofile").FAST_BAM_AVAILABLE:
        pytest.skip("libdeflate not installed")
    _, seq, loci, bam, _ = synthetic
    two = _two_contig_bam(tmp_path, bam, seq)
    mixed = LociTable(*(np.concatenate([getattr(loci, f), getattr(loci, f)])
                        for f in ("chrom", "start", "end", "unit", "ref_copies", "left_flank",
                                  "right_flank", "name")))
    mixed.chrom = np.array(["chrS"] * len(loci) + ["chrT"] * len(loci), dtype=object)
    real = msi_scan(shared / "reference/nucleus_hg19_chr20/ucsc.hg19.chr20.unittest.fasta.gz",
                    footprint=_region_bed(tmp_path), min_homopolymer=5, min_copies=3).loci
    for path, table in ((bam, loci), (two, mixed), (shared / "bam/nucleus/NA12878_small.bam", real)):
        fast = _kernel_counts(path, table, True)
        slow = _kernel_counts(path, table, False)
        assert fast[2] == slow[2] > 0  # the same reads overlap a window
        assert np.array_equal(fast[0], slow[0]) and np.array_equal(fast[1], slow[1])


def _region_bed(tmp_path):
    bed = tmp_path / "region.bed"
    bed.write_text("chr20\t9999900\t10002100\n")
    return bed


def test_fast_reader_reports_a_corrupt_block(synthetic, tmp_path):
    """A flipped byte inside a compressed block fails the CRC/inflate check: one-line error."""
    _, _, loci, bam, _ = synthetic
    data = bytearray(bam.read_bytes())
    bad = tmp_path / "bad.bam"
    # past the header block(s): the middle of the file is read data
    data[len(data) // 2] ^= 0xFF
    bad.write_bytes(bytes(data))
    (tmp_path / "bad.bam.bai").write_bytes((bam.parent / (bam.name + ".bai")).read_bytes())
    with pytest.raises(InputError, match="truncated or corrupt"):
        profile_bam(bad, loci)


def test_profile_loads_neither_pysam_nor_its_python_modules(synthetic):
    """The kernel declares htslib itself: profiling a BAM must not import pysam."""
    import subprocess
    import sys

    _, _, _, bam, _ = synthetic
    code = ("import sys\nfrom tmbcalc.msi.loci import LociTable\n"
            "from tmbcalc.msi.profile import profile_bam\n"
            "t = LociTable.from_rows([('chrS', 100, 112, 'A', 12, 'ACGTA', 'GTCAG', '')])\n"
            f"p = profile_bam({str(bam)!r}, t, require_reads=False)\n"
            "print('pysam' in sys.modules, p.sample)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split()[0] == "False"


def test_cg_tag_cigar_falls_back_to_htslib(tmp_path):
    """A read with > 65535 CIGAR operations is stored with a placeholder CIGAR and the real one
    in a CG tag; the kernel must then count with htslib (which restores it), not twice."""
    rng = np.random.default_rng(3)
    seq = "".join(rng.choice(list("ACGT"), 100_000))
    seq = seq[:50_000] + "C" + "A" * 12 + "C" + seq[50_014:]
    fa = tmp_path / "long.fa"
    fa.write_text(">chrL\n" + "\n".join(seq[i:i + 60] for i in range(0, len(seq), 60)) + "\n")
    header = {"HD": {"VN": "1.6", "SO": "coordinate"}, "SQ": [{"SN": "chrL", "LN": len(seq)}]}
    bam = tmp_path / "long.bam"
    with pysam.AlignmentFile(str(bam), "wb", header=header) as out:
        long = pysam.AlignedSegment(out.header)
        long.query_name, long.reference_id, long.reference_start, long.mapping_quality = "long", 0, 30_000, 60
        long.cigartuples = [(0, 1), (1, 1)] * 35_000  # 70,000 operations, 35,000 bp of reference
        long.query_sequence = "A" * 70_000
        normal = pysam.AlignedSegment(out.header)
        normal.query_name, normal.reference_id, normal.reference_start, normal.mapping_quality = "ok", 0, 49_940, 60
        normal.cigartuples = [(0, 150)]
        normal.query_sequence = seq[49_940:50_090]
        out.write(long)
        out.write(normal)
    pysam.index(str(bam))
    loci = LociTable.from_rows([("chrL", 50_001, 50_013, "A", 12, seq[49_991:50_001], seq[50_013:50_023], "")])
    fast = _kernel_counts(bam, loci, True)
    slow = _kernel_counts(bam, loci, False)
    assert np.array_equal(fast[0], slow[0]) and np.array_equal(fast[1], slow[1]) and fast[2] == slow[2] == 2
    assert fast[0][0, 30] == 1 and fast[0].sum() == 1  # the 150M read, at the reference length
    assert fast[1].sum() == 1  # the long read: seen once, rejected


def test_bam_cut_at_a_block_boundary_is_an_error(synthetic, tmp_path):
    """A BAM that lost its last blocks (and the BGZF end-of-file marker) is refused, on both
    read paths, instead of giving partial counts."""
    _, _, loci, bam, _ = synthetic
    data = bam.read_bytes()
    cut = tmp_path / "cut.bam"
    cut.write_bytes(data[:-28])  # the 28-byte empty EOF block
    (tmp_path / "cut.bam.bai").write_bytes((bam.parent / (bam.name + ".bai")).read_bytes())
    with pytest.raises(InputError, match="truncated"):
        profile_bam(cut, loci)
    with pytest.raises(InputError, match="truncated"):
        profile_bam(cut, loci, io_threads=1)


def test_read_without_sequence_is_an_anchor_mismatch(tmp_path):
    """SEQ '*' (e.g. a secondary alignment kept with --exclude-flags 0): counted as
    anchor_mismatch on both read paths, never measured from bytes that are not there."""
    rng = np.random.default_rng(4)
    seq = "".join(rng.choice(list("ACGT"), 2_000))
    seq = seq[:1_000] + "C" + "A" * 12 + "C" + seq[1_014:]
    header = {"HD": {"VN": "1.6", "SO": "coordinate"}, "SQ": [{"SN": "chrQ", "LN": len(seq)}]}
    bam = tmp_path / "noseq.bam"
    with pysam.AlignmentFile(str(bam), "wb", header=header) as out:
        for name, s in (("noseq", None), ("full", seq[940:1_090])):
            a = pysam.AlignedSegment(out.header)
            a.query_name, a.reference_id, a.reference_start, a.mapping_quality = name, 0, 940, 60
            a.cigartuples = [(0, 150)]
            if s is not None:
                a.query_sequence = s
            out.write(a)
    pysam.index(str(bam))
    loci = LociTable.from_rows([("chrQ", 1_001, 1_013, "A", 12, seq[991:1_001], seq[1_013:1_023], "")])
    for fast in (True, False):
        hist, rej, n = _kernel_counts(bam, loci, fast)
        assert n == 2 and hist[0, 30] == 1 and hist.sum() == 1
        assert rej[0].tolist() == [0, 0, 0, 1, 0, 0]


def _locus_bam(tmp_path, name, records):
    """Reference with a 12-A repeat at [1001, 1013) on chrQ, a BAM of ``records`` (name, pos,
    cigar or None, sequence) and the locus."""
    rng = np.random.default_rng(6)
    seq = "".join(rng.choice(list("ACGT"), 2_000))
    seq = seq[:1_000] + "C" + "A" * 12 + "C" + seq[1_014:]
    header = {"HD": {"VN": "1.6", "SO": "coordinate"}, "SQ": [{"SN": "chrQ", "LN": len(seq)}]}
    bam = tmp_path / name
    with pysam.AlignmentFile(str(bam), "wb", header=header) as out:
        for qname, pos, cigar, s in records(seq):
            a = pysam.AlignedSegment(out.header)
            a.query_name, a.reference_id, a.reference_start, a.mapping_quality = qname, 0, pos, 60
            if cigar is not None:
                a.cigartuples = cigar
            a.query_sequence = s
            out.write(a)
    pysam.index(str(bam))
    loci = LociTable.from_rows([("chrQ", 1_001, 1_013, "A", 12, seq[991:1_001], seq[1_013:1_023], "")])
    return bam, loci, seq


def test_mapped_read_with_cigar_star_is_read_on_both_paths(tmp_path):
    """CIGAR '*' on a mapped read with a sequence is valid SAM (htslib skips the CIGAR/SEQ length
    check without a CIGAR): the fast reader must not call the BAM corrupt.  The read covers one
    base, so it does not span the locus."""
    bam, loci, _ = _locus_bam(tmp_path, "star.bam", lambda seq: [("full", 940, [(0, 150)], seq[940:1_090]),
                                                                 ("star", 1_005, None, seq[940:1_090])])
    assert pysam.view("-c", str(bam), "chrQ:997-1018").strip() == "2"  # both overlap the window
    for fast in (True, False):
        hist, rej, n = _kernel_counts(bam, loci, fast)
        assert n == 2 and hist[0, 30] == 1 and hist.sum() == 1
        assert rej[0].tolist() == [0, 0, 1, 0, 0, 0]


def _bgzf_block(data: bytes) -> bytes:
    """One BGZF block (gzip member with the BC extra field) holding ``data``."""
    import struct
    import zlib

    comp = zlib.compressobj(6, zlib.DEFLATED, -15)
    body = comp.compress(data) + comp.flush()
    head = b"\x1f\x8b\x08\x04\0\0\0\0\0\xff" + struct.pack("<HccHH", 6, b"B", b"C", 2, 25 + len(body))
    return head + body + struct.pack("<II", zlib.crc32(data), len(data))


def _raw_bam(path, seq, records):
    """BAM written byte by byte (header block, one block of records, EOF block) for records the
    pysam writer refuses to produce: (read name bytes as stored, pos, mate tid) of 150M reads."""
    import struct

    nt = {"A": 1, "C": 2, "G": 4, "T": 8}
    recs = b""
    for qname, pos, mtid in records:
        s = seq[pos:pos + 150]
        packed = bytes(nt[s[i]] << 4 | nt[s[i + 1]] for i in range(0, 150, 2))
        body = (struct.pack("<iiBBHHHiiii", 0, pos, len(qname), 60, 4680, 1, 0, 150, mtid, -1, 0)
                + qname + struct.pack("<I", 150 << 4) + packed + b"\x1e" * 150)
        recs += struct.pack("<i", len(body)) + body
    text = b"@HD\tVN:1.6\tSO:coordinate\n@SQ\tSN:chrQ\tLN:2000\n"
    head = (b"BAM\1" + struct.pack("<i", len(text)) + text + struct.pack("<ii", 1, 5) + b"chrQ\0"
            + struct.pack("<i", 2000))
    path.write_bytes(_bgzf_block(head) + _bgzf_block(recs) + _bgzf_block(b""))
    return path


def test_read_name_without_nul_is_repaired_as_htslib_does(tmp_path):
    """A BAM record whose read name lacks the terminating NUL: htslib repairs it, so the fast
    reader hands the block to htslib instead of refusing the file; 3 reads x 150M spanning the
    repeat, all at the reference length."""
    _, loci, seq = _locus_bam(tmp_path, "ref.bam", lambda seq: [])
    raw = _raw_bam(tmp_path / "nonul.bam", seq, [(b"a\0", 940, -1), (b"nonul", 941, -1), (b"c\0", 942, -1)])
    pysam.index(str(raw))
    for fast in (True, False):
        hist, rej, n = _kernel_counts(raw, loci, fast)
        assert n == 3 and hist[0, 30] == 3 and hist.sum() == 3 and rej.sum() == 0


def test_mate_contig_outside_the_header_is_an_error_on_both_paths(tmp_path):
    """A record naming a mate contig the header does not have is refused by htslib (and by
    'samtools view'); the fast reader must refuse it too instead of counting."""
    _, loci, seq = _locus_bam(tmp_path, "ref.bam", lambda seq: [])
    good = _raw_bam(tmp_path / "good.bam", seq, [(b"a\0", 940, -1), (b"b\0", 941, 0)])
    pysam.index(str(good))
    bad = _raw_bam(tmp_path / "bad.bam", seq, [(b"a\0", 940, -1), (b"b\0", 941, 7)])
    (tmp_path / "bad.bam.bai").write_bytes((tmp_path / "good.bam.bai").read_bytes())  # same layout
    with pytest.raises(pysam.utils.SamtoolsError):
        pysam.view("-c", str(bad))
    assert _kernel_counts(good, loci, True)[2] == 2
    for fast in (True, False):
        with pytest.raises(OSError, match="truncated or corrupt"):
            _kernel_counts(bad, loci, fast)


def test_path_only_htslib_opens_falls_back(tmp_path):
    """'file.bam##idx##other.bai' names the index explicitly; open(2) cannot open that path, so
    the kernel must read it with htslib rather than fail."""
    bam, loci, seq = _locus_bam(tmp_path, "idx.bam", lambda seq: [(f"r{i}", 930 + i, [(0, 150)],
                                                                   seq[930 + i:1_080 + i]) for i in range(4)])
    other = tmp_path / "elsewhere.bai"
    other.write_bytes((tmp_path / "idx.bam.bai").read_bytes())
    spec = tmp_path / f"idx.bam##idx##{other}"
    for fast in (True, False):
        hist, rej, n = _kernel_counts(bam, loci, fast, spec=spec)
        assert n == 4 and hist[0, 30] == 4 and rej.sum() == 0


def test_contig_name_that_is_not_utf8_is_a_one_line_error(tmp_path):
    """A Latin-1 contig name (byte 0xE9) in the BAM header: InputError naming the file, not a
    UnicodeDecodeError traceback."""
    import struct

    from tmbcalc.msi.profile import open_alignment

    text = b"@HD\tVN:1.6\tSO:coordinate\n@SQ\tSN:chr\xe9\tLN:2000\n"
    head = (b"BAM\1" + struct.pack("<i", len(text)) + text + struct.pack("<ii", 1, 5) + b"chr\xe9\0"
            + struct.pack("<i", 2000))
    bam = tmp_path / "latin.bam"
    bam.write_bytes(_bgzf_block(head) + _bgzf_block(b""))
    pysam.index(str(bam))
    with pytest.raises(InputError, match="latin.bam: .*not UTF-8"):
        open_alignment(bam, None)
