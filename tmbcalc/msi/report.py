"""Output files of ``msi score``: PREFIX.msi.json, PREFIX.msi_loci.tsv.gz, PREFIX.msi_dis.

All files are written through one :class:`tmbcalc.output.OutputSet` (all or nothing).
"""
from __future__ import annotations

import json
import math
from pathlib import Path
from typing import IO, Any

import numpy as np

from ..output import OutputSet, json_default
from ..provenance import build_provenance
from .loci import LociTable
from .profile import Profile

LOCI_COLUMNS = ("chrom", "start", "end", "unit", "ref_copies", "name", "tumor_reads", "normal_reads",
                "tumor_modal_length", "normal_modal_length", "tumor_distant_fraction",
                "normal_distant_fraction", "expected_distant_fraction", "baseline_support", "baseline_mean", "baseline_sd",
                "statistic", "fisher_p", "chisq_p", "mantis_difference", "p_value", "q_value",
                "evaluable", "unstable")


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


def write_loci_table(fh: IO[str], res: Any, table: LociTable, header_lines: list[str]) -> None:
    for line in header_lines:
        fh.write(f"# {line}\n")
    fh.write("\t".join(LOCI_COLUMNS) + "\n")
    cols = res.loci
    for i in range(len(table)):
        row = [table.chrom[i], int(table.start[i]), int(table.end[i]), table.unit[i],
               int(table.ref_copies[i]), table.name[i] or "."]
        for c in LOCI_COLUMNS[6:]:
            v = cols.get(c)
            row.append(None if v is None else v[i])
        fh.write("\t".join(_cell(x) for x in row) + "\n")


def write_dis_file(fh: IO[str], table: LociTable, tumor: Profile, normal: Profile | None) -> None:
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


def write_outputs(res: Any, table: LociTable, tumor: Profile, normal: Profile | None, prefix: str | Path, *,
                  write_dis: bool, inputs: dict[str, Any], parameters: dict[str, Any]) -> list[Path]:
    prov = build_provenance("msi score", parameters, inputs)
    doc = {"sample": res.sample, "msi_score": res.msi_score, "status": res.status,
           "evaluable_loci": res.evaluable_loci, "unstable_loci": res.unstable_loci, "mode": res.mode,
           "cutoff": res.cutoff, "call_basis": res.call_basis, "score_unit": "% unstable of evaluable loci",
           **res.summary, "provenance": prov}
    doc = json.loads(json.dumps(doc, default=json_default), parse_constant=lambda _c: None)
    header = [f"tmbcalc {prov['version']} msi score; sample {res.sample}; mode {res.mode}; "
              f"created {prov['created_utc']}",
              f"parameters: {json.dumps(parameters, sort_keys=True, default=json_default)}",
              "coordinates: 0-based half-open repeat spans; lengths in bp; NA = not applicable/no data"]
    with OutputSet(str(prefix), inputs=prov.get("inputs")) as outs:
        outs.write_json(".msi.json", doc)
        with outs.open(".msi_loci.tsv.gz") as fh:
            write_loci_table(fh, res, table, header)
        if write_dis:
            with outs.open(".msi_dis") as fh:
                write_dis_file(fh, table, tumor, normal)
        paths = [outs.path(".msi.json"), outs.path(".msi_loci.tsv.gz")]
        if write_dis:
            paths.append(outs.path(".msi_dis"))
    return paths


