"""Per-locus writers of ``msi score``: the loci table (PREFIX.msi_loci.tsv.gz) and MSIsensor's
``_dis`` layout (PREFIX.msi_dis).  :class:`tmbcalc.msi.result.MsiScore` calls them inside one
output set (all or nothing)."""
from __future__ import annotations

import math
from typing import IO, Any

import numpy as np

from .loci import LociTable
from .profile import RepeatLengthHistogram

LOCI_COLUMNS = ("chrom", "start", "end", "unit", "ref_copies", "name", "tumor_reads", "normal_reads",
                "tumor_modal_length", "normal_modal_length", "tumor_contraction_fraction",
                "normal_contraction_fraction", "expected_contraction_fraction", "baseline_support",
                "baseline_mean", "baseline_sd", "baseline_shift_units", "statistic", "expansion_p", "fisher_p", "chisq_p",
                "mantis_difference", "p_value", "q_value", "evaluable", "unstable")


def _cell(x: Any) -> str:
    if x is None:
        return "NA"
    if isinstance(x, (bool, np.bool_)):
        return "1" if x else "0"
    if isinstance(x, (int, np.integer)):
        return str(int(x))
    if isinstance(x, (float, np.floating)):
        return "NA" if not math.isfinite(float(x)) else f"{float(x):.6g}"
    return str(x)


def write_loci_table(fh: IO[str], cols: dict[str, Any], table: LociTable, header_lines: list[str]) -> None:
    """One row per locus (columns ``LOCI_COLUMNS``; ``NA`` where a mode has no value)."""
    for line in header_lines:
        fh.write(f"# {line}\n")
    fh.write("\t".join(LOCI_COLUMNS) + "\n")
    n = len(table)
    # whole columns as Python lists (one conversion per column, not a numpy scalar per cell)
    data = [_as_list(table.chrom, n), _as_list(table.start, n), _as_list(table.end, n), _as_list(table.unit, n),
            _as_list(table.ref_copies, n), [x or "." for x in _as_list(table.name, n)]]
    data += [_as_list(cols.get(c), n) for c in LOCI_COLUMNS[6:]]
    fh.writelines("\t".join(map(_cell, row)) + "\n" for row in zip(*data))


def _as_list(v: Any, n: int) -> list[Any]:
    """A column as a list of Python scalars (``None`` x n for a column the mode lacks)."""
    if v is None:
        return [None] * n
    return v.tolist() if isinstance(v, np.ndarray) else list(v)


def write_dis_file(fh: IO[str], table: LociTable, tumor: RepeatLengthHistogram, normal: RepeatLengthHistogram | None) -> None:
    """MSIsensor ``_dis`` layout: per locus a line ``chrom location left_flank copies[unit]
    right_flank``, then ``N:`` (paired only) and ``T:`` lines with read counts for 1, 2, ...
    whole copies of the unit.  Lengths that are not whole copies are not representable here
    and are left out (they remain in the main outputs)."""
    w = tumor.window
    for i in range(len(table)):
        u = len(table.unit[i])
        ref = int(table.end[i] - table.start[i])
        max_copies = (ref + w) // u
        lengths = np.arange(ref - w, ref + w + 1)

        def by_copies(h: np.ndarray) -> list[int]:
            out = [0] * max_copies
            for L, c in zip(lengths.tolist(), h.tolist()):
                if c and L > 0 and L % u == 0:
                    out[L // u - 1] += c
            return out

        fh.write(f"{table.chrom[i]} {int(table.start[i])} {table.left_flank[i]} {int(table.ref_copies[i])}"
                 f"[{table.unit[i]}] {table.right_flank[i]}\n")
        if normal is not None:
            fh.write("N: " + " ".join(map(str, by_copies(normal.hist[i]))) + " \n")
        fh.write("T: " + " ".join(map(str, by_copies(tumor.hist[i]))) + " \n")
