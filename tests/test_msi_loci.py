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


# ------------------------------------------------------------------ MSIsensor(-pro) site lists
_BIN = {"A": 0, "C": 1, "G": 2, "T": 3}


def _binary(s: str) -> int:
    """MSIsensor's 2-bit encoding of a short sequence (A=00, C=01, G=10, T=11), first base high."""
    v = 0
    for c in s:
        v = (v << 2) | _BIN[c]
    return v


def _sites_from_reference(seq: str, chrom: str) -> list[tuple[int, str, int]]:
    """Independent pure-Python finder: homopolymers >= 8 bp and (AC)/(AG)... dinucleotides
    >= 5 copies, as (0-based start, unit, copies)."""
    import re

    out = []
    for m in re.finditer(r"(A{8,}|C{8,}|G{8,}|T{8,})", seq):
        out.append((m.start(), m.group(0)[0], len(m.group(0))))
    for m in re.finditer(r"((?:AC){5,}|(?:CA){5,}|(?:AG){5,}|(?:GA){5,}|(?:TG){5,}|(?:GT){5,})", seq):
        out.append((m.start(), m.group(0)[:2], len(m.group(0)) // 2))
    return sorted(out)


def test_msisensor_scan_lists_read_as_loci(shared, tmp_path):
    import pysam

    from tmbcalc.msi.loci import read_loci

    fa = pysam.FastaFile(str(shared / "reference/dndscv_grch37_chr3_segment/chr3_segment.fa"))
    chrom = fa.references[0]
    seq = fa.fetch(chrom).upper()
    sites = [s for s in _sites_from_reference(seq, chrom) if s[0] >= 5 and "N" not in seq[s[0] - 5:s[0]]]
    # drop sites overlapping each other (the two regexes can both match a compound repeat)
    keep, last_end = [], -1
    for st, unit, k in sites:
        e = st + len(unit) * k
        right = seq[e:e + 5]
        if st >= last_end and len(right) == 5 and set(right) <= set("ACGT") and set(seq[st - 5:st]) <= set("ACGT"):
            keep.append((st, unit, k))
            last_end = e
    assert len(keep) > 50
    classic = tmp_path / "classic.list"
    with open(classic, "w") as fh:
        fh.write("chromosome\tlocation\trepeat_unit_length\trepeat_unit_binary\trepeat_times\tleft_flank_binary\t"
                 "right_flank_binary\trepeat_unit_bases\tleft_flank_bases\tright_flank_bases\n")
        for st, unit, k in keep:
            lf, rf = seq[st - 5:st], seq[st + len(unit) * k:st + len(unit) * k + 5]
            fh.write(f"{chrom}\t{st}\t{len(unit)}\t{_binary(unit)}\t{k}\t{_binary(lf)}\t{_binary(rf)}\t{unit}\t{lf}\t{rf}\n")
    t = read_loci(classic)
    assert len(t) == len(keep)
    for i, (st, unit, k) in enumerate(keep):
        assert (int(t.start[i]), int(t.end[i]), t.unit[i], int(t.ref_copies[i])) == (st, st + len(unit) * k, unit, k)
        assert seq[int(t.start[i]):int(t.end[i])] == unit * k
        assert t.left_flank[i] == seq[st - 5:st]
    # the newer layout: only PASS rows
    newer = tmp_path / "newer.list"
    with open(newer, "w") as fh:
        fh.write("chromosome\tlocation\trepeat_unit_length\trepeat_times\trepeat_unit_bases\tleft_flank_bases\t"
                 "right_flank_bases\tthreshold\tsupport_num\tfilter\n")
        for j, (st, unit, k) in enumerate(keep):
            lf, rf = seq[st - 5:st], seq[st + len(unit) * k:st + len(unit) * k + 5]
            fh.write(f"{chrom}\t{st}\t{len(unit)}\t{k}\t{unit}\t{lf}\t{rf}\t0.01\t10\t{'PASS' if j % 2 == 0 else 'LowSupport'}\n")
    t2 = read_loci(newer)
    assert t2.start.tolist() == [st for j, (st, _u, _k) in enumerate(keep) if j % 2 == 0]


def test_msisensor_list_errors(tmp_path):
    from tmbcalc.errors import InputError
    from tmbcalc.msi.loci import read_loci

    p = tmp_path / "bad.list"
    p.write_text("chromosome\tlocation\trepeat_unit_length\trepeat_times\trepeat_unit_bases\tleft_flank_bases\t"
                 "right_flank_bases\n1\t100\t2\t5\tA\tACGTA\tCCCCC\n")
    with pytest.raises(InputError, match="line 2: repeat_unit_bases 'A' is not 2 bases"):
        read_loci(p)
    p.write_text("chromosome\tlocation\trepeat_unit_length\trepeat_times\n1\t100\t1\t9\n")
    with pytest.raises(InputError, match="lacks column"):
        read_loci(p)
