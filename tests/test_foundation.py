"""Contig handling, BED errors, atomic outputs and CLI conventions."""
from __future__ import annotations

import pytest

from tmbcalc.contigs import canonical, detect_build, shared_contigs
from tmbcalc.errors import ContigMismatchError, InputError
from tmbcalc.io.bed import read_bed
from tmbcalc.output import OutputSet

from .conftest import run_cli


def test_canonical_names():
    assert [canonical(x) for x in ["chr1", "1", "chrM", "M", "MT", "chrX", "chr"]] == \
        ["1", "1", "MT", "MT", "MT", "X", "chr"]


def test_detect_build_from_lengths():
    # chr1 and chr20 lengths from the GRCh37 / GRCh38 assembly reports
    assert detect_build({"1": 249250621, "20": 63025520}) == "GRCh37"
    assert detect_build({"chr1": 248956422}) == "GRCh38"
    assert detect_build({"demo20": 5000}) is None
    assert detect_build({"1": 249250621, "2": 242193529}) is None  # contradictory


def test_no_shared_contigs_is_refused():
    with pytest.raises(ContigMismatchError, match="shares no contig names"):
        shared_contigs(["1", "2"], ["demo20"], "a.vcf", "b.bed")
    assert shared_contigs(["chr1", "chr2"], ["1"], "a", "b") == {"1"}


def test_bad_bed_line_is_named(tmp_path):
    p = tmp_path / "bad.bed"
    p.write_text("1\t10\t20\n1\t30\tx\n")
    with pytest.raises(InputError, match=r"bad.bed: line 2: start/end are not integers"):
        read_bed(p)
    p.write_text("1\t50\t20\n")
    with pytest.raises(InputError, match="line 1: invalid interval"):
        read_bed(p)
    p.write_text("# nothing\n")
    with pytest.raises(InputError, match="contains no intervals"):
        read_bed(p)


def test_output_set_is_all_or_nothing(tmp_path):
    prefix = tmp_path / "run"
    with pytest.raises(RuntimeError):
        with OutputSet(prefix) as outs:
            outs.write_text(".a.txt", "a")
            raise RuntimeError("boom")
    assert list(tmp_path.iterdir()) == []
    with OutputSet(prefix) as outs:
        outs.write_json(".b.json", {"x": 1})
        with outs.open(".c.tsv.gz") as fh:
            fh.write("a\tb\n")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run.b.json", "run.c.tsv.gz"]


def test_cli_version_and_bad_arguments():
    r = run_cli("--version")
    assert r.returncode == 0 and r.stdout.startswith("tmbcalc ")
    r = run_cli("no-such-command")
    assert r.returncode == 2 and "Traceback" not in r.stderr


def test_gzip_outputs_are_byte_reproducible(tmp_path):
    import gzip
    blobs = []
    for run in ("a", "b"):
        d = tmp_path / run
        d.mkdir()
        with OutputSet(d / "x") as outs:
            with outs.open(".t.tsv.gz") as fh:
                fh.write("col\n1\n")
        blobs.append((d / "x.t.tsv.gz").read_bytes())
    assert blobs[0] == blobs[1]
    assert gzip.decompress(blobs[0]) == b"col\n1\n"
