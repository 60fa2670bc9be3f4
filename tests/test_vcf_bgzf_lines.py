"""The libdeflate line reader for bgzipped text VCF (tmbcalc/ext/bgzf_lines.h).

Files are built here with lines that cross its slab boundaries (1 MB compressed / 4 MB
uncompressed), one line longer than a whole slab, CRLF endings and no final newline; the expected
columns come from the generating Python code, and the htslib path (TMBCALC_NO_LIBDEFLATE=1, in a
subprocess) must give the same table.
"""
from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from pathlib import Path

import pytest

from tmbcalc.errors import InputError
from tmbcalc.io.vcf import read_vcf

from .conftest import run_tool

HEADER = (
    "##fileformat=VCFv4.2\n"
    "##contig=<ID=chr1,length=248956422>\n"
    '##INFO=<ID=PAD,Number=1,Type=String,Description="filler">\n'
    '##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">\n'
    '##FORMAT=<ID=AD,Number=R,Type=Integer,Description="Allelic depths">\n'
    '##FORMAT=<ID=DP,Number=1,Type=Integer,Description="Depth">\n'
    "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tTUMOR\n"
)


def _make(tmp_path: Path, n: int, seed: int = 3) -> tuple[Path, list[tuple[int, int, int]]]:
    """bgzipped VCF of n records; returns it and the expected (pos, depth, alt reads) per record."""
    rng = random.Random(seed)
    lines, truth = [], []
    for i in range(n):
        pos = 1000 + 7 * i
        dp = rng.randint(5, 900)
        alt = rng.randint(0, dp)
        pad = "x" * (6 << 20) if i == n // 2 else "".join(rng.choices("ACGT", k=rng.randint(0, 400)))
        end = "\r\n" if i % 11 == 0 else "\n"
        lines.append(f"chr1\t{pos}\t.\tA\tG\t.\tPASS\tPAD={pad}\tGT:AD:DP\t0/1:{dp - alt},{alt}:{dp}{end}")
        truth.append((pos, dp, alt))
    text = HEADER + "".join(lines)
    plain = tmp_path / "many.vcf"
    plain.write_bytes(text.rstrip("\r\n").encode())          # no newline after the last record
    run_tool("bgzip", "-f", str(plain))
    return tmp_path / "many.vcf.gz", truth


def _columns(t) -> list[tuple[int, int, int]]:
    return list(zip((t["pos"] + 1).tolist(), t["t_depth"].tolist(), t["t_alt"].tolist()))


@pytest.fixture(scope="module")
def big(tmp_path_factory):
    return _make(tmp_path_factory.mktemp("bgzl"), 60_000)


@pytest.mark.parametrize("threads", [1, 2])
def test_lines_across_slabs_match_the_generated_truth(big, threads):
    path, truth = big
    assert path.stat().st_size > 2 << 20                      # several compressed slabs
    t = read_vcf(path, threads=threads)
    assert _columns(t) == truth


def test_htslib_path_gives_the_same_table(big):
    path, truth = big
    code = ("import json, sys\nfrom tmbcalc.io.vcf import read_vcf\n"
            f"t = read_vcf({str(path)!r}, threads=2)\n"
            "print(json.dumps([(t['pos'] + 1).tolist(), t['t_depth'].tolist(), t['t_alt'].tolist()]))")
    env = {**os.environ, "TMBCALC_NO_LIBDEFLATE": "1"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    pos, dp, alt = json.loads(out.stdout)
    assert list(zip(pos, dp, alt)) == truth


def test_corrupt_block_is_an_error_not_garbage(big, tmp_path):
    path, _ = big
    data = bytearray(path.read_bytes())
    data[len(data) // 3] ^= 0xFF                              # inside some deflate stream
    bad = tmp_path / "flip.vcf.gz"
    bad.write_bytes(bytes(data))
    for threads in (1, 2):
        with pytest.raises(InputError, match="flip.vcf.gz: "):
            read_vcf(bad, threads=threads)


@pytest.mark.parametrize("cut", [0.25, 0.5, 0.9])
def test_truncation_anywhere_is_reported(big, tmp_path, cut):
    path, _ = big
    data = path.read_bytes()
    bad = tmp_path / "cut.vcf.gz"
    bad.write_bytes(data[: int(len(data) * cut)])
    with pytest.raises(InputError, match="cut.vcf.gz: compressed data is truncated or corrupt"):
        read_vcf(bad, threads=2)


def test_libdeflate_path_is_active_when_installed():
    """scripts/install-test-deps.sh installs libdeflate0, so the fast readers must be in use here
    (otherwise the comparisons above would compare htslib with itself)."""
    import ctypes.util

    if ctypes.util.find_library("deflate") is None:
        pytest.fail("libdeflate is not installed: run scripts/install-test-deps.sh")
    from tmbcalc.ext import load_kernel

    assert load_kernel("_msiprofile").FAST_BAM_AVAILABLE


def test_cut_at_a_block_boundary_is_reported_on_both_paths(tmp_path):
    """Without its 28-byte end-of-file block a bgzipped VCF (or BCF) still decompresses cleanly,
    to a shorter file: it must be refused, not counted, with and without libdeflate."""
    path, _ = _make(tmp_path, 200)
    bcf = tmp_path / "many.bcf"
    run_tool("bcftools", "view", "-Ob", "-o", str(bcf), str(path))
    for src in (path, bcf):
        data = src.read_bytes()
        assert data.endswith(bytes.fromhex("1f8b08040000000000ff0600424302001b0003000000000000000000"))
        cut = tmp_path / ("cut_" + src.name)
        cut.write_bytes(data[:-28])
        with pytest.raises(InputError, match="truncated"):
            read_vcf(cut, threads=2)
        code = f"from tmbcalc.io.vcf import read_vcf\nread_vcf({str(cut)!r})"
        env = {**os.environ, "TMBCALC_NO_LIBDEFLATE": "1"}
        out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
        assert out.returncode != 0 and "truncated" in out.stderr
