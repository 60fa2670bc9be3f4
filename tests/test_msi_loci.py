"""Loci file format: round trip, validation errors with line numbers, minimal units."""
from __future__ import annotations

import io

import pytest
from hypothesis import given, settings
from hypothesis import strategies as hs

from tmbcalc.errors import InputError
from tmbcalc.msi.loci import COLUMNS, MAGIC, LociTable, minimal_unit, read_loci, write_loci

HEADER = "\t".join(COLUMNS)


def _write(tmp_path, body, name="l.tsv"):
    p = tmp_path / name
    p.write_text(body)
    return p


def test_minimal_unit_by_hand():
    assert minimal_unit("ATAT") == "AT"
    assert minimal_unit("AAAA") == "A"
    assert minimal_unit("AAC") == "AAC"
    assert minimal_unit("ACGACG") == "ACG"
    assert minimal_unit("ACAG") == "ACAG"


def test_read_minimal_file_with_comments_and_gzip(tmp_path):
    body = (f"{MAGIC}\n# made by hand\n{HEADER}\n"
            "2\t47641559\t47641585\tA\t26\tCCAGTTTTTC\tGGTCTTGGAG\tBAT26\n"
            "chr20\t100\t112\tCA\t6\tACGTTGCAGT\tGTCAGTCAGT\t.\n")
    t = read_loci(_write(tmp_path, body))
    assert len(t) == 2
    assert t.name.tolist() == ["BAT26", ""]
    assert t.canonical_chroms().tolist() == ["2", "20"]
    assert t.comments == ["tmbcalc-msi-loci v1", "made by hand"]
    import gzip

    gz = tmp_path / "l.tsv.gz"
    gz.write_bytes(gzip.compress(body.encode()))
    assert read_loci(gz).row(0) == t.row(0)


def test_seven_column_file_without_name(tmp_path):
    body = "\t".join(COLUMNS[:-1]) + "\n1\t50\t60\tA\t10\tCCCCC\tGGGGG\n"
    assert read_loci(_write(tmp_path, body)).name.tolist() == [""]


@pytest.mark.parametrize("line,msg", [
    ("1\t50\t61\tA\t10\tCCCCC\tGGGGG\tx", "end - start = 11"),
    ("1\t50\t60\tAA\t5\tCCCCC\tGGGGG\tx", "not minimal"),
    ("1\t50\t60\tN\t10\tCCCCC\tGGGGG\tx", "unit 'N'"),
    ("1\t50\t60\tA\t10\tCCNCC\tGGGGG\tx", "left_flank"),
    ("1\t50\t60\tA\t10\tCCCC\tGGGGG\tx", "differ in length"),
    ("1\tx\t60\tA\t10\tCCCCC\tGGGGG\tx", "integers"),
    ("1\t50\t60\tA\t10\tCCCCC", "columns"),
    ("1\t2\t12\tA\t10\tCCCCC\tGGGGG\tx", "before the contig start"),
    ("1\t60\t50\tA\t10\tCCCCC\tGGGGG\tx", "half-open"),
    ("1\t50\t51\tA\t1\tCCCCC\tGGGGG\tx", "at least 2"),
])
def test_malformed_lines_name_the_line(tmp_path, line, msg):
    body = f"{HEADER}\n1\t10\t20\tT\t10\tCCCCC\tGGGGG\tok\n{line}\n"
    with pytest.raises(InputError, match=f"line 3: .*{msg}") as exc:
        read_loci(_write(tmp_path, body))
    assert "l.tsv" in str(exc.value)


def test_structural_errors(tmp_path):
    with pytest.raises(InputError, match="header"):
        read_loci(_write(tmp_path, "1\t10\t20\tT\t10\tCCCCC\tGGGGG\tok\n"))
    with pytest.raises(InputError, match="no loci"):
        read_loci(_write(tmp_path, HEADER + "\n"))
    with pytest.raises(InputError, match="line 3: '#'"):
        read_loci(_write(tmp_path, f"{HEADER}\n1\t10\t20\tT\t10\tCCCCC\tGGGGG\tok\n# late\n"))
    with pytest.raises(InputError, match="line 3: locus 1:15-25 overlaps 1:10-20"):
        read_loci(_write(tmp_path, f"{HEADER}\n1\t10\t20\tT\t10\tCCCCC\tGGGGG\tok\n"
                                   "1\t15\t25\tA\t10\tCCCCC\tGGGGG\tx\n"))
    with pytest.raises(InputError, match="does not exist"):
        read_loci(tmp_path / "nope.tsv")


bases = hs.sampled_from("ACGT")


@hs.composite
def loci_rows(draw):
    n = draw(hs.integers(1, 8))
    rows, pos = [], 20
    for i in range(n):
        ulen = draw(hs.integers(1, 6))
        unit = "".join(draw(hs.lists(bases, min_size=ulen, max_size=ulen)))
        unit = minimal_unit(unit)
        copies = draw(hs.integers(2, 20))
        fl = draw(hs.integers(1, 12))
        lf = "".join(draw(hs.lists(bases, min_size=fl, max_size=fl)))
        rf = "".join(draw(hs.lists(bases, min_size=fl, max_size=fl)))
        start = pos + draw(hs.integers(fl, 200))
        end = start + len(unit) * copies
        rows.append(("chr" + draw(hs.sampled_from(["1", "X"])), start, end, unit, copies, lf, rf,
                     draw(hs.sampled_from(["", "BAT25", "NR-21"]))))
        pos = end
    return rows


@settings(max_examples=60, deadline=None)
@given(loci_rows())
def test_write_read_round_trip(tmp_path_factory, rows):
    t = LociTable.from_rows(rows)
    buf = io.StringIO()
    write_loci(t, buf, ["provenance: {}"])
    p = tmp_path_factory.mktemp("rt") / "x.tsv"
    p.write_text(buf.getvalue())
    back = read_loci(p)
    assert [back.row(i) for i in range(len(back))] == [t.row(i) for i in range(len(t))]
