"""The lean ``tmbcalc callable`` path: numpy-free BED parsing and merging, windowed depth
streaming, per-target statistics in the kernel, tabix index written through htslib, and no
numpy/pandas/pysam import.

Expectations come from the numpy RegionSet / ``read_bed_records`` implementations, bedtools,
tabix, and per-base depth arrays summarised with numpy (mean/median/fraction) -- never from
the code under test.
"""
from __future__ import annotations

import gzip
import json
import subprocess
import sys
from array import array
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import need_tool
from tmbcalc.io.bed_text import read_targets
from tmbcalc.intervals import intersect_intervals, merge_intervals
from tmbcalc.errors import InputError
from tmbcalc.regions import RegionSet

GHGA = "bam/ghga_seqc2_hcc1395/seqc2_somatic_calling"


def kernel():
    from tmbcalc.ext import load_kernel

    return load_kernel("_depth")


# ------------------------------------------------------------------------------------------
# BED parsing and interval arithmetic against the numpy implementations and bedtools

intervals = st.lists(st.tuples(st.integers(0, 300), st.integers(0, 60)).map(lambda t: (t[0], t[0] + t[1])),
                     max_size=25)


@settings(max_examples=200, deadline=None)
@given(intervals, intervals)
def test_merge_and_intersect_match_regionset(a, b):
    ra = RegionSet.from_tuples([("1", s, e) for s, e in a])
    rb = RegionSet.from_tuples([("1", s, e) for s, e in b])
    ma, mb = merge_intervals(a), merge_intervals(b)
    assert [("1", s, e) for s, e in ma] == list(ra)
    assert [("1", s, e) for s, e in intersect_intervals(ma, mb)] == list(ra.intersect(rb))


line = st.tuples(st.sampled_from(["chr1", "1", "chrX", "X", "chrM", "MT", "7"]), st.integers(0, 5000),
                 st.integers(0, 400), st.sampled_from(["", "\tgeneA", "\tg\t0\t+", "\t+\tpic"]))


CANON = {"chr1": "1", "1": "1", "chrX": "X", "X": "X", "chrM": "MT", "MT": "MT", "7": "7"}


@settings(max_examples=100, deadline=None)
@given(st.lists(line, min_size=1, max_size=30), st.sampled_from(["", "# c\n", "track name=x\n", "browser x\n"]),
       st.sampled_from([".bed", ".interval_list"]))
def test_read_targets_matches_the_written_rows(tmp_path_factory, rows, head, suffix):
    """Expected records derived from the generated rows: canonical contigs, interval_list rows
    with a strand column (first data row decides) are 1-based inclusive, names from column 4
    (BED) or 5 (Picard); the footprint is the per-contig merge of a plain base set."""
    p = tmp_path_factory.mktemp("bed") / f"t{suffix}"
    p.write_text(head + "".join(f"{c}\t{s}\t{s + ln}{extra}\n" for c, s, ln, extra in rows))
    picard = suffix == ".interval_list" and rows[0][3] == "\t+\tpic"   # strand in column 4 of row 1
    exp_starts = [s - 1 if picard else s for _, s, _, _ in rows]
    if any(s < 0 for s in exp_starts):
        with pytest.raises(InputError, match="invalid interval"):
            read_targets(p)
        return
    t, native = read_targets(p)
    assert t.contigs == [CANON[c] for c, _, _, _ in rows]
    assert t.starts == exp_starts and t.ends == [s + ln for _, s, ln, _ in rows]
    names = [x.split("\t") for _, _, _, x in rows]
    assert t.names == [(f[2] if picard and len(f) > 2 else "") if picard else (f[1] if len(f) > 1 else "")
                       for f in names]
    assert native == tuple(dict.fromkeys(c for c, _, _, _ in rows))
    bases: dict[str, set[int]] = {}
    for c, s, e in zip(t.contigs, t.starts, t.ends):
        bases.setdefault(c, set()).update(range(s, e))
    fp = t.footprint()
    assert {c: sum(e - s for s, e in iv) for c, iv in fp.items()} == {c: len(b) for c, b in bases.items() if b}
    for c, iv in fp.items():
        assert all(a[1] < b[0] for a, b in zip(iv, iv[1:]))          # merged: gaps between runs
        assert set().union(*(range(s, e) for s, e in iv)) == bases[c]


def test_footprint_equals_bedtools_merge(shared, tmp_path):
    need_tool("bedtools")
    bed = shared / GHGA / "seqc2.bed"
    t, _ = read_targets(bed)
    fp = t.footprint()
    merged = subprocess.run(f"cut -f1-3 {bed} | sort -k1,1 -k2,2n | bedtools merge -i -", shell=True, capture_output=True,
                            text=True, check=True).stdout
    exp = sorted((r.split("\t")[0].removeprefix("chr"), int(r.split("\t")[1]), int(r.split("\t")[2]))
                 for r in merged.splitlines() if r)
    assert sorted((c, s, e) for c in fp for s, e in fp[c]) == exp


@pytest.mark.parametrize("text, message", [
    ("1\t5\n", "line 1: expected at least 3 tab-separated columns"),
    ("1\t10\t5\n", "line 1: invalid interval 1:10-5"),
    ("1\t0\t5\n1\tx\t7\n", "line 2: start/end are not integers"),
    ("# only\n", "contains no intervals"),
])
def test_read_targets_errors_name_file_and_line(tmp_path, text, message):
    p = tmp_path / "bad.bed"
    p.write_text(text)
    with pytest.raises(InputError, match=f"bad.bed: {message}"):
        read_targets(p)


# ------------------------------------------------------------------------------------------
# windowed scan == per-base depth summarised with numpy

def _expected(depth: np.ndarray, layout, targets, thr):
    """Callable runs and target statistics from a per-base depth array (numpy)."""
    runs, off = [], 0
    for s, e in layout:
        d = depth[off:off + e - s] >= thr
        k = 0
        while k < d.size:
            if d[k]:
                j = k
                while j < d.size and d[j]:
                    j += 1
                runs += [s + k, s + j]
                k = j
            else:
                k += 1
        off += e - s
    pos = np.concatenate([np.arange(s, e) for s, e in layout])
    stats = []
    for s, e in targets:
        v = depth[(pos >= s) & (pos < e)]
        stats.append((v.size, int(v.sum()), int((v >= thr).sum()), float(np.median(v))))
    return runs, stats


@pytest.mark.parametrize("rel,tid,layout,targets", [
    ("bam/vcfanno_chm1/ex.bam", 0, [(9_000, 101_000)], [(9_000, 101_000), (20_000, 20_150), (50_000, 50_001)]),
    (f"{GHGA}/WES_LL_T_1_test.bam", None, None, None),
])
def test_scan_windows_match_per_base_depth(shared, rel, tid, layout, targets):
    bam = shared / rel
    rdr = kernel().DepthReader(str(bam))
    if layout is None:  # the busiest contig of the exome BAM, with its BED targets
        t, _ = read_targets(shared / GHGA / "seqc2.bed")
        contig = max(set(t.contigs), key=t.contigs.count)
        names = [n for n, _ in rdr.contigs()]
        tid = next(i for i, n in enumerate(names) if n.removeprefix("chr") == contig)
        targets = sorted((s, e) for c, s, e in zip(t.contigs, t.starts, t.ends) if c == contig and e > s)
        layout = merge_intervals(targets)
    ls, le = array("q", [s for s, _ in layout]), array("q", [e for _, e in layout])
    for mode in (1, 2):
        depth = np.asarray(rdr.depth(tid, ls, le, 20, 1796, mode, False)[0])
        exp_runs, exp_stats = _expected(depth, layout, targets, 30)
        for window in (1, 7, 1000, 1 << 16):
            res = kernel().scan(rdr, tid, ls, le, array("q", [s for s, _ in targets]), array("q", [e for _, e in targets]),
                                bytes([1] * len(targets)), 30, 20, 1796, mode, False, window=window)
            assert list(res.runs) == exp_runs, window
            assert res.sum_t == int(depth.sum())
            got = [(res.tumor.n[i], res.tumor.total[i], res.tumor.ge[i], res.tumor.median[i]) for i in range(len(targets))]
            assert got == exp_stats, window
            # the same targets marked partial come back as histograms of the same values
            part = kernel().scan(rdr, tid, ls, le, array("q", [s for s, _ in targets]),
                                 array("q", [e for _, e in targets]), bytes(len(targets)), 30, 20, 1796, mode, False,
                                 window=window)
            pos = np.concatenate([np.arange(s, e) for s, e in layout])
            for i, (s, e) in enumerate(targets):
                vals, counts = np.unique(depth[(pos >= s) & (pos < e)], return_counts=True)
                assert part.tumor.partial[i] == list(zip(vals.tolist(), counts.tolist()))


# ------------------------------------------------------------------------------------------
# CLI: lean imports, tabix index, thread invariance of the written files

def _cli_modules(args: list[str]) -> set[str]:
    probe = ("import sys, json\nfrom tmbcalc.cli import main\n"
             f"rc = main({args!r})\n"
             "print(json.dumps([rc, sorted(sys.modules)]))")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    rc, mods = json.loads(out.splitlines()[-1])
    assert rc == 0
    return {m.split(".")[0] for m in mods}


def test_cli_imports_neither_numpy_pandas_nor_pysam(shared, tmp_path):
    d = shared / GHGA
    mods = _cli_modules(["callable", str(d / "WES_LL_T_1_test.bam"), "--normal-bam", str(d / "WES_LL_N_1_test.bam"),
                         "--bed", str(d / "seqc2.bed"), "--min-depth", "20", "-o", str(tmp_path / "x")])
    assert not mods & {"numpy", "pandas", "pysam"}


def test_tabix_index_as_tabix_builds_it(shared, tmp_path):
    need_tool("tabix")
    d = shared / GHGA
    prefix = tmp_path / "s"
    subprocess.run([sys.executable, "-m", "tmbcalc", "callable", str(d / "WES_LL_T_1_test.bam"), "--bed",
                    str(d / "seqc2.bed"), "--min-depth", "20", "-o", str(prefix)], check=True, capture_output=True)
    gz = Path(f"{prefix}.callable.bed.gz")
    copy = tmp_path / "copy.bed.gz"
    copy.write_bytes(gz.read_bytes())
    subprocess.run(["tabix", "-f", "-p", "bed", str(copy)], check=True)
    ours = gzip.decompress(Path(f"{gz}.tbi").read_bytes())
    theirs = gzip.decompress(Path(f"{copy}.tbi").read_bytes())
    assert ours == theirs
    rows = [ln.split("\t") for ln in gzip.open(gz, "rt") if not ln.startswith("#")]
    c, s, e = rows[len(rows) // 2][0], int(rows[len(rows) // 2][1]), int(rows[len(rows) // 2][2])
    hit = subprocess.run(["tabix", str(gz), f"{c}:{s + 1}-{e}"], capture_output=True, text=True, check=True).stdout
    assert f"{c}\t{s}\t{e}" in hit


@pytest.mark.parametrize("mode", ["fragment", "mosdepth"])
@pytest.mark.parametrize("case", ["exome pair", "one long target"])
def test_cli_outputs_do_not_depend_on_threads(shared, tmp_path, mode, case):
    d = shared / GHGA
    if case == "exome pair":
        inputs = [str(d / "WES_LL_T_1_test.bam"), "--normal-bam", str(d / "WES_LL_N_1_test.bam"),
                  "--bed", str(d / "seqc2.bed")]
    else:  # 200 kb: cut into chunks by --threads, so its median comes from merged histograms
        bed = tmp_path / "long.bed"
        bed.write_text("1\t0\t200000\tlong\n1\t150000\t150010\tshort\n")
        inputs = [str(shared / "bam/vcfanno_chm1/ex.bam"), "--bed", str(bed)]
    out = {}
    for n in (1, 2, 5):
        prefix = tmp_path / f"t{n}"
        subprocess.run([sys.executable, "-m", "tmbcalc", "callable", *inputs, "--min-depth", "20",
                        "--mate-overlap", mode, "--threads", str(n), "-o", str(prefix)], check=True, capture_output=True)
        body = [ln for ln in gzip.open(f"{prefix}.callable.bed.gz", "rt") if not ln.startswith("#")]
        tsv = [ln for ln in Path(f"{prefix}.coverage.tsv").read_text().splitlines() if not ln.startswith("#")]
        js = json.loads(Path(f"{prefix}.callable.json").read_text())
        out[n] = (body, tsv, js["callable_bp"], js["per_contig"])
    assert out[1] == out[2] == out[5]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(0, 40), min_size=1, max_size=60), st.integers(1, 5))
def test_median_of_merged_histograms(values, pieces):
    """Medians of targets cut by chunk edges: histograms of the pieces merged, vs numpy."""
    from collections import Counter

    from tmbcalc.callable.engine import _TargetAcc

    class Part:  # what the kernel returns for a target marked incomplete
        def __init__(self, v):
            h = Counter(v)
            self.n, self.total, self.ge = [len(v)], [sum(v)], [sum(x >= 10 for x in v)]
            self.median, self.partial = [float("nan")], {0: sorted(h.items())}

    acc = _TargetAcc(1)
    k = max(1, len(values) // pieces)
    for i in range(0, len(values), k):
        acc.add(0, Part(values[i:i + k]), 0)
    mean, med, frac = acc.finish()
    assert med[0] == float(np.median(values)) and isinstance(med[0], float)
    assert mean[0] == pytest.approx(np.mean(values)) and frac[0] == pytest.approx(np.mean(np.array(values) >= 10))
