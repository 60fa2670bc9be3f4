"""The microsatellite loci file: format, reader, writer, validation.

A loci file lists the repeats that ``tmbcalc msi`` profiles.  ``tmbcalc msi scan`` writes it
from a reference FASTA; a lab may also write one by hand (e.g. the Promega markers).  It is a
tab-separated text file (plain or gzip-compressed)::

    ##tmbcalc-msi-loci v1
    # tmbcalc 0.1.0 msi scan ...            <- any number of '#' lines (provenance, comments)
    # parameters: {...}
    chrom  start  end  unit  ref_copies  left_flank  right_flank  name
    20     10012345  10012357  A  12  GCTTGCAGTG  TCCACTTGAC  .

Rules (checked by :func:`read_loci`; a violation is an :class:`InputError` naming the line):

* Lines starting with ``#`` may only appear **before** the header line; blank lines are ignored.
* The header line is required and must list exactly the eight columns above, in that order
  (``name`` may be omitted: then seven columns per line).
* ``chrom``: contig name as spelled in the reference the loci came from (matching against a
  BAM or another reference goes through canonical names: ``chr20`` == ``20``).
* ``start``/``end``: 0-based, half-open coordinates of the **repeat span** (the ``ref_copies``
  whole copies of ``unit``; a trailing partial copy is not part of the span).
* ``unit``: the repeat motif, 1-6 bases of ``ACGT`` (upper case), in reference orientation,
  and *minimal*: ``ATAT`` is written as unit ``AT`` with twice the copies.
* ``ref_copies``: integer number of whole copies in the reference; ``end - start`` must equal
  ``len(unit) * ref_copies``; at least 2.
* ``left_flank``/``right_flank``: the reference bases immediately before ``start`` and from
  ``end`` on (same length each side, at least 1 base, ``ACGT`` only).  They anchor reads in
  the profile step and let a reader check that the loci belong to a reference.
* ``name``: free text without tabs (e.g. ``BAT26``); ``.`` or empty when none.
* Loci must not overlap each other on the same contig (including across flanks is allowed).

Coordinates stay 0-based half-open in memory (:class:`LociTable`).
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import numpy as np

from ..contigs import canonical
from ..errors import InputError
from ..io.textfile import iter_lines

MAGIC = "##tmbcalc-msi-loci v1"
COLUMNS = ("chrom", "start", "end", "unit", "ref_copies", "left_flank", "right_flank", "name")
MAX_UNIT = 6
_ACGT = re.compile(r"^[ACGT]+$")


def minimal_unit(motif: str) -> str:
    """Shortest motif whose repetition gives ``motif`` (``ATAT`` -> ``AT``, ``AAA`` -> ``A``)."""
    n = len(motif)
    for k in range(1, n + 1):
        if n % k == 0 and motif[:k] * (n // k) == motif:
            return motif[:k]
    return motif


@dataclass
class LociTable:
    """Microsatellite loci, one row per locus, 0-based half-open repeat spans.

    ``chrom`` holds the names as written in the file (native spelling of the source
    reference); :meth:`canonical_chroms` gives the canonical ones.
    """

    chrom: np.ndarray  # object: contig names (native spelling)
    start: np.ndarray  # int64: repeat start, 0-based
    end: np.ndarray  # int64: repeat end, exclusive
    unit: np.ndarray  # object: repeat motif
    ref_copies: np.ndarray  # int32: whole copies in the reference
    left_flank: np.ndarray  # object: reference bases before start
    right_flank: np.ndarray  # object: reference bases from end on
    name: np.ndarray  # object: '' where none
    comments: list[str] = field(default_factory=list)  # '#' lines of the file, without '#'
    source: str = ""

    def __len__(self) -> int:
        return int(self.start.size)

    @classmethod
    def from_rows(cls, rows: Iterable[Mapping[str, Any] | tuple], *, comments: list[str] | None = None,
                  source: str = "") -> LociTable:
        """Build from dicts (keys as :data:`COLUMNS`) or tuples in column order; validated."""
        cols: dict[str, list[Any]] = {c: [] for c in COLUMNS}
        for r in rows:
            if not isinstance(r, Mapping):
                r = dict(zip(COLUMNS, r))
            for c in COLUMNS:
                cols[c].append(r.get(c, "") if c == "name" else r[c])
        table = cls._from_lists(cols, comments or [], source)
        for i in range(len(table)):
            _check_row(table, i, None, source)
        _check_overlaps(table, None, source)
        return table

    @classmethod
    def _from_lists(cls, cols: dict[str, list[Any]], comments: list[str], source: str) -> LociTable:
        return cls(
            chrom=np.array([str(x) for x in cols["chrom"]], dtype=object),
            start=np.asarray(cols["start"], dtype=np.int64).reshape(-1),
            end=np.asarray(cols["end"], dtype=np.int64).reshape(-1),
            unit=np.array([str(x) for x in cols["unit"]], dtype=object),
            ref_copies=np.asarray(cols["ref_copies"], dtype=np.int32).reshape(-1),
            left_flank=np.array([str(x) for x in cols["left_flank"]], dtype=object),
            right_flank=np.array([str(x) for x in cols["right_flank"]], dtype=object),
            name=np.array(["" if x in (None, ".") else str(x) for x in cols["name"]], dtype=object),
            comments=list(comments), source=source)

    def canonical_chroms(self) -> np.ndarray:
        return np.array([canonical(c) for c in self.chrom], dtype=object)

    def contigs(self) -> list[str]:
        """Distinct contig names (native spelling) in file order."""
        return list(dict.fromkeys(self.chrom.tolist()))

    def unit_length(self) -> np.ndarray:
        return np.array([len(u) for u in self.unit], dtype=np.int32)

    def subset(self, mask_or_index: np.ndarray) -> LociTable:
        idx = np.asarray(mask_or_index)
        return LociTable(self.chrom[idx], self.start[idx], self.end[idx], self.unit[idx],
                         self.ref_copies[idx], self.left_flank[idx], self.right_flank[idx],
                         self.name[idx], list(self.comments), self.source)

    def row(self, i: int) -> dict[str, Any]:
        return {"chrom": str(self.chrom[i]), "start": int(self.start[i]), "end": int(self.end[i]),
                "unit": str(self.unit[i]), "ref_copies": int(self.ref_copies[i]),
                "left_flank": str(self.left_flank[i]), "right_flank": str(self.right_flank[i]),
                "name": str(self.name[i])}


def _fail(msg: str, line: int | None, source: str) -> InputError:
    where = f"line {line}: " if line is not None else ""
    return InputError(f"malformed loci file: {where}{msg}", source or None)


def _check_row(t: LociTable, i: int, line: int | None, source: str) -> None:
    unit = t.unit[i]
    s, e, k = int(t.start[i]), int(t.end[i]), int(t.ref_copies[i])
    if not t.chrom[i]:
        raise _fail("empty chrom", line, source)
    if s < 0 or e <= s:
        raise _fail(f"start {s} / end {e} is not a non-empty 0-based half-open span", line, source)
    if not (1 <= len(unit) <= MAX_UNIT) or not _ACGT.match(unit):
        raise _fail(f"unit '{unit}' must be 1-{MAX_UNIT} bases of ACGT", line, source)
    if minimal_unit(unit) != unit:
        raise _fail(f"unit '{unit}' is not minimal (write '{minimal_unit(unit)}')", line, source)
    if k < 2:
        raise _fail(f"ref_copies {k} must be at least 2", line, source)
    if e - s != len(unit) * k:
        raise _fail(f"end - start = {e - s} but unit '{unit}' x {k} copies = {len(unit) * k} bp",
                    line, source)
    lf, rf = t.left_flank[i], t.right_flank[i]
    for what, fl in (("left_flank", lf), ("right_flank", rf)):
        if not fl or not _ACGT.match(fl):
            raise _fail(f"{what} '{fl}' must be one or more bases of ACGT", line, source)
    if len(lf) != len(rf):
        raise _fail(f"left_flank and right_flank differ in length ({len(lf)} vs {len(rf)})", line, source)
    if len(lf) > s:
        raise _fail(f"left_flank of {len(lf)} bp reaches before the contig start", line, source)
    if "\t" in t.name[i]:
        raise _fail("name contains a tab", line, source)


def _check_overlaps(t: LociTable, lines: list[int] | None, source: str) -> None:
    if len(t) < 2:
        return
    order = np.lexsort((t.start, t.chrom.astype(str)))
    c, s, e = t.chrom[order], t.start[order], t.end[order]
    bad = np.nonzero((c[1:] == c[:-1]) & (s[1:] < e[:-1]))[0]
    if bad.size:
        j = order[bad[0] + 1]
        line = lines[j] if lines else None
        prev = order[bad[0]]
        raise _fail(f"locus {t.chrom[j]}:{t.start[j]}-{t.end[j]} overlaps "
                    f"{t.chrom[prev]}:{t.start[prev]}-{t.end[prev]}", line, source)


def read_loci(path: str | Path) -> LociTable:
    """Read and validate a loci file (plain or gzip).  Errors name the file and line.

    An MSIsensor / MSIsensor-pro ``scan`` site list (header ``chromosome<TAB>location...``) is
    recognised and converted (:mod:`tmbcalc.msi.msisensor_sites`)."""
    p = Path(path)
    src = str(p)
    comments: list[str] = []
    cols: dict[str, list[Any]] = {c: [] for c in COLUMNS}
    lines: list[int] = []
    header: list[str] | None = None
    for n, line in iter_lines(p):
        if not line.strip():
            continue
        if header is None:
            if line.startswith("#"):
                comments.append(line[1:].lstrip("#").strip() if line.startswith("##") else line[1:].strip())
                continue
            fields = [f.strip() for f in line.split("\t")]
            if not comments and fields[:2] == ["chromosome", "location"]:  # MSIsensor(-pro) scan list
                from .msisensor_sites import read_msisensor_sites

                return read_msisensor_sites(p)
            if tuple(fields) not in (COLUMNS, COLUMNS[:-1]):
                raise _fail(f"expected the header line '{chr(9).join(COLUMNS)}' (tab-separated), "
                            f"got '{line[:80]}'", n, src)
            header = fields
            continue
        if line.startswith("#"):
            raise _fail("'#' lines are only allowed before the header", n, src)
        fields = line.split("\t")
        if len(fields) == 7:
            fields.append("")
        if len(fields) != 8:
            raise _fail(f"expected {len(header)} tab-separated columns, found {len(fields)}", n, src)
        try:
            start, end, copies = int(fields[1]), int(fields[2]), int(fields[4])
        except ValueError:
            raise _fail("start, end and ref_copies must be integers", n, src) from None
        for c, v in zip(COLUMNS, (fields[0].strip(), start, end, fields[3].strip(), copies,
                                  fields[5].strip(), fields[6].strip(), fields[7].strip())):
            cols[c].append(v)
        lines.append(n)
    if header is None:
        raise _fail("no header line (chrom, start, end, unit, ref_copies, left_flank, right_flank, name)",
                    None, src)
    if not lines:
        raise InputError("loci file lists no loci", src)
    t = LociTable._from_lists(cols, comments, src)
    for i in range(len(t)):
        _check_row(t, i, lines[i], src)
    _check_overlaps(t, lines, src)
    return t


def format_loci_header(provenance_lines: Iterable[str] = ()) -> str:
    """Magic line, ``#`` provenance lines and the column header, each ending in a newline."""
    out = [MAGIC]
    out += [f"# {x}" for x in provenance_lines]
    out.append("\t".join(COLUMNS))
    return "\n".join(out) + "\n"


def write_loci(table: LociTable, fh: IO[str], provenance_lines: Iterable[str] = ()) -> None:
    """Write ``table`` to an open text handle (e.g. from ``OutputSet.open``)."""
    fh.write(format_loci_header(provenance_lines))
    for i in range(len(table)):
        fh.write(f"{table.chrom[i]}\t{int(table.start[i])}\t{int(table.end[i])}\t{table.unit[i]}\t"
                 f"{int(table.ref_copies[i])}\t{table.left_flank[i]}\t{table.right_flank[i]}\t"
                 f"{table.name[i] or '.'}\n")


def check_against_reference(table: LociTable, fasta: Any, source: str = "") -> None:
    """Raise InputError if a locus' repeat or flanks differ from the reference.

    ``fasta`` is an open :class:`pysam.FastaFile`; contigs are matched by canonical name.
    Used when a loci file and a reference are both given, to catch a loci file from another
    build.  Checks every locus (cheap: one fetch each).
    """
    from ..contigs import native_map

    native = native_map(fasta.references)
    for i in range(len(table)):
        c = native.get(canonical(table.chrom[i]))
        if c is None:
            continue
        lf, rf = table.left_flank[i], table.right_flank[i]
        s, e = int(table.start[i]), int(table.end[i])
        seq = fasta.fetch(c, s - len(lf), e + len(rf)).upper()
        want = lf + table.unit[i] * int(table.ref_copies[i]) + rf
        if seq != want:
            raise InputError(
                f"locus {table.chrom[i]}:{s}-{e} ({table.unit[i]} x {int(table.ref_copies[i])}) does not "
                f"match the reference {source} (reference has {seq[:40]}); are the loci from another "
                f"build?", table.source or None)
