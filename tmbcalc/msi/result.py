"""The MSI result contract shared by every MSI mode (paired, tumor-only, markers, mutations).

Every mode's JSON (``PREFIX.msi.json``) starts with the same core fields:

    sample, mode, status ("MSI-H" | "MSS" | "indeterminate"), call_basis, msi_score, score_unit,
    statistic (the sample-level statistic the status comes from), evaluable_units, unit_kind,
    informational (secondary scores; never a status of their own), warnings, provenance

followed by mode-specific sections.  Read modes also write ``PREFIX.msi_loci.tsv.gz`` (one row
per locus) and ``PREFIX.msi_msisensor.tsv`` (MSIsensor-pro's report layout:
``Total_Number_of_Sites  Number_of_Somatic_Sites  %``; here total = evaluable loci and somatic
= loci called unstable, so % equals ``msi_score``).
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..output import OutputSet, json_default
from ..provenance import build_provenance
from .loci import LociTable
from .profile import REASONS, RepeatLengthHistogram

CORE_FIELDS = ("sample", "mode", "status", "call_basis", "msi_score", "score_unit", "statistic",
               "evaluable_units", "unit_kind", "informational", "warnings")


def clean_json(doc: Any) -> Any:
    """JSON-safe copy: numpy -> Python, NaN/inf -> null."""
    return json.loads(json.dumps(doc, default=json_default), parse_constant=lambda _c: None)


def msisensor_report(total: int, somatic: int) -> str:
    """MSIsensor-pro's ``msi`` / ``pro`` report text for one sample."""
    pct = 100.0 * somatic / total if total else 0.0
    return f"Total_Number_of_Sites\tNumber_of_Somatic_Sites\t%\n{total}\t{somatic}\t{pct:.2f}\n"


@dataclass
class MsiScore:
    """Result of :func:`tmbcalc.msi.score.msi_score` (read modes).  ``loci`` holds per-locus
    numpy columns aligned with ``table``; nothing is written until :meth:`write`."""

    sample: str
    mode: str  # "paired" | "tumor-only"
    status: str
    call_basis: str
    msi_score: float | None  # % unstable among evaluable loci (None if none evaluable)
    evaluable_loci: int
    unstable_loci: int
    statistic: dict[str, Any]
    loci: dict[str, np.ndarray]
    table: LociTable
    summary: dict[str, Any] = field(default_factory=dict)
    provenance: dict[str, Any] = field(default_factory=dict)
    tumor: RepeatLengthHistogram | None = None
    normal: RepeatLengthHistogram | None = None

    @classmethod
    def from_scorer(cls, sample: str, mode: str, status: str, basis: str, r: dict[str, Any], table: LociTable,
                    tumor: RepeatLengthHistogram, normal: RepeatLengthHistogram | None, *,
                    parameters: dict[str, Any], inputs: dict[str, Any]) -> MsiScore:
        ev, un = r["evaluable"], r["unstable"]
        n_ev, n_un = int(ev.sum()), int(un.sum())
        cols = {"tumor_reads": tumor.reads, "tumor_modal_length": tumor.modal_length(), **r["loci"],
                "evaluable": ev, "unstable": un}
        st = r["sample"]
        statistic = {"name": "pooled contraction excess", "z": st.get("z"), "p": st.get("p"),
                     "unstable_read_fraction": st.get("fraction"), "unstable_read_fraction_ci95": st.get("ci95"),
                     **({"z_uncalibrated": st.get("z_raw"), "null": st.get("null")} if "z_raw" in st else {})}
        summary = {"loci_total": len(table), "stutter": r.get("stutter"), "pair_check": r.get("pair_check"),
                   "baseline": r.get("baseline"), "informational": r.get("informational", {}),
                   "reads": _reads(tumor, normal), "contigs_missing_in_tumor": tumor.contigs_missing,
                   "parameters": parameters}
        prov = build_provenance("msi score", parameters, inputs)
        score = round(100.0 * n_un / n_ev, 4) if n_ev else None
        return cls(sample, mode, status, basis, score, n_ev, n_un, statistic, cols, table, summary, prov,
                   tumor, normal)

    def to_dict(self) -> dict[str, Any]:
        s = self.summary
        warnings = []
        pc = s.get("pair_check")
        if pc and pc.get("flag"):
            warnings.append(pc["reason"])
        doc = {"sample": self.sample, "mode": self.mode, "status": self.status, "call_basis": self.call_basis,
               "msi_score": self.msi_score, "score_unit": "% of evaluable loci called unstable (informational)",
               "statistic": self.statistic, "evaluable_units": self.evaluable_loci, "unit_kind": "loci",
               "informational": s.get("informational", {}), "warnings": warnings,
               "evaluable_loci": self.evaluable_loci, "unstable_loci": self.unstable_loci,
               "loci_total": s["loci_total"], "stutter": s.get("stutter"), "pair_check": pc,
               "baseline": s.get("baseline"), "reads": s["reads"],
               "contigs_missing_in_tumor": s["contigs_missing_in_tumor"], "parameters": s["parameters"],
               "provenance": self.provenance}
        if s["parameters"].get("markers"):
            doc["markers"] = self.markers()
        return clean_json({k: v for k, v in doc.items() if v is not None or k in CORE_FIELDS})

    def markers(self) -> list[dict[str, Any]]:
        """Per locus (marker) name, position, evaluable and unstable flags and p / q values."""
        t, c = self.table, self.loci
        return [{"name": t.name[i] or f"{t.chrom[i]}:{int(t.start[i])}", "chrom": t.chrom[i], "start": int(t.start[i]),
                 "end": int(t.end[i]), "evaluable": bool(c["evaluable"][i]), "unstable": bool(c["unstable"][i]),
                 "p_value": c["p_value"][i], "q_value": c["q_value"][i]} for i in range(len(t))]

    def write(self, prefix: str | Path, *, dis: bool = False) -> list[Path]:
        """Write PREFIX.msi.json, PREFIX.msi_loci.tsv.gz, PREFIX.msi_msisensor.tsv (and
        PREFIX.msi_dis with ``dis``) atomically: all or nothing."""
        from .report import write_dis_file, write_loci_table

        doc = self.to_dict()
        header = [f"tmbcalc {self.provenance.get('version')} msi score; sample {self.sample}; mode {self.mode}; "
                  f"created {self.provenance.get('created_utc')}",
                  f"parameters: {json.dumps(self.summary['parameters'], sort_keys=True, default=json_default)}",
                  "coordinates: 0-based half-open repeat spans; lengths in bp; NA = not applicable/no data"]
        with OutputSet(str(prefix), inputs=self.provenance.get("inputs")) as outs:
            outs.write_json(".msi.json", doc)
            with outs.open(".msi_loci.tsv.gz") as fh:
                write_loci_table(fh, self.loci, self.table, header)
            outs.write_text(".msi_msisensor.tsv", msisensor_report(self.evaluable_loci, self.unstable_loci))
            paths = [outs.path(".msi.json"), outs.path(".msi_loci.tsv.gz"), outs.path(".msi_msisensor.tsv")]
            if dis:
                assert self.tumor is not None
                with outs.open(".msi_dis") as fh:
                    write_dis_file(fh, self.table, self.tumor, self.normal)
                paths.append(outs.path(".msi_dis"))
        return paths


def _reads(tumor: RepeatLengthHistogram, normal: RepeatLengthHistogram | None) -> dict[str, Any]:
    out: dict[str, Any] = {"tumor_measured": int(tumor.reads.sum()),
                           "tumor_rejected": dict(zip(REASONS, map(int, tumor.rejected.sum(axis=0))))}
    if normal is not None:
        out["normal_measured"] = int(normal.reads.sum())
        out["normal_rejected"] = dict(zip(REASONS, map(int, normal.rejected.sum(axis=0))))
    return out
