"""In-silico panel TMB from exome calls (the harmonization papers' design).

For every tumour of one or more exome MAFs (one cohort per file):

* **reference TMB** = eligible mutations (reference profile, e.g. ``wes-merino``) inside the
  reference (exome) footprint / reference Mb (the footprint's merged size, or ``reference_mb``);
* **panel TMB** = eligible mutations (the panel's own profile) inside
  ``panel footprint ∩ reference footprint`` / Mb of that intersection.  Convention: the panel's
  denominator is the part of the panel the exome interrogates, so calls the exome could not
  have made are not counted as zeros.

This is the design of Merino et al. 2020 (J Immunother Cancer 8:e000147, phase I of the Friends of
Cancer Research TMB Harmonization Project) and of the panel-specific calibration of Vega et al.
2021 (Ann Oncol 32:1626).  Rules come from :mod:`tmbcalc.tmb.rules` (the same code as
``tmbcalc tmb``): each distinct profile is evaluated once per input file against the reference
footprint, then each panel keeps the rows that overlap its footprint (same span convention as
``tmbcalc tmb``); counts per tumour come from ``numpy.bincount``.

**Relaxed rules.**  Several public cohorts (Firehose, SomaticCancerAlterations) lack read counts,
FILTER or normal columns.  With ``missing_fields="relax"`` a rule whose input column is absent
from a whole file is switched off for that file, for the reference and every panel alike, and
recorded in the provenance (``relaxed_rules``); with ``"error"`` such a file is refused.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import ContigMismatchError, InputError, MissingFieldError, UsageError, require_readable
from ..io.bed import read_bed
from ..io.maf import read_maf
from ..panels.registry import footprint_digest
from ..tmb.profiles import Profile, load_profile
from ..provenance import build_provenance, sha256_file
from ..regions import RegionSet
from ..tmb.relax import relax_profile as relax_rules
from ..tmb.rules import check_requirements, evaluate, in_footprint
from ..variants import VariantTable
from .outputs import record_parameters

_MAF_SUFFIXES = (".maf.tsv.gz", ".maf.txt.gz", ".maf.gz", ".tsv.gz", ".txt.gz", ".maf.tsv", ".maf.txt",
                 ".maf", ".tsv", ".txt", ".gz")


def cohort_from_filename(path: str | Path) -> str:
    """Cohort label from a file name: extensions stripped (``TCGA_MC3_ACC.maf.tsv.gz`` -> ``TCGA_MC3_ACC``)."""
    name = Path(path).name
    for s in _MAF_SUFFIXES:
        if name.endswith(s) and len(name) > len(s):
            return name[: -len(s)]
    return name


@dataclass
class PanelSpec:
    """A footprint to simulate: id, counting profile, regions (already ∩ reference), Mb."""

    id: str
    profile: Profile
    regions: RegionSet
    mb: float
    info: dict[str, Any] = field(default_factory=dict)


PANEL_MB_CONVENTION = "panel Mb = |panel footprint ∩ reference footprint|"


@dataclass
class SimulationResult:
    """Reference and panel TMB per tumour (the tidy table, see :mod:`.table`) with its provenance."""

    table: pd.DataFrame                     # sample, cohort, panel, profile, count, mb, tmb
    reference: dict[str, Any]
    panels: dict[str, dict[str, Any]]
    relaxed_rules: dict[str, dict[str, list[str]]]
    inputs: list[str]
    provenance: dict[str, Any] = field(default_factory=dict)

    @property
    def n_tumours(self) -> int:
        """Tumours simulated (rows of the reference)."""
        return int((self.table["panel"] == self.reference["name"]).sum())

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: the table's rows (one per tumour and footprint), reference, panels, relaxed
        rules and provenance."""
        from .table import COLUMNS

        rows = [dict(zip(COLUMNS, (str(r[0]), str(r[1]), str(r[2]), str(r[3]), int(r[4]), float(r[5]), float(r[6]))))
                for r in self.table.loc[:, list(COLUMNS)].itertuples(index=False)]
        return {"rows": rows, "reference": self.reference, "panels": self.panels,
                "relaxed_rules": self.relaxed_rules, "provenance": self.provenance}

    def write(self, prefix: str | Path) -> list[Path]:
        """PREFIX.simulated.tsv.gz (:func:`tmbcalc.calibrate.table.format_simulated`)."""
        from ..output import OutputSet
        from .table import format_simulated

        with OutputSet(prefix, inputs=self.provenance.get("inputs")) as outs:
            with outs.open(".simulated.tsv.gz") as fh:
                fh.write(format_simulated(self.table, self.provenance))
        return [outs.path(".simulated.tsv.gz")]


def relax_profile(profile: Profile, table: VariantTable, *, hotspots_given: bool) -> tuple[Profile, list[str]]:
    """Switch off the rules whose input data the whole table lacks; returns (profile, rules off).
    The one rule set shared with ``tmbcalc tmb --missing-fields relax``: :mod:`tmbcalc.tmb.relax`."""
    return relax_rules(profile, table.meta)


def _eligible_except_footprint(table: VariantTable, profile: Profile, reference: RegionSet,
                               hotspot_mask: np.ndarray | None) -> np.ndarray:
    """Rows passing every rule of ``profile`` and lying in the reference footprint."""
    out = evaluate(table, profile, reference, hotspot_mask)
    return out.eligible


def excludes_hotspots(profile: Profile) -> bool:
    """Does the profile remove known hotspots?  Only ``hotspots = "required"`` does: a profile that
    counts hotspots (``none``) or leaves it to the user (``optional``) is simulated without the list."""
    return profile.hotspots == "required"


# profile keys that describe a profile but do not change which variants it counts
_DESCRIPTIVE = ("name", "description", "citation", "approximations", "cutpoints", "source")


def value_profile(profile: Profile) -> dict[str, Any]:
    """The resolved counting rules that define a TMB value (every field but the descriptive ones)."""
    return {"name": profile.name, **{k: v for k, v in profile.to_dict().items() if k not in _DESCRIPTIVE}}


def hotspot_handling(profile: Profile, hotspots: str | Path | None,
                     tsg_bed: str | Path | None = None) -> dict[str, Any]:
    """Known-driver handling of a profile: which lists it excluded (name, sha256, footprint digest)."""
    excluded = excludes_hotspots(profile)
    out: dict[str, Any] = {"profile_mode": profile.hotspots, "excluded": excluded}
    if excluded and hotspots is not None:
        out["list"] = {"name": Path(hotspots).name, "sha256": sha256_file(hotspots)}
    tsg = profile.tsg_truncating == "required"
    out["tumor_suppressor_truncations"] = {"profile_mode": profile.tsg_truncating, "excluded": tsg}
    if tsg and tsg_bed is not None:
        out["tumor_suppressor_truncations"]["bed"] = {
            "name": Path(tsg_bed).name, "footprint_sha256": footprint_digest(read_bed(tsg_bed))}
    return out


def _driver_mask(profile: Profile, hmask: np.ndarray | None, tmask: np.ndarray | None) -> np.ndarray | None:
    masks = [m for m, on in ((hmask, excludes_hotspots(profile)), (tmask, profile.tsg_truncating == "required"))
             if on and m is not None]
    if not masks:
        return None
    return np.logical_or.reduce(masks) if len(masks) > 1 else masks[0]


def panel_definition(panel: Any, build: str, region: RegionSet, simulated: RegionSet, profile: Profile,
                     hotspots: str | Path | None, tsg_bed: str | Path | None = None) -> dict[str, Any]:
    """Exact definition of the panel value a model maps: footprint, resolved profile, hotspots."""
    info = panel.tmb_region_info(build)
    return {"footprint": {"panel": panel.id, "panel_version": panel.version, "build": build,
                          "tmb_region": info["description"], "bed": info["bed"], "bed_sha256": info["sha256"],
                          "bp": region.total_bp(), "footprint_sha256": footprint_digest(region),
                          "simulated_bp": simulated.total_bp(),
                          "simulated_on": "TMB region ∩ reference footprint (the bases with exome truth); "
                                          "the value is a rate per Mb, so this estimates the same quantity"},
            "denominator": "TMB region bp (tmbcalc tmb --panel ID)",
            "profile": value_profile(profile), "hotspots": hotspot_handling(profile, hotspots, tsg_bed)}


def default_reference_name(profile: str, *, whole_kit: bool) -> str:
    """``exome-<profile>`` names a reference whose footprint was chosen (restricted, e.g. to the
    kit's exons as the shipped models are, or given as regions); a whole capture-kit footprint,
    padding included (a different Mb scale), is ``exome-<profile>-kit`` so that models fitted to
    it never share a name with the shipped ones."""
    return f"exome-{profile}-kit" if whole_kit else f"exome-{profile}"


def calibrate_simulate(mafs: list[str | Path], panels: list[Any], *, reference_profile: str = "wes-merino",
                       reference_regions: RegionSet | None = None, reference_panel: Any = None,
                       reference_bed: str | Path | None = None, reference_mb: float | None = None,
                       reference_name: str | None = None, cohorts: list[str] | None = None,
                       hotspots: str | Path | None = None, missing_fields: str = "relax",
                       build: str = "GRCh37", reference_label: str | None = None,
                       reference_panel_bed: str | Path | None = None,
                       reference_restrict: str | Path | None = None,
                       tumor_suppressor_bed: str | Path | None = None,
                       panels_dir: list[str | Path] | None = None,
                       parameters: dict[str, Any] | None = None) -> SimulationResult:
    """Simulate panel and reference TMB for every tumour of the given exome MAFs.

    ``panels``: panel ids (looked up in the registry) or :class:`PanelSpec` objects.
    Reference footprint: ``reference_regions``, or ``reference_bed``, or the registry panel
    ``reference_panel`` (default ``exome-sureselect-v4-grch37``; ``reference_panel_bed`` supplies its
    BED when it is not shipped, checked against the registry's sha256); ``reference_restrict`` (a BED)
    intersects the reference footprint, e.g. with exons; ``tumor_suppressor_bed`` gives the
    tumor-suppressor coding regions whose truncations profiles with ``tsg_truncating = "required"``
    exclude (as ``tmbcalc tmb --tumor-suppressor-bed`` does); ``reference_label`` describes
    given regions in the provenance; ``reference_name`` defaults to :func:`default_reference_name`.
    Panel ids (``panels``, ``reference_panel``) are looked up in the registry and ``panels_dir``.
    ``parameters``: what the provenance records as the run's parameters (default: these arguments).
    Returns the tidy table with its provenance; nothing is written: call ``.write(prefix)``.
    """
    own = _own_parameters(dict(locals()))  # first: the call's arguments and nothing else
    from ..tmb.hotspots import TruncatingInRegions, read_hotspots

    _check_arguments(mafs, cohorts, missing_fields, reference_bed, reference_panel_bed, reference_restrict,
                     hotspots, tumor_suppressor_bed, reference_mb)
    ref_prof = load_profile(reference_profile)
    ref_regions, ref_info = _reference_footprint(reference_regions, reference_bed, reference_panel, reference_panel_bed,
                                                 reference_restrict, reference_label, build, panels_dir)
    ref_fp_mb = ref_regions.total_mb()
    ref_mb = float(reference_mb) if reference_mb else ref_fp_mb
    ref_name = reference_name or default_reference_name(ref_prof.name, whole_kit=reference_regions is None
                                                         and reference_restrict is None)
    ref_info.update({"name": ref_name, "profile": ref_prof.name, "mb": ref_mb, "footprint_mb": ref_fp_mb,
                     "denominator": "reference_mb given" if reference_mb else "footprint size"})
    ref_info["definition"] = {
        "footprint": {"description": ref_info["footprint"], "bp": ref_regions.total_bp(),
                      "footprint_sha256": footprint_digest(ref_regions)},
        "denominator_mb": ref_mb, "profile": value_profile(ref_prof),
        "hotspots": hotspot_handling(ref_prof, hotspots, tumor_suppressor_bed)}
    specs = _panel_specs(panels, build, ref_regions, hotspots, tumor_suppressor_bed, panels_dir)
    ids = [s.id for s in specs]
    if len(set(ids)) != len(ids) or ref_name in ids:
        raise UsageError(f"panel ids must be unique and differ from the reference name '{ref_name}'")
    lists = (read_hotspots(hotspots) if hotspots is not None else None,
             TruncatingInRegions(read_bed(tumor_suppressor_bed), str(tumor_suppressor_bed))
             if tumor_suppressor_bed is not None else None)
    names = cohorts or [cohort_from_filename(m) for m in mafs]
    profiles: dict[str, Profile] = {ref_prof.name: ref_prof}
    for s in specs:
        profiles.setdefault(s.profile.name, s.profile)
    frames: list[pd.DataFrame] = []
    relaxed: dict[str, dict[str, list[str]]] = {}
    for path, cohort in zip(mafs, names):
        rows, off = _simulate_file(path, profiles, lists, ref_regions, missing_fields,
                                   [(ref_name, ref_prof.name, None, ref_mb)] +
                                   [(s.id, s.profile.name, s.regions, s.mb) for s in specs], build)
        if off:
            relaxed[cohort] = off
        rows.insert(1, "cohort", cohort)
        frames.append(rows)
    table = pd.concat(frames, ignore_index=True)
    table["tmb"] = table["count"] / table["mb"]
    panel_info = {s.id: {"profile": s.profile.name, "mb": s.mb, **s.info} for s in specs}
    prov = build_provenance("calibrate simulate", record_parameters(parameters, own),
                            {"maf": [str(m) for m in mafs], "reference_bed": reference_bed or reference_panel_bed,
                             "reference_restrict": reference_restrict, "hotspots": hotspots,
                             "tumor_suppressor_bed": tumor_suppressor_bed},
                            reference=ref_info, panels=panel_info, relaxed_rules=relaxed,
                            panel_mb_convention=PANEL_MB_CONVENTION)
    return SimulationResult(table, ref_info, panel_info, relaxed, [str(m) for m in mafs], prov)


def _own_parameters(args: dict[str, Any]) -> dict[str, Any]:
    """:func:`calibrate_simulate`'s arguments as its provenance records them (JSON-ready: panels and
    paths as text, given regions left out)."""
    out = {k: v for k, v in args.items() if k not in ("mafs", "reference_regions", "parameters")}
    out["panels"] = [p if isinstance(p, str) else getattr(p, "id", str(p)) for p in args["panels"]]
    out["reference_panel"] = getattr(args["reference_panel"], "id", args["reference_panel"])
    for k in ("reference_bed", "reference_panel_bed", "reference_restrict", "hotspots", "tumor_suppressor_bed"):
        out[k] = None if args[k] is None else str(args[k])
    out["panels_dir"] = None if args["panels_dir"] is None else [str(d) for d in args["panels_dir"]]
    return out


def _check_arguments(mafs, cohorts, missing_fields, reference_bed, reference_panel_bed, reference_restrict,
                     hotspots, tumor_suppressor_bed, reference_mb) -> None:
    """Refuse inconsistent arguments and unreadable input files before any work."""
    if missing_fields not in ("relax", "error"):
        raise UsageError(f"missing_fields must be 'relax' or 'error', got {missing_fields!r}",
                         params=("missing_fields",))
    if not mafs:
        raise UsageError("give at least one MAF")
    if cohorts is not None and len(cohorts) != len(mafs):
        raise UsageError(f"{len(cohorts)} cohort names for {len(mafs)} MAF files")
    for m in mafs:
        require_readable(m, "MAF")
    if reference_bed is not None:
        require_readable(reference_bed, "reference BED")
        if reference_panel_bed is not None:
            raise UsageError("reference_panel_bed goes with reference_panel, not with reference_bed",
                             params=("reference_panel_bed", "reference_panel", "reference_bed"))
    for path, what in ((reference_panel_bed, "reference panel BED"), (reference_restrict, "reference restriction BED"),
                       (hotspots, "hotspot list"), (tumor_suppressor_bed, "tumor-suppressor BED")):
        if path is not None:
            require_readable(path, what)
    if reference_mb is not None and not reference_mb > 0:
        raise UsageError("reference_mb must be > 0", params=("reference_mb",))


def _reference_footprint(regions: RegionSet | None, bed: str | Path | None, panel: Any, panel_bed: str | Path | None,
                         restrict: str | Path | None, label: str | None, build: str,
                         panels_dir: list[str | Path] | None = None) -> tuple[RegionSet, dict]:
    """The reference (exome) footprint and its description (see :func:`calibrate_simulate`)."""
    info: dict[str, Any] = {}
    if regions is not None:
        info["footprint"] = label or "regions given"
    elif bed is not None:
        regions = read_bed(bed)
        info["footprint"] = str(bed)
        info["bed"] = {"name": Path(bed).name, "sha256": sha256_file(bed)}
    else:
        from ..panels.registry import load_panel

        rp = panel if panel is not None else "exome-sureselect-v4-grch37"
        rp = load_panel(rp, panels_dir) if isinstance(rp, str) else rp
        regions = rp.footprint(build, bed=panel_bed)  # sha256-checked by the registry
        info["footprint"] = f"panel {rp.id} {rp.version} ({build})"
        info["panel"] = rp.id
        rbed = Path(panel_bed) if panel_bed else rp.bed_path(build)
        if rbed is not None:
            info["bed"] = {"name": rbed.name, "sha256": sha256_file(rbed)}
    if restrict is not None:  # e.g. exons only: drop the kit's intronic/flanking padding
        regions = regions.intersect(read_bed(restrict))
        info["footprint"] += f" ∩ {Path(restrict).name}"
        info["restrict"] = {"name": Path(restrict).name, "sha256": sha256_file(restrict)}
    if regions.is_empty():
        raise InputError("reference footprint is empty", restrict or bed)
    return regions, info


def _panel_specs(panels: list[Any], build: str, ref_regions: RegionSet, hotspots: str | Path | None,
                 tsg_bed: str | Path | None, panels_dir: list[str | Path] | None = None) -> list[PanelSpec]:
    """Registry panels (ids or objects) as specs on their TMB region ∩ the reference footprint."""
    from ..panels.registry import load_panel

    specs: list[PanelSpec] = []
    for p in panels:
        if isinstance(p, PanelSpec):
            specs.append(p)
            continue
        panel = load_panel(p, panels_dir) if isinstance(p, str) else p
        if build not in panel.builds:
            raise UsageError(f"panel '{panel.id}' has no {build} footprint (builds: {', '.join(panel.builds)}); "
                             f"the exome calls are {build}")
        full = panel.footprint(build)
        region = panel.tmb_region(build)      # the assay's TMB region: what `tmb --panel` divides by
        inter = region.intersect(ref_regions)
        if inter.is_empty():
            raise InputError(f"panel '{panel.id}' TMB region does not overlap the reference footprint")
        bed = panel.bed_path(build)
        prof = load_profile(panel.profile)
        specs.append(PanelSpec(panel.id, prof, inter, inter.total_mb(),
                               {"version": panel.version, "declared_tmb_mb": panel.declared_tmb_mb,
                                "footprint_mb": full.total_mb(), "tmb_region_mb": region.total_mb(),
                                "mb_in_reference": inter.total_mb(), "cutpoints": list(panel.cutpoints),
                                "bed": {"name": bed.name, "sha256": sha256_file(bed)} if bed else None,
                                "definition": panel_definition(panel, build, region, inter, prof, hotspots, tsg_bed)}))
    return specs


def _driver_masks(vt: VariantTable, lists: tuple, profiles: dict[str, Profile]
                  ) -> tuple[np.ndarray | None, np.ndarray | None]:
    """Rows matching the hotspot list and tumor-suppressor truncations; refuses a missing list a profile needs."""
    from ..tmb.hotspots import match_hotspots, match_truncating

    hs, tsg = lists
    if hs is None and any(excludes_hotspots(p) for p in profiles.values()):
        raise UsageError("a profile excludes known hotspots (" + ", ".join(
            n for n, p in profiles.items() if excludes_hotspots(p)) + "): give hotspots", params=("hotspots",))
    if tsg is None and any(p.tsg_truncating == "required" for p in profiles.values()):
        raise UsageError("a profile excludes truncations in tumor-suppressor genes (" + ", ".join(
            n for n, p in profiles.items() if p.tsg_truncating == "required") + "): give tumor_suppressor_bed",
            params=("tumor_suppressor_bed",))
    return (match_hotspots(vt, hs) if hs is not None else None,
            match_truncating(vt, tsg) if tsg is not None else None)


def _read_per_pop_af_fields(path: str | Path, profiles: dict[str, Profile]) -> dict[tuple[str, ...], VariantTable]:
    """The MAF read once per distinct ``pop_af_fields`` of the profiles: each profile's population AF
    comes from its own columns, as ``tmbcalc tmb`` reads it (rows are identical across the tables)."""
    fields = dict.fromkeys(tuple(p.pop_af_fields) for p in profiles.values())
    return {f: read_maf(path, pop_af_fields=f, keep_alleles=False) for f in fields}


def _simulate_file(path: str | Path, profiles: dict[str, Profile], lists: tuple, ref_regions: RegionSet,
                   missing_fields: str, targets: list[tuple[str, str, RegionSet | None, float]], build: str
                   ) -> tuple[pd.DataFrame, dict[str, list[str]]]:
    """Counts per tumour of one MAF for every target (id, profile name, regions or None = reference, Mb).
    A MAF whose NCBI_Build column names another build than ``build`` is refused (its positions would
    be counted on the other build's footprints)."""
    tables = _read_per_pop_af_fields(path, profiles)
    vt = next(iter(tables.values()))
    if vt.meta.get("build") and vt.meta["build"] != build:
        raise ContigMismatchError(f"genome build mismatch: the MAF is {vt.meta['build']} by its NCBI_Build column but "
                                  f"the footprints are {build}; simulate it on {vt.meta['build']} or use MAFs on "
                                  f"{build}", path)
    if len(vt) == 0:
        raise InputError("MAF has no variant rows", path)
    if not set(vt.contigs) & set(ref_regions.contigs):
        raise InputError(f"MAF shares no contig with the reference footprint (MAF: "
                         f"{', '.join(vt.contigs[:5])}; footprint: {', '.join(ref_regions.contigs[:5])})", path)
    hmask, tmask = _driver_masks(vt, lists, profiles)
    relaxed: dict[str, list[str]] = {}
    elig: dict[str, np.ndarray] = {}
    for pname, prof in profiles.items():
        use, own = prof, tables[tuple(prof.pop_af_fields)]
        if missing_fields == "relax":
            use, off = relax_profile(prof, own, hotspots_given=hmask is not None)
            if off:
                relaxed[pname] = off
        pmask = _driver_mask(prof, hmask, tmask)   # each list applies only where the profile asks
        try:
            check_requirements(own, use, hotspots_given=pmask is not None)
        except MissingFieldError as exc:
            raise InputError(f"{exc.message} (or relax the rule for this file: missing_fields 'relax')",
                             path, params=(*exc.params, "missing_fields")) from None
        elig[pname] = _eligible_except_footprint(own, use, ref_regions, pmask)
    ns = len(vt.samples)
    rows: dict[str, list] = {"sample": [], "panel": [], "profile": [], "count": [], "mb": []}
    for pid, pname, regions, mb in targets:
        mask = elig[pname] if regions is None else elig[pname] & in_footprint(vt, regions)
        rows["sample"].append(np.asarray(vt.samples, dtype=object))
        rows["panel"].append(np.full(ns, pid, dtype=object))
        rows["profile"].append(np.full(ns, pname, dtype=object))
        rows["count"].append(np.bincount(vt["sample"][mask], minlength=ns).astype(np.int64))
        rows["mb"].append(np.full(ns, mb))
    return pd.DataFrame({k: np.concatenate(v) for k, v in rows.items()}), relaxed


__all__ = ["calibrate_simulate", "SimulationResult", "PanelSpec", "cohort_from_filename", "relax_profile"]
