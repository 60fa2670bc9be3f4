"""Read tmbcalc result files into per-sample views for the reports (never recomputes a result).

Result files are recognised by their suffix (the ``-o PREFIX`` of the command that wrote them):

==========================  ===========================================================
``PREFIX.tmb.json``         ``tmbcalc tmb``: TMB, interval, status per cut, denominator
``PREFIX.variants.tsv.gz``  ``tmbcalc tmb``: fate of every input record (VAF, consequence)
``PREFIX.callable.json``    ``tmbcalc callable``: callable bp, per contig
``PREFIX.coverage.tsv``     ``tmbcalc callable``: per-target depth
``PREFIX.msi.json``         ``tmbcalc msi score``: score, call, mode
``PREFIX.msi_loci.tsv.gz``  ``tmbcalc msi score``: per-locus statistics
``PREFIX.msi_dis``          ``tmbcalc msi score --write-dis``: per-locus length histograms
==========================  ===========================================================

A RESULTS argument may be one of these files, a PREFIX (every existing ``PREFIX.*`` above) or a
folder (every result file in it).  Files sharing a prefix describe one run; a ``tmb.json`` may
hold several samples (a MAF cohort), each becoming one :class:`SampleView`.
"""
from __future__ import annotations

import gzip
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import InputError

SUFFIXES = (".tmb.json", ".variants.tsv.gz", ".callable.json", ".coverage.tsv", ".msi.json",
            ".msi_loci.tsv.gz", ".msi_dis")


@dataclass
class SampleView:
    """Everything the reports show about one sample, as read from its result files.

    ``tmb``: the sample's entry of ``tmb.json`` ``samples``; ``tmb_doc``: the rest of that document
    (denominator, cutpoints, provenance, harmonization); ``variants``: counts from
    ``variants.tsv.gz`` (see :func:`read_variants`); ``callable``/``coverage``: from ``callable``;
    ``msi``/``msi_loci``/``msi_dis``: from ``msi score``.  Absent files leave ``None``.
    """

    name: str
    prefix: str
    files: dict[str, str] = field(default_factory=dict)
    tmb: dict[str, Any] | None = None
    tmb_doc: dict[str, Any] | None = None
    variants: dict[str, Any] | None = None
    callable: dict[str, Any] | None = None
    coverage: dict[str, Any] | None = None
    msi: dict[str, Any] | None = None
    msi_loci: list[dict[str, Any]] | None = None
    msi_dis: dict[tuple[str, int], dict[str, Any]] | None = None
    tumor_type: str | None = None

    @property
    def harmonized(self) -> dict[str, Any] | None:
        """The sample's harmonized TMB, normalised over the two layouts tmbcalc has written:
        ``samples[i].harmonized`` (+ top-level ``harmonization``) and the older
        ``provenance.calibration``.  Keys: value, low, high, interval, reference, model, method,
        extrapolated, model_file, calls / equivocal (per reference cut, or None), recommended (bool or None),
        zones, notes."""
        if self.tmb is None or self.tmb_doc is None:
            return None
        h = self.tmb.get("harmonized")
        if isinstance(h, dict):
            hz = self.tmb_doc.get("harmonization") or {}
            return {"value": h.get("value"), "low": h.get("pi_low"), "high": h.get("pi_high"),
                    "interval": "95% prediction interval", "reference": h.get("reference"),
                    "model": h.get("model"), "method": h.get("method"), "extrapolated": h.get("extrapolated"),
                    "model_file": hz.get("model_file"), "equivocal": h.get("equivocal"), "calls": h.get("high"),
                    "recommended": h.get("recommended"), "zones": hz.get("equivocal_zones"),
                    "notes": hz.get("notes") or []}
        cal = (self.tmb_doc.get("provenance") or {}).get("calibration")
        if isinstance(cal, dict):
            for row in cal.get("samples", []):
                if row.get("sample") == self.name:
                    return {"value": row.get("tmb_calibrated"), "low": row.get("ci95_low"),
                            "high": row.get("ci95_high"), "interval": "95% interval",
                            "reference": cal.get("reference"), "model": cal.get("model"),
                            "method": cal.get("method"), "extrapolated": row.get("extrapolated"),
                            "model_file": cal.get("model_file"), "equivocal": None, "calls": None,
                            "recommended": None,
                            "zones": None, "notes": []}
        return None


def _read_json(path: Path, what: str) -> dict[str, Any]:
    try:
        with open(path, encoding="utf-8") as fh:
            doc = json.load(fh, parse_constant=lambda c: _bad_constant(c, path))
    except OSError as exc:
        raise InputError(f"cannot read {what}: {exc.strerror}", path) from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"not a valid {what} (JSON: {exc})", path) from None
    if not isinstance(doc, dict):
        raise InputError(f"not a {what}: expected a JSON object", path)
    return doc


def _bad_constant(c: str, path: Path):
    raise InputError(f"non-finite number {c} in a result file (tmbcalc writes null)", path)


def _finite(v: Any, path: Path, key: str, *, allow_none: bool = False) -> float | None:
    if v is None and allow_none:
        return None
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
        raise InputError(f"'{key}' is {v!r}, expected a finite number", path)
    return v


def _check_tmb(doc: dict[str, Any], path: Path) -> None:
    for key in ("samples", "denominator", "cutpoints", "provenance"):
        if key not in doc:
            raise InputError(f"not a tmbcalc tmb.json: no '{key}'", path)
    if not isinstance(doc["samples"], list):
        raise InputError("'samples' is not a list", path)
    for s in doc["samples"]:
        for key in ("tmb", "eligible_variants", "footprint_bp", "ci95_low", "ci95_high", "records"):
            _finite(s.get(key), path, f"samples[{s.get('sample')!r}].{key}")
        if s["footprint_bp"] <= 0:
            raise InputError(f"sample {s.get('sample')!r}: footprint_bp is {s['footprint_bp']}", path)


def _check_msi(doc: dict[str, Any], path: Path) -> None:
    for key in ("sample", "status", "mode"):
        if key not in doc:
            raise InputError(f"not a tmbcalc msi.json: no '{key}'", path)
    _finite(doc.get("msi_score"), path, "msi_score", allow_none=True)


def classify(path: Path) -> tuple[str, str] | None:
    """(prefix, suffix) of a result file name, or None if it is not one."""
    name = str(path)
    for s in SUFFIXES:
        if name.endswith(s):
            return name[: -len(s)], s
    return None


def expand(arguments: list[str | Path]) -> dict[str, dict[str, Path]]:
    """RESULTS arguments -> {prefix: {suffix: path}} (files, prefixes or folders)."""
    groups: dict[str, dict[str, Path]] = {}
    for arg in arguments:
        p = Path(arg)
        found: list[Path] = []
        if p.is_dir():
            found = sorted(x for x in p.iterdir() if x.is_file() and classify(x))
        elif p.is_file() and classify(p):
            found = [p]
        elif p.exists():
            raise InputError("not a tmbcalc result file (expected PREFIX" + ", PREFIX".join(SUFFIXES[:1])
                             + " or another result suffix, a prefix or a folder)", p)
        else:
            found = [Path(str(p) + s) for s in SUFFIXES if Path(str(p) + s).is_file()]
        if not found:
            raise InputError("no tmbcalc result files here (looked for " + ", ".join(SUFFIXES) + ")", p)
        for f in found:
            prefix, suffix = classify(f)  # type: ignore[misc]
            groups.setdefault(prefix, {})[suffix] = f
    return groups


def load_prefix(prefix: str, files: dict[str, Path], *, max_loci: int = 6) -> list[SampleView]:
    """The sample views of one prefix (one per TMB sample; MSI attached by name or when single)."""
    from .tables import read_coverage, read_msi_dis, read_msi_loci, read_variants

    label = Path(prefix).name
    tmb_doc = msi = None
    if ".tmb.json" in files:
        tmb_doc = _read_json(files[".tmb.json"], "tmb.json")
        _check_tmb(tmb_doc, files[".tmb.json"])
    if ".msi.json" in files:
        msi = _read_json(files[".msi.json"], "msi.json")
        _check_msi(msi, files[".msi.json"])
    names = [s["sample"] for s in tmb_doc["samples"]] if tmb_doc else []
    if not names:
        if tmb_doc is not None and msi is None:
            return []                     # a TMB run with no sample: nothing to show for it
        names = [str(msi["sample"])] if msi else [label]
    variants = read_variants(files[".variants.tsv.gz"], names) if ".variants.tsv.gz" in files else {}
    cal = _read_json(files[".callable.json"], "callable.json") if ".callable.json" in files else None
    cov = read_coverage(files[".coverage.tsv"]) if ".coverage.tsv" in files else None
    views = []
    for i, name in enumerate(names):
        v = SampleView(name=str(name), prefix=prefix, files={k: str(p) for k, p in files.items()})
        if tmb_doc and tmb_doc["samples"]:
            v.tmb = tmb_doc["samples"][i]
            v.tmb_doc = {k: val for k, val in tmb_doc.items() if k != "samples"}
            v.variants = variants.get(name)
        v.callable, v.coverage = cal, cov
        if msi is not None and (len(names) == 1 or str(msi["sample"]) == str(name)):
            v.msi = msi
            if ".msi_loci.tsv.gz" in files:
                v.msi_loci = read_msi_loci(files[".msi_loci.tsv.gz"], max_loci)
            if ".msi_dis" in files and v.msi_loci:
                wanted = {(r["chrom"], int(r["start"])) for r in v.msi_loci}
                v.msi_dis = read_msi_dis(files[".msi_dis"], wanted)
        views.append(v)
    return views


def load_results(arguments: list[str | Path], *, tumor_type: str | None = None,
                 max_loci: int = 6) -> list[SampleView]:
    """Every sample view of the given RESULTS arguments, in argument order."""
    views: list[SampleView] = []
    for prefix, files in expand(arguments).items():
        for v in load_prefix(prefix, files, max_loci=max_loci):
            v.tumor_type = tumor_type
            views.append(v)
    if not views:
        raise InputError("the result files hold no sample", arguments[0] if arguments else None)
    return merge_by_name(views)


_PARTS = ("tmb", "tmb_doc", "variants", "callable", "coverage", "msi", "msi_loci", "msi_dis")


def merge_by_name(views: list[SampleView]) -> list[SampleView]:
    """Join views of one sample written under different prefixes (e.g. ``S1.tmb.json`` and
    ``msi/S1.msi.json``) when their parts do not overlap; otherwise keep them apart."""
    out: list[SampleView] = []
    for v in views:
        twin = next((o for o in out if o.name == v.name
                     and all(getattr(o, a) is None or getattr(v, a) is None for a in _PARTS)), None)
        if twin is None:
            out.append(v)
            continue
        for a in _PARTS:
            if getattr(twin, a) is None:
                setattr(twin, a, getattr(v, a))
        twin.files.update(v.files)
    return out


def open_text(path: Path):
    """Text handle of a plain or gzip file."""
    with open(path, "rb") as fh:
        magic = fh.read(2)
    if magic == b"\x1f\x8b":
        return gzip.open(path, "rt", encoding="utf-8", newline="")
    return open(path, encoding="utf-8", newline="")


__all__ = ["SampleView", "SUFFIXES", "classify", "expand", "load_prefix", "load_results", "merge_by_name",
           "open_text"]
