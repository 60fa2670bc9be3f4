"""Callable footprint / read-depth kernel.

Expectations come from (a) mosdepth run on the same BAM with the equivalent options, (b) a slow
pure-Python oracle below (pysam reads + explicit per-base counting from the CIGAR), and
(c) values worked out by hand for a few constructed reads.
"""
from __future__ import annotations

import gzip
import subprocess
from pathlib import Path

import numpy as np
import pysam
import pytest

from tests.conftest import need_tool
from tmbcalc.callable.api import compute_callable
from tmbcalc.errors import ContigMismatchError, InputError, UsageError
from tmbcalc.io.bed import read_bed_records
from tmbcalc.regions import RegionSet

BAM = "bam"
REAL_BAMS = [
    "exomedepth/minimum_1_25630000_25650000.bam",
    "vcfanno_chm1/ex.bam",
    "ghga_seqc2_hcc1395/seqc2_somatic_calling/WES_LL_T_1_test.bam",
    "ghga_seqc2_hcc1395/seqc2_somatic_calling/WES_LL_N_1_test.bam",
    "ghga_seqc2_hcc1395/seq2_testdata_snv/WES_LL_T_1_test.bam",
    "ghga_seqc2_hcc1395/seq2_testdata_snv/WES_LL_N_1_test.bam",
    "nucleus/NA12878_small.bam",
    "strelka_demo/NA12891_demo20.bam",
    "strelka_demo/NA12892_demo20.bam",
    "strelka_demo/NA12878_chrM_200-200.bam",
]


def kernel():
    from tmbcalc.ext import load_kernel

    return load_kernel("_depth")


# ------------------------------------------------------------------------------------------
# independent references

def oracle_depth(bam: str | Path, contig: str, lo: int, hi: int, *, mapq: int = 0, flags: int = 1796,
                 overlap: str = "fragment", count_del: bool = False) -> np.ndarray:
    """Per-base depth on [lo, hi) by explicit counting.  ``overlap='fragment'``: a base covered
    by both mates (one read 1 + one read 2) of a properly paired, non-supplementary fragment on
    one contig counts once; a record present twice in the file is not a mate and counts twice."""
    depth = np.zeros(hi - lo, dtype=np.int64)
    frags: dict[str, list[tuple[bool, set[int]]]] = {}

    def add(positions):
        for p in positions:
            if lo <= p < hi:
                depth[p - lo] += 1

    with pysam.AlignmentFile(str(bam)) as f:
        for r in f.fetch(contig):
            if r.flag & flags or r.mapping_quality < mapq:
                continue
            cov: set[int] = set()
            p = r.reference_start
            for op, ln in r.cigartuples:
                if op in (0, 7, 8) or (op == 2 and count_del):
                    cov.update(range(p, p + ln))
                if op in (0, 2, 3, 7, 8):
                    p += ln
            if overlap == "fragment" and r.is_proper_pair and not r.is_supplementary \
                    and r.next_reference_id == r.reference_id:
                frags.setdefault(r.query_name, []).append((r.is_read1, cov))
            else:
                add(cov)
    for members in frags.values():
        if len(members) == 2 and members[0][0] != members[1][0]:
            add(members[0][1] | members[1][1])
        else:
            for _, cov in members:
                add(cov)
    return depth


def mosdepth_per_base(bam: str | Path, tmp: Path, *, mapq: int = 0, flags: int = 1796,
                      chrom: str | None = None) -> dict[str, list]:
    need_tool("mosdepth")
    prefix = tmp / "md"
    subprocess.run(["mosdepth", "-F", str(flags), "-Q", str(mapq), *(["-c", chrom] if chrom else []),
                    str(prefix), str(bam)], check=True, capture_output=True)
    out: dict[str, list] = {}
    with gzip.open(f"{prefix}.per-base.bed.gz", "rt") as fh:
        for line in fh:
            c, s, e, d = line.split("\t")
            out.setdefault(c, []).append((int(s), int(e), int(d)))
    return out


def expand(runs: list, lo: int, hi: int) -> np.ndarray:
    arr = np.zeros(hi - lo, dtype=np.int64)
    for s, e, d in runs:
        s, e = max(s, lo), min(e, hi)
        if s < e:
            arr[s - lo:e - lo] = d
    return arr


def kdepth(bam, tid, intervals, *, mapq=0, flags=1796, mode=1, count_del=False):
    """Kernel depth; the libdeflate BAM reader and the htslib iterator path must agree."""
    s = np.array([a for a, _ in intervals], dtype=np.int64)
    e = np.array([b for _, b in intervals], dtype=np.int64)
    out = []
    for fast in (True, False):
        r = kernel().DepthReader(str(bam), None, 0, True, fast)
        assert r.fast == (fast and kernel().FAST_BAM_AVAILABLE)
        out.append(r.depth(tid, s, e, mapq, flags, mode, count_del))
    assert np.array_equal(out[0][0], out[1][0]) and out[0][1] == out[1][1], "fast and htslib paths differ"
    return out[0][0]


# ------------------------------------------------------------------------------------------
# generated BAMs

HDR = {"HD": {"VN": "1.6", "SO": "coordinate"}, "SQ": [{"SN": "chrA", "LN": 4000}, {"SN": "chrB", "LN": 3000}]}


def _segment(header, name, tid, pos, cigar, flag=0, mtid=-1, mpos=-1, mapq=60):
    a = pysam.AlignedSegment(header)
    a.query_name = name
    a.reference_id = tid
    a.reference_start = pos
    a.cigarstring = cigar
    qlen = sum(ln for op, ln in a.cigartuples if op in (0, 1, 4, 7, 8))
    a.query_sequence = "A" * qlen
    a.query_qualities = pysam.qualitystring_to_array("I" * qlen)
    a.flag = flag
    a.mapping_quality = mapq
    a.next_reference_id = mtid
    a.next_reference_start = mpos
    return a


def write_bam(path: Path, reads, hdr=HDR, index=True, sort=True, mode="wb") -> Path:
    header = pysam.AlignmentHeader.from_dict(hdr)
    unsorted = path.with_suffix(".unsorted.bam")
    with pysam.AlignmentFile(str(unsorted if sort else path), mode, header=header) as f:
        for r in reads:
            f.write(_segment(header, *r) if isinstance(r, tuple) else r)
    if sort:
        pysam.sort("-o", str(path), str(unsorted))
        unsorted.unlink()
    if index:
        pysam.index(str(path))
    return path


def random_cigar(rng) -> str:
    ops = []
    if rng.random() < 0.25:
        ops.append(f"{rng.integers(1, 8)}{'S' if rng.random() < 0.7 else 'H'}")
    nblk = int(rng.integers(1, 4))
    for i in range(nblk):
        ops.append(f"{rng.integers(5, 60)}{rng.choice(['M', 'M', 'M', '=', 'X'])}")
        if i < nblk - 1:
            ops.append(f"{rng.integers(1, 12)}{rng.choice(['I', 'D', 'D', 'N', 'N'] if rng.random() < 0.8 else ['P'])}")
    if rng.random() < 0.25:
        ops.append(f"{rng.integers(1, 8)}S")
    return "".join(ops)


def random_reads(seed: int, n_frag: int = 250):
    """Fragments with random CIGARs, overlapping/contained mates, dups, low MAPQ, secondary..."""
    rng = np.random.default_rng(seed)
    lens = [4000, 3000]
    reads = []
    for i in range(n_frag):
        tid = int(rng.integers(0, 2))
        p1 = int(rng.integers(0, lens[tid] - 300))
        name = f"f{seed}_{i}"
        c1 = "70M" if rng.random() < 0.3 else random_cigar(rng)
        c2 = f"{rng.integers(10, 70)}M" if rng.random() < 0.3 else random_cigar(rng)
        p2 = p1 + int(rng.integers(0, 140))
        kind = rng.random()
        mq1, mq2 = (int(rng.integers(0, 60)) if rng.random() < 0.15 else 60 for _ in range(2))
        if kind < 0.15:  # single-end read, maybe with odd flags
            extra = int(rng.choice([0, 0, 16, 256, 512, 1024, 2048]))
            reads.append((name, tid, p1, c1, extra, -1, -1, mq1))
            continue
        proper = 2 if rng.random() < 0.85 else 0
        dup = 1024 if rng.random() < 0.08 else 0
        f1 = 1 | proper | 64 | 32 | dup
        f2 = 1 | proper | 128 | 16 | (dup if rng.random() < 0.8 else 0)
        if rng.random() < 0.05:
            f2 |= 256  # secondary copy of the mate
        if rng.random() < 0.05:
            f1 |= 2048
        reads.append((name, tid, p1, c1, f1, tid, p2, mq1))
        reads.append((name, tid, p2, c2, f2, tid, p1, mq2))
    return reads


@pytest.fixture(scope="module")
def random_bams(tmp_path_factory):
    d = tmp_path_factory.mktemp("rand")
    return [write_bam(d / f"r{seed}.bam", random_reads(seed)) for seed in (1, 2, 3)]


# ------------------------------------------------------------------------------------------
# hand-worked cases

def test_cigar_and_mate_rules_by_hand(tmp_path):
    reads = [
        ("del", 0, 10, "5M5D5M"),                                  # 10-15, 20-25 (15-20 is D)
        ("ins", 0, 40, "2S5M3I5M2H"),                              # 40-50 (I adds nothing)
        ("spl", 0, 100, "10M10N10M"),                              # 100-110, 120-130
        ("p", 0, 200, "20M", 1 | 2 | 32 | 64, 0, 210),             # mates 200-220 / 210-230 overlap 10
        ("p", 0, 210, "20M", 1 | 2 | 16 | 128, 0, 200),
        ("q", 0, 300, "10M5D10M", 1 | 2 | 32 | 64, 0, 305),        # first mate has D at 310-315
        ("q", 0, 305, "20M", 1 | 2 | 16 | 128, 0, 300),
        ("r", 0, 400, "20M", 1 | 32 | 64, 0, 405),                 # not a proper pair: both count
        ("r", 0, 405, "20M", 1 | 16 | 128, 0, 400),
        ("u", 0, 700, "30M", 1 | 2 | 32 | 64, 0, 705),             # mate contained in mate
        ("u", 0, 705, "10M", 1 | 2 | 16 | 128, 0, 700),
        ("dup", 0, 800, "10M", 1024), ("sec", 0, 800, "10M", 256), ("qc", 0, 800, "10M", 512),
        ("lowq", 0, 800, "10M", 0, -1, -1, 5), ("ok", 0, 800, "10M", 0, -1, -1, 20),
    ]
    bam = write_bam(tmp_path / "hand.bam", reads)
    exp = np.zeros(1000, dtype=np.int64)
    for s, e, d in [(10, 15, 1), (20, 25, 1), (40, 50, 1), (100, 110, 1), (120, 130, 1), (200, 230, 1),
                    (300, 325, 1), (400, 405, 1), (405, 420, 2), (420, 425, 1), (700, 730, 1), (800, 810, 1)]:
        exp[s:e] = d
    got = kdepth(bam, 0, [(0, 1000)], mapq=20, mode=1)
    assert np.array_equal(got, exp)
    # deletions counted: 15-20 and the first q mate's 310-315 (already covered by its mate)
    exp_del = exp.copy()
    exp_del[15:20] = 1
    assert np.array_equal(kdepth(bam, 0, [(0, 1000)], mapq=20, mode=1, count_del=True), exp_del)
    # no overlap correction: p overlap 210-220 and q 305-310, 315-325 count twice, u 705-715 twice
    exp_none = exp.copy()
    exp_none[210:220] = 2
    exp_none[305:310] = 2
    exp_none[315:325] = 2
    exp_none[705:715] = 2
    assert np.array_equal(kdepth(bam, 0, [(0, 1000)], mapq=20, mode=0), exp_none)
    # mosdepth-compatible mode: the contained single-block mate loses 715-730
    exp_md = exp.copy()
    exp_md[715:730] = 0
    assert np.array_equal(kdepth(bam, 0, [(0, 1000)], mapq=20, mode=2), exp_md)
    # the same, measured by mosdepth itself
    runs = mosdepth_per_base(bam, tmp_path, mapq=20)
    assert np.array_equal(expand(runs["chrA"], 0, 1000), exp_md)
    # intervals cutting reads: only the interval bases are returned, in order
    got = kdepth(bam, 0, [(12, 22), (205, 215), (705, 712)], mapq=20, mode=1)
    assert np.array_equal(got, np.concatenate([exp[12:22], exp[205:215], exp[705:712]]))


# ------------------------------------------------------------------------------------------
# real BAMs: base-for-base against mosdepth and against the oracle

def _compare_with_mosdepth(bam: Path, tmp: Path, mapqs, chrom: str | None) -> int:
    rdr = kernel().DepthReader(str(bam))
    contigs = rdr.contigs()
    checked = 0
    for mapq in mapqs:
        runs = mosdepth_per_base(bam, tmp, mapq=mapq, chrom=chrom)
        for tid, (name, length) in enumerate(contigs):
            if chrom is not None and name != chrom:
                continue
            nz = [(max(0, s - 200), min(length, e + 200)) for s, e, d in runs.get(name, []) if d > 0]
            ivs: list[tuple[int, int]] = []  # clusters of covered bases (+ flanks)
            for s, e in nz:
                if ivs and s <= ivs[-1][1]:
                    ivs[-1] = (ivs[-1][0], max(ivs[-1][1], e))
                else:
                    ivs.append((s, e))
            if not ivs:
                continue
            exp = np.concatenate([expand(runs[name], s, e) for s, e in ivs])
            got = kdepth(bam, tid, ivs, mapq=mapq, mode=2)
            assert np.array_equal(got, exp), f"{bam} {name} mapq {mapq}: {int((got != exp).sum())} bases differ"
            checked += exp.size
    return checked


def _busiest_contig(bam: Path) -> str:
    stats = pysam.idxstats(str(bam))
    rows = [ln.split("\t") for ln in stats.splitlines() if ln and not ln.startswith("*")]
    return max(rows, key=lambda r: int(r[2]))[0]


@pytest.mark.parametrize("rel", REAL_BAMS)
def test_real_bams_match_mosdepth_base_for_base(shared, tmp_path, rel):
    """Every base of the busiest contig (mosdepth -c), MAPQ >= 20, mosdepth-compatible overlap mode."""
    bam = shared / BAM / rel
    assert _compare_with_mosdepth(bam, tmp_path, (20,), _busiest_contig(bam)) > 300


@pytest.mark.heavy
@pytest.mark.parametrize("rel", REAL_BAMS)
def test_real_bams_match_mosdepth_all_contigs(shared, tmp_path, rel):
    """Whole file (every contig), MAPQ 0 and 20 (slow: mosdepth walks every GRCh38 contig)."""
    assert _compare_with_mosdepth(shared / BAM / rel, tmp_path, (0, 20), None) > 500


@pytest.mark.parametrize("rel", [
    "ghga_seqc2_hcc1395/seqc2_somatic_calling/WES_LL_T_1_test.bam",
    "ghga_seqc2_hcc1395/seq2_testdata_snv/WES_LL_N_1_test.bam",
    "nucleus/NA12878_small.bam",
    "strelka_demo/NA12892_demo20.bam",
])
def test_real_bams_match_oracle_fragment_mode(shared, rel):
    bam = shared / BAM / rel
    bed_for = {"seqc2_somatic_calling": "seqc2.bed", "seq2_testdata_snv": "seq2_testdata.bed"}
    rdr = kernel().DepthReader(str(bam))
    tids = {n: i for i, (n, _) in enumerate(rdr.contigs())}
    folder = Path(rel).parent.name
    if folder in bed_for:
        recs = read_bed_records(shared / BAM / "ghga_seqc2_hcc1395" / folder / bed_for[folder])
        fp = recs.regions()
        native = {c[3:] if c.startswith("chr") else c: c for c in tids}
        items = [(native[c], s - 150, e + 150) for c, s, e in fp]
    else:
        name = _busiest_contig(bam)
        with pysam.AlignmentFile(str(bam)) as f:
            starts = [r.reference_start for r in f.fetch(name)]
        items = [(name, max(0, min(starts) - 100), max(starts) + 400)]
    for mapq, count_del in ((0, False), (20, True)):
        for name, lo, hi in items:
            exp = oracle_depth(bam, name, lo, hi, mapq=mapq, count_del=count_del)
            got = kdepth(bam, tids[name], [(lo, hi)], mapq=mapq, mode=1, count_del=count_del)
            assert np.array_equal(got, exp), f"{rel} {name}:{lo}-{hi}"
        exp = oracle_depth(bam, items[0][0], items[0][1], items[0][2], mapq=mapq, overlap="none")
        got = kdepth(bam, tids[items[0][0]], [(items[0][1], items[0][2])], mapq=mapq, mode=0)
        assert np.array_equal(got, exp)


# ------------------------------------------------------------------------------------------
# generated BAMs with CIGAR edge cases

def test_generated_bams_match_oracle_and_mosdepth(random_bams, tmp_path):
    rng = np.random.default_rng(11)
    for bam in random_bams:
        runs = mosdepth_per_base(bam, tmp_path, mapq=20)
        for tid, (name, length) in enumerate([("chrA", 4000), ("chrB", 3000)]):
            # random footprint intervals, cutting through reads
            cuts = np.sort(rng.choice(np.arange(1, length), size=14, replace=False))
            ivs = [(int(cuts[i]), int(cuts[i + 1])) for i in range(0, 14, 2)]
            for mode, overlap in ((1, "fragment"), (0, "none")):
                for cd in (False, True):
                    exp = np.concatenate([oracle_depth(bam, name, s, e, mapq=20, overlap=overlap, count_del=cd)
                                          for s, e in ivs])
                    got = kdepth(bam, tid, ivs, mapq=20, mode=mode, count_del=cd)
                    assert np.array_equal(got, exp), (bam.name, name, mode, cd)
            exp = np.concatenate([expand(runs.get(name, []), s, e) for s, e in ivs])
            assert np.array_equal(kdepth(bam, tid, ivs, mapq=20, mode=2), exp), (bam.name, name)
            # other flag masks: include duplicates / secondary
            for flags in (0, 4):
                exp = oracle_depth(bam, name, 0, length, mapq=0, flags=flags, overlap="none")
                assert np.array_equal(kdepth(bam, tid, [(0, length)], flags=flags, mode=0), exp)


def test_compute_callable_against_oracle(random_bams, tmp_path):
    bam_t, bam_n = random_bams[0], random_bams[1]
    fp = RegionSet.from_tuples([("chrA", 100, 900), ("chrA", 1500, 3900), ("chrB", 0, 3000)])
    res = compute_callable(bam_t, fp, normal_bam=bam_n, min_depth=3, min_normal_depth=2, mapq=20)
    exp_items = []
    for c, s, e in fp:
        t = oracle_depth(bam_t, "chr" + c, s, e, mapq=20)
        n = oracle_depth(bam_n, "chr" + c, s, e, mapq=20)
        ok = (t >= 3) & (n >= 2)
        idx = np.flatnonzero(ok)
        exp_items += [("chr" + c, s + int(i), s + int(i) + 1) for i in idx]
    exp = RegionSet.from_tuples(exp_items)
    assert list(res.callable) == list(exp)
    assert res.callable_bp == exp.total_bp()
    assert res.footprint_bp == 800 + 2400 + 3000
    # per-target table: mean, median, fraction >= threshold from the oracle
    for row in res.per_target.itertuples():
        d = oracle_depth(bam_t, row.chrom, row.start, row.end, mapq=20)
        nd = oracle_depth(bam_n, row.chrom, row.start, row.end, mapq=20)
        assert row.mean_depth == pytest.approx(d.mean())
        assert row.median_depth == pytest.approx(float(np.median(d)))
        assert row.frac_ge_min_depth == pytest.approx((d >= 3).mean())
        assert row.normal_mean_depth == pytest.approx(nd.mean())
        assert row.normal_frac_ge_min_depth == pytest.approx((nd >= 2).mean())
    # per-contig breakdown adds up
    assert int(res.per_contig["callable_bp"].sum()) == res.callable_bp
    assert int(res.per_contig["footprint_bp"].sum()) == res.footprint_bp


def test_threads_give_identical_results(random_bams, shared, monkeypatch):
    import tmbcalc.callable.engine as core

    monkeypatch.setattr(core, "MIN_CHUNK_BP", 100)  # force many small parallel chunks
    fp = RegionSet.from_tuples([("chrA", 0, 1700), ("chrA", 1750, 4000), ("chrB", 10, 2990)])
    for mode in ("fragment", "mosdepth", "none"):
        base = compute_callable(random_bams[2], fp, normal_bam=random_bams[0], min_depth=2, threads=1,
                                mate_overlap=mode)
        for n in (2, 3, 8):
            other = compute_callable(random_bams[2], fp, normal_bam=random_bams[0], min_depth=2, threads=n,
                                     mate_overlap=mode)
            assert list(other.callable) == list(base.callable)
            assert other.per_target.equals(base.per_target)
            assert other.per_contig.drop(columns=[]).equals(base.per_contig)
    # one contig cut into chunks (targets cut by chunk edges: medians from merged histograms)
    bam = shared / BAM / "vcfanno_chm1/ex.bam"
    fp1 = RegionSet.from_tuples([("1", 9_000, 101_000)])
    a = compute_callable(bam, fp1, min_depth=20, threads=1)
    b = compute_callable(bam, fp1, min_depth=20, threads=4)
    assert list(a.callable) == list(b.callable) and a.per_target.equals(b.per_target)
    assert a.per_contig.equals(b.per_contig)
    # real tumor/normal exome pair (contained mates occur: the mosdepth mode's chunk edges matter)
    d = shared / BAM / "ghga_seqc2_hcc1395/seqc2_somatic_calling"
    recs = read_bed_records(d / "seqc2.bed")
    for mode in ("fragment", "mosdepth"):
        runs = [compute_callable(d / "WES_LL_T_1_test.bam", recs.regions(), normal_bam=d / "WES_LL_N_1_test.bam",
                                 min_depth=20, threads=n, targets=recs, mate_overlap=mode) for n in (1, 3, 7)]
        for other in runs[1:]:
            assert list(other.callable) == list(runs[0].callable), mode
            assert other.per_target.equals(runs[0].per_target), mode
            assert other.per_contig.equals(runs[0].per_contig), mode


def test_callable_matches_mosdepth_quantize_and_region_means(shared, tmp_path):
    """Public API vs mosdepth --quantize 0:N: (callable bins) and -b BED (region means)."""
    need_tool("mosdepth")
    folder = shared / BAM / "ghga_seqc2_hcc1395/seqc2_somatic_calling"
    bam, bed = folder / "WES_LL_T_1_test.bam", folder / "seqc2.bed"
    n, q = 15, 20
    recs = read_bed_records(bed)
    res = compute_callable(bam, recs.regions(), min_depth=n, mapq=q, targets=recs, mate_overlap="mosdepth")
    subprocess.run(["mosdepth", "-n", "-F", "1796", "-Q", str(q), "--quantize", f"0:{n}:", "-b", str(bed),
                    str(tmp_path / "m"), str(bam)], check=True, capture_output=True)
    items = []
    with gzip.open(tmp_path / "m.quantized.bed.gz", "rt") as fh:
        for line in fh:
            c, s, e, label = line.rstrip("\n").split("\t")
            if int(label.split(":")[0]) >= n:
                items.append((c, int(s), int(e)))
    exp = RegionSet.from_tuples(items).intersect(recs.regions())
    assert list(res.callable) == list(exp)
    assert res.callable_bp > 0
    means = [float(line.split("\t")[-1]) for line in gzip.open(tmp_path / "m.regions.bed.gz", "rt")]
    assert len(means) == len(res.per_target)
    assert np.allclose(res.per_target["mean_depth"].to_numpy(), means, atol=0.005 + 1e-9)


# ------------------------------------------------------------------------------------------
# bad input

def test_bad_inputs(tmp_path, shared):
    good = shared / BAM / "nucleus/NA12878_small.bam"
    fp = RegionSet.from_tuples([("20", 9_999_900, 10_002_000)])
    # no index
    noidx = tmp_path / "noidx.bam"
    noidx.write_bytes(good.read_bytes())
    with pytest.raises(InputError, match="samtools index"):
        compute_callable(noidx, fp, min_depth=5)
    # truncated
    trunc = tmp_path / "trunc.bam"
    trunc.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    (tmp_path / "trunc.bam.bai").write_bytes(Path(str(good) + ".bai").read_bytes())
    with pytest.raises(InputError, match="truncated"):
        compute_callable(trunc, fp, min_depth=5)
    # corrupt data in the middle (end-of-file marker intact): both read paths refuse it
    ex = shared / BAM / "vcfanno_chm1/ex.bam"
    raw = bytearray(ex.read_bytes())
    mid = len(raw) // 2
    raw[mid:mid + 2000] = bytes(2000)
    bad = tmp_path / "corrupt.bam"
    bad.write_bytes(bytes(raw))
    Path(str(bad) + ".bai").write_bytes(Path(str(ex) + ".bai").read_bytes())
    with pytest.raises(InputError, match="truncated or corrupt"):
        compute_callable(bad, RegionSet.from_tuples([("1", 9_000, 101_000)]), min_depth=5)
    rdr = kernel().DepthReader(str(bad), None, 0, True, False)
    with pytest.raises(ValueError, match="truncated"):
        rdr.depth(0, np.array([9_000]), np.array([101_000]), 0, 1796, 1, False)
    # contigs that do not match
    with pytest.raises(ContigMismatchError):
        compute_callable(good, RegionSet.from_tuples([("ZZ9", 0, 100)]), min_depth=5)
    with pytest.raises(ContigMismatchError, match="ZZ9"):
        compute_callable(good, RegionSet.from_tuples([("20", 0, 100), ("ZZ9", 0, 10)]), min_depth=5)
    with pytest.raises(ContigMismatchError, match="long"):
        compute_callable(good, RegionSet.from_tuples([("20", 63_025_000, 63_025_530)]), min_depth=5)
    # empty footprint, bad thresholds
    with pytest.raises(InputError, match="empty"):
        compute_callable(good, RegionSet({}), min_depth=5)
    with pytest.raises(UsageError):
        compute_callable(good, fp, min_depth=0)
    with pytest.raises(UsageError):
        compute_callable(good, fp, min_depth=5, min_normal_depth=3)
    # not a BAM
    txt = tmp_path / "x.bam"
    txt.write_text("hello\n")
    with pytest.raises(InputError):
        compute_callable(txt, fp, min_depth=5)


def test_unsorted_inputs(tmp_path):
    # header says unsorted
    hdr = {"HD": {"VN": "1.6", "SO": "unsorted"}, "SQ": HDR["SQ"]}
    bam = write_bam(tmp_path / "uns.bam", [("a", 0, 100, "10M"), ("b", 0, 50, "10M")], hdr=hdr, index=False,
                    sort=False)
    with pytest.raises(InputError, match="not coordinate-sorted"):
        compute_callable(bam, RegionSet.from_tuples([("chrA", 0, 500)]), min_depth=1)
    # header says coordinate but the reads are out of order (index from the sorted twin)
    # (uncompressed BGZF, so both files have identical block offsets and the index fits both)
    reads = [("a", 0, 100, "10M"), ("b", 0, 200, "10M"), ("c", 0, 150, "10M")]
    srt = write_bam(tmp_path / "s.bam", [reads[0], reads[2], reads[1]], sort=False, mode="wb0")
    bad = write_bam(tmp_path / "bad.bam", reads, index=False, sort=False, mode="wb0")
    assert bad.stat().st_size == srt.stat().st_size
    Path(str(bad) + ".bai").write_bytes(Path(str(srt) + ".bai").read_bytes())
    with pytest.raises(InputError, match="not sorted"):
        compute_callable(bad, RegionSet.from_tuples([("chrA", 0, 500)]), min_depth=1)


def test_cram_needs_reference_and_matches_bam(tmp_path, shared):
    need_tool("samtools")
    d = shared / BAM / "strelka_demo"
    cram = tmp_path / "t.cram"
    subprocess.run(["samtools", "view", "-C", "-T", str(d / "demo20.fa"), "-o", str(cram),
                    str(d / "NA12891_demo20.bam")], check=True)
    subprocess.run(["samtools", "index", str(cram)], check=True)
    fp = RegionSet.from_tuples([("demo20", 0, 5000)])
    with pytest.raises(InputError, match="written against as reference$"):
        compute_callable(cram, fp, min_depth=10)
    a = compute_callable(cram, fp, min_depth=10, reference=d / "demo20.fa")
    b = compute_callable(d / "NA12891_demo20.bam", fp, min_depth=10)
    assert list(a.callable) == list(b.callable) and a.callable_bp > 0
    assert a.per_target.equals(b.per_target)


def _long_cigar_read(header, pos: int):
    """A read of 70,001 CIGAR operations (1M1D repeated, then 5M): stored with a CG tag."""
    a = pysam.AlignedSegment(header)
    a.query_name = "long"
    a.reference_id = 0
    a.reference_start = pos
    a.cigartuples = [(0, 1), (2, 1)] * 35_000 + [(0, 5)]
    a.query_sequence = "A" * 35_005
    a.query_qualities = pysam.qualitystring_to_array("I" * 35_005)
    a.mapping_quality = 60
    return a


def test_long_cigar_in_cg_tag(tmp_path):
    """A CIGAR of > 65535 operations is stored in a CG tag: both read paths decode it."""
    hdr = {"HD": {"VN": "1.6", "SO": "coordinate"}, "SQ": [{"SN": "chrL", "LN": 300_000}]}
    header = pysam.AlignmentHeader.from_dict(hdr)
    a = _long_cigar_read(header, 1000)
    b = _segment(header, "short", 0, 1500, "10M")
    bam = tmp_path / "long.bam"
    with pysam.AlignmentFile(str(bam), "wb", header=header) as f:
        f.write(a)
        f.write(b)
    pysam.index(str(bam))
    exp = np.zeros(80_000, dtype=np.int64)
    exp[1000:71000:2] = 1  # the M bases of 1M1D
    exp[71000:71005] = 1
    exp[1500:1510] += 1
    assert np.array_equal(kdepth(bam, 0, [(0, 80_000)], mode=1), exp)


def test_long_cigar_through_the_streaming_scan(tmp_path):
    """The CG-tag fallback also works inside compute_callable's windowed scan (restarted on htslib)."""
    hdr = {"HD": {"VN": "1.6", "SO": "coordinate"}, "SQ": [{"SN": "chrL", "LN": 300_000}]}
    header = pysam.AlignmentHeader.from_dict(hdr)
    a = _long_cigar_read(header, 100_000)
    early = [_segment(header, f"e{i}", 0, 1000 + 10 * i, "50M") for i in range(20)]
    bam = tmp_path / "long2.bam"
    with pysam.AlignmentFile(str(bam), "wb", header=header) as f:
        for r in [*early, a]:
            f.write(r)
    pysam.index(str(bam))
    res = compute_callable(bam, RegionSet.from_tuples([("chrL", 0, 200_000)]), min_depth=1)
    # by hand: reads e0..e19 cover 1000-1240; the long read every other base of 100000-170000 + 5
    assert res.callable_bp == 240 + 35_000 + 5


def test_targets_reaching_outside_the_footprint(random_bams):
    """Targets are counted over their whole length; callable bases and contig means only in the
    footprint (expected values from the oracle)."""
    bam = random_bams[1]
    fp = RegionSet.from_tuples([("chrA", 100, 900), ("chrA", 1500, 2500)])
    recs_txt = [("chrA", 50, 200, "t1"), ("chrA", 850, 1600, "t2"), ("chrA", 2000, 2100, "t3")]
    from tmbcalc.io.bed import BedRecords

    recs = BedRecords(np.array(["A"] * 3, dtype=object), np.array([r[1] for r in recs_txt], dtype=np.int64),
                      np.array([r[2] for r in recs_txt], dtype=np.int64), np.array([r[3] for r in recs_txt], dtype=object),
                      ("chrA",), "mem")
    res = compute_callable(bam, fp, min_depth=2, mapq=20, targets=recs)
    full = oracle_depth(bam, "chrA", 0, 4000, mapq=20)
    exp = RegionSet.from_tuples([("chrA", int(p), int(p) + 1) for p in np.flatnonzero(full >= 2)]).intersect(fp)
    assert list(res.callable) == list(exp)
    for row, (_c, s, e, _n) in zip(res.per_target.itertuples(), recs_txt):
        assert row.mean_depth == pytest.approx(full[s:e].mean())
        assert row.median_depth == float(np.median(full[s:e]))
    in_fp = np.concatenate([full[100:900], full[1500:2500]])
    assert res.per_contig["mean_depth"].iloc[0] == pytest.approx(in_fp.mean())


def test_mosdepth_mode_lone_uncovered_operation_never_gives_negative_depth(tmp_path):
    """An earlier mate whose single CIGAR operation covers nothing (here 150D) and a contained
    single-operation later mate: mosdepth's shortcut would remove depth the earlier mate never
    added (negative depth, which crashed the histogram of long targets).  Expected: the explicit
    per-base count (only the later mate covers bases)."""
    hdr = {"HD": {"VN": "1.6", "SO": "coordinate"}, "SQ": [{"SN": "chrA", "LN": 200_000}]}
    bam = write_bam(tmp_path / "lone.bam", [("p1", 0, 100, "150D", 99, 0, 120), ("p1", 0, 120, "30M", 147, 0, 100),
                                            ("p2", 0, 150_000, "50M", 99, 0, 150_010),
                                            ("p2", 0, 150_010, "60M", 147, 0, 150_000)], hdr=hdr)
    full = oracle_depth(bam, "chrA", 0, 200_000)
    assert np.array_equal(kdepth(bam, 0, [(0, 200_000)], mode=2), full)
    for threads in (1, 2):  # one target longer than the histogram threshold, and cut by a chunk edge
        res = compute_callable(bam, RegionSet.from_tuples([("chrA", 0, 200_000)]), min_depth=1, mapq=0,
                               mate_overlap="mosdepth", threads=threads)
        row = res.per_target.iloc[0]
        assert row.median_depth == float(np.median(full))
        assert row.mean_depth == pytest.approx(full.mean())
        assert res.callable_bp == int((full >= 1).sum())


def test_zero_length_record_alone_on_a_contig_is_an_na_row(tmp_path):
    """A zero-length BED record on a contig without other records is an NA row, not an error."""
    from tmbcalc.callable.engine import compute
    from tmbcalc.intervals import Targets

    bam = write_bam(tmp_path / "z.bam", [("r1", 0, 100, "50M")])
    tg = Targets(["A", "B"], [90, 50], [200, 50], ["t1", "z"], "mem.bed")
    res = compute(bam, tg.footprint(), min_depth=1, mapq=0, targets=tg)
    cols = res.target_columns
    assert cols["chrom"] == ["chrA", "chrB"] and cols["name"] == ["t1", "z"]
    assert cols["mean_depth"][0] == pytest.approx(50 / 110)  # by hand: 50 covered bases of 110
    assert all(np.isnan(cols[k][1]) for k in ("mean_depth", "median_depth", "frac_ge_min_depth"))


def test_mate_table_growth_and_orphan_pruning(tmp_path):
    """Thousands of pending earlier mates (a pile-up of overlapping pairs) and of earlier mates
    whose later mate is filtered out (MAPQ 0; dropped from the table once passed): depth equals
    the explicit count (fragment mode) and mosdepth (mosdepth mode)."""
    hdr = {"HD": {"VN": "1.6", "SO": "coordinate"}, "SQ": [{"SN": "chrA", "LN": 300_000}]}
    rng = np.random.default_rng(11)
    reads = []
    for i in range(12000):  # a pile-up at 100 kb, then 1 fragment per bp with half the later mates MAPQ 0
        p = int(rng.integers(100_000, 100_100)) if i < 2000 else int(rng.integers(150_000, 162_000))
        q = p + int(rng.integers(0, 140))
        name = f"f{i}" + "n" * int(rng.integers(0, 40))
        reads.append((name, 0, p, "150M", 99, 0, q))
        reads.append((name, 0, q, f"{int(rng.integers(20, 150))}M", 147, 0, p, 0 if rng.random() < 0.5 else 60))
    bam = write_bam(tmp_path / "mates.bam", reads, hdr=hdr)
    assert np.array_equal(kdepth(bam, 0, [(0, 300_000)], mapq=20, mode=1),
                          oracle_depth(bam, "chrA", 0, 300_000, mapq=20))
    md = expand(mosdepth_per_base(bam, tmp_path, mapq=20)["chrA"], 0, 300_000)
    assert np.array_equal(kdepth(bam, 0, [(0, 300_000)], mapq=20, mode=2), md)


def test_mosdepth_mode_chunk_starting_at_an_interval_start_does_not_depend_on_threads(tmp_path):
    """With 2 threads the second chunk starts exactly at the second footprint interval; a
    contained single-block later mate lies before it, inside its earlier mate that reaches into
    the interval.  The chunk must see the same reads as the single-threaded scan (before the fix
    only the chunk looked back, so --threads changed the callable bases)."""
    hdr = {"HD": {"VN": "1.6", "SO": "coordinate"}, "SQ": [{"SN": "chrA", "LN": 400_000}]}
    bam = write_bam(tmp_path / "cut.bam", [("p1", 0, 99_900, "150M", 99, 0, 99_920),
                                           ("p1", 0, 99_920, "30M", 147, 0, 99_900), ("x", 0, 99_990, "100M", 0)],
                    hdr=hdr)
    fp = RegionSet.from_tuples([("chrA", 0, 60_000), ("chrA", 100_000, 160_000)])  # cut at 100,000
    res = [compute_callable(bam, fp, min_depth=2, mapq=0, mate_overlap="mosdepth", threads=t) for t in (1, 2)]
    assert list(res[0].callable) == list(res[1].callable)
    assert res[0].per_target.equals(res[1].per_target) and res[0].per_contig.equals(res[1].per_contig)
