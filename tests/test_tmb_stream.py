"""Streaming VCF input: results must not depend on the chunk size or the thread count.

A synthetic Mutect2/VEP-like VCF (benchmarks/make_vcf.py: ~3% multi-allelic records, mixed
FILTERs, CSQ, tumor/normal AD/AF/DP) is read with chunks of 7 rows and as one table; the chunks
are checked against bcftools (ALT-row counts, record boundaries) and every output (JSON counts,
summary TSV, decompressed variants report) must be identical whatever the chunking/threads.
"""
from __future__ import annotations

import gzip
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tmbcalc import compute_tmb
from tmbcalc.io.vcf import iter_vcf_chunks, read_vcf

from .conftest import need_tool, run_cli, run_tool

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def synth_vcf(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("stream") / "synth.vcf.gz"
    subprocess.run([sys.executable, str(REPO / "benchmarks/make_vcf.py"), str(out), "--records", "1500",
                    "--seed", "11"], check=True, capture_output=True)
    return out


@pytest.fixture(scope="module")
def footprint(tmp_path_factory) -> Path:
    """Every other 5 Mb of each chromosome (so that the footprint rule matters)."""
    from tmbcalc.contigs import BUILD_LENGTHS

    bed = tmp_path_factory.mktemp("fp") / "half.bed"
    lines = []
    for c, n in BUILD_LENGTHS["GRCh38"].items():
        if c in ("MT",):
            continue
        for s in range(0, n, 10_000_000):
            lines.append(f"chr{c}\t{s}\t{min(s + 5_000_000, n)}\n")
    bed.write_text("".join(lines))
    return bed


def _alt_rows_by_bcftools(vcf: Path) -> tuple[int, int]:
    """(records, ALT rows) counted by bcftools (ALT '.' gives no row)."""
    out = run_tool("bcftools", "query", "-f", "%ALT\n", str(vcf))
    alts = [ln for ln in out.splitlines()]
    return len(alts), sum(0 if a == "." else len(a.split(",")) for a in alts)


def test_chunks_never_split_a_record_and_match_bcftools(synth_vcf):
    need_tool("bcftools")
    n_records, n_rows = _alt_rows_by_bcftools(synth_vcf)
    multi = [ln for ln in run_tool("bcftools", "view", "-H", "-m3", str(synth_vcf)).splitlines()]
    assert multi, "the synthetic VCF must contain multi-allelic records"
    chunks = list(iter_vcf_chunks(synth_vcf, chunk_rows=7, threads=1))
    assert sum(len(c) for c in chunks) == n_rows
    assert len(chunks) >= n_rows // 7
    for a, b in zip(chunks, chunks[1:]):
        assert len(a) <= 7
        assert a["record"][-1] < b["record"][0]          # a record's ALT rows stay together
        assert a.contigs == b.contigs[:len(a.contigs)]  # contig numbering only grows
    assert chunks[-1].meta["records"] == n_records
    whole = read_vcf(synth_vcf)
    assert len(whole) == n_rows
    for name, col in whole.columns.items():
        got = np.concatenate([c.columns[name] for c in chunks])
        np.testing.assert_array_equal(got, col, err_msg=name)
    buf, off = whole.allele_text
    i = int(np.flatnonzero(whole["n_alts"] > 1)[0])
    k = next(j for j, c in enumerate(chunks) if (c["record"] == whole["record"][i]).any())
    row = int(np.flatnonzero(chunks[k]["record"] == whole["record"][i])[0])
    cb, co = chunks[k].allele_text
    assert bytes(cb[co[row]:co[row + 1]]) == bytes(buf[off[i]:off[i + 1]])


def test_single_record_larger_than_chunk(synth_vcf):
    chunks = list(iter_vcf_chunks(synth_vcf, chunk_rows=1))
    assert all(len(c) == 1 or len(np.unique(c["record"])) == 1 for c in chunks)
    assert max(len(c) for c in chunks) >= 2          # a multi-allelic record forms its own chunk


def _report_text(path: Path) -> str:
    with gzip.open(path, "rt") as fh:
        return fh.read()


def test_compute_tmb_same_for_any_chunk_size_and_threads(synth_vcf, footprint, tmp_path):
    kw = dict(bed=footprint, profile="wes-merino", min_depth=10, min_vaf=0.02, multiallelic="first")
    ref = compute_tmb(synth_vcf, threads=1, chunk_rows=10 ** 9, **kw)
    ref.write(tmp_path / "ref", threads=1)
    s_ref = ref.samples[0]
    assert s_ref.records == len(ref.table) and s_ref.excluded["multiallelic"] > 0
    # a pure-numpy recount of the reference table: eligible = no failing rule
    assert s_ref.eligible_variants == int(np.count_nonzero(ref.outcome.fail_bits == 0))
    for chunk_rows, threads, keep in ((7, 1, False), (7, 3, True), (1000, 4, False)):
        res = compute_tmb(synth_vcf, threads=threads, chunk_rows=chunk_rows, keep_table=keep,
                          spool_dir=tmp_path, **kw)
        assert [s.to_dict() for s in res.samples] == [s.to_dict() for s in ref.samples]
        assert res.warnings == ref.warnings
        prefix = tmp_path / f"c{chunk_rows}_{threads}"
        res.write(prefix, threads=threads)
        assert _report_text(Path(f"{prefix}.variants.tsv.gz")) == _report_text(tmp_path / "ref.variants.tsv.gz")
        if keep:
            for name, col in ref.table.columns.items():
                np.testing.assert_array_equal(res.table.columns[name], col, err_msg=name)
            np.testing.assert_array_equal(res.outcome.fail_bits, ref.outcome.fail_bits)
        else:
            assert res.table is None
        a = json.loads(Path(f"{prefix}.tmb.json").read_text())
        b = json.loads((tmp_path / "ref.tmb.json").read_text())
        assert a["samples"] == b["samples"]
        assert a["provenance"]["input_meta"] == b["provenance"]["input_meta"]


def test_cli_streaming_matches_api(synth_vcf, footprint, tmp_path):
    ref = compute_tmb(synth_vcf, bed=footprint, profile="wes-merino")
    ref.write(tmp_path / "api")
    for args in (["--chunk-rows", "7", "--threads", "1"], ["--threads", "3"]):
        prefix = tmp_path / ("cli" + "_".join(args))
        proc = run_cli("tmb", str(synth_vcf), "--bed", str(footprint), "--quiet", "-o", str(prefix), *args)
        assert proc.returncode == 0, proc.stderr
        assert _report_text(Path(f"{prefix}.variants.tsv.gz")) == _report_text(tmp_path / "api.variants.tsv.gz")
        got = json.loads(Path(f"{prefix}.tmb.json").read_text())["samples"]
        assert got == json.loads((tmp_path / "api.tmb.json").read_text())["samples"]
    # no temporary spool file left next to the outputs
    assert not [p for p in tmp_path.iterdir() if p.name.startswith("tmbcalc-variants-")]


def test_streamed_error_leaves_no_outputs(tmp_path, footprint):
    """A record error found after some chunks were processed: exit 1, no output files."""
    lines = ["##fileformat=VCFv4.2", "##contig=<ID=chr1,length=248956422>",
             '##FORMAT=<ID=DP,Number=1,Type=Integer,Description="d">',
             '##FORMAT=<ID=AD,Number=R,Type=Integer,Description="a">',
             '##FORMAT=<ID=AF,Number=A,Type=Float,Description="f">',
             "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tT"]
    lines += [f"chr1\t{1000 + i}\t.\tA\tC\t.\tPASS\t.\tDP:AD:AF\t50:40,10:0.2" for i in range(40)]
    lines += ["chr1\tnot_a_number\t.\tA\tC\t.\tPASS\t.\tDP:AD:AF\t50:40,10:0.2"]
    vcf = tmp_path / "bad.vcf"
    vcf.write_text("\n".join(lines) + "\n")
    proc = run_cli("tmb", str(vcf), "--bed", str(footprint), "--consequences", "all", "--chunk-rows", "7",
                   "-o", str(tmp_path / "out"))
    assert proc.returncode == 1
    assert "line 47" in proc.stderr and "Traceback" not in proc.stderr
    assert not list(tmp_path.glob("out*")) and not list(tmp_path.glob("tmbcalc-variants-*"))
