"""Relaxed rules: switch off the counting rules whose data a whole input lacks (``missing_fields="relax"``).

Public exome cohorts differ in the columns they carry (TCGA MC3 has FILTER, read counts, normal
counts and ExAC AF; the 2020 BRCA/BLCA compiles have no FILTER; Firehose MAFs have no normal
counts; SomaticCancerAlterations no read counts).  A rule whose input data a whole file lacks
either refuses the file (``missing_fields="error"``, the default of ``tmbcalc tmb``) or is
switched off for that file (``"relax"``, the default of ``calibrate simulate``).  The same
function decides both, so ``tmb --missing-fields relax`` computes exactly the panel value that
``calibrate simulate`` computed for a cohort of the same columns.

What "lacks" means (from the reader's metadata of the whole file, as ``calibrate simulate``
reads it): a MAF without a FILTER column (its rows then count as PASS: they are already filtered
calls); no tumor depth / alt reads / VAF value, no matched-normal count, no population-AF column.
A VCF always has FILTER; its header decides the rest (``missing_fields`` of the VCF reader).
"""
from __future__ import annotations

import dataclasses
from typing import Any

from .profiles import Profile

MODES = ("relax", "error")

# rule -> (reader flag that says the data exist, profile fields switched off, why, in words)
_RULES: tuple[tuple[str, str, dict[str, Any], str], ...] = (
    ("min_depth", "has_depth", {"min_depth": None}, "no tumor read depth"),
    ("min_alt_reads", "has_alt_reads", {"min_alt_reads": None}, "no tumor alt read count"),
    ("min_vaf", "has_vaf", {"min_vaf": None}, "no tumor VAF (alt reads and depth)"),
    ("max_vaf", "has_vaf", {"max_vaf": None}, "no tumor VAF (alt reads and depth)"),
    ("min_normal_depth", "has_normal", {"min_normal_depth": None}, "no matched-normal read counts"),
    ("max_normal_alt_reads", "has_normal", {"max_normal_alt_reads": None}, "no matched-normal read counts"),
    ("max_pop_af", "has_pop_af", {"max_pop_af": None}, "no population allele frequency column"),
)
# VCF reader: column names it could not fill -> the MAF reader's flag
_VCF_FLAGS = {"t_depth": "has_depth", "t_alt": "has_alt_reads", "t_vaf": "has_vaf", "n_depth": "has_normal",
              "n_alt": "has_normal", "pop_af": "has_pop_af"}
REASONS = {"filter": "no FILTER column; its rows count as PASS, as already filtered calls",
           "likely_germline": "no tumor VAF or no population allele frequency",
           **{r: why for r, _, _, why in _RULES}}


def _flags(meta: dict[str, Any]) -> dict[str, bool]:
    """The reader's has_* flags (absent flag = the data are there; a population-AF resource VCF
    joined to the input counts as population AF)."""
    flags = {k: bool(v) for k, v in meta.items() if k.startswith("has_") and isinstance(v, bool)}
    for col in meta.get("missing_fields", ()) if meta.get("format") in ("vcf", "bcf") else ():
        if col in _VCF_FLAGS:
            flags[_VCF_FLAGS[col]] = False
    if meta.get("pop_af_resource"):
        flags["has_pop_af"] = True
    return flags


def missing_rules(profile: Profile, meta: dict[str, Any]) -> list[str]:
    """The rules of ``profile`` whose data the input (reader metadata ``meta``) lacks, in rule order."""
    has = _flags(meta)
    off: list[str] = []
    if profile.require_pass and not has.get("has_filter", True) and not profile.filter_missing_is_pass:
        off.append("filter")
    for rule, flag, _, _ in _RULES:
        if getattr(profile, rule) is not None and not has.get(flag, True):
            off.append(rule)
    if profile.germline_filter != "off" and not (has.get("has_vaf", True) and has.get("has_pop_af", True)):
        off.append("likely_germline")
    return off


def switch_off(profile: Profile, rules: list[str] | tuple[str, ...] | set[str]) -> Profile:
    """``profile`` with the named rules switched off (``filter``: FILTER missing counts as PASS)."""
    change = switched_fields(rules)
    return dataclasses.replace(profile, **change) if change else profile


def switched_fields(rules: list[str] | tuple[str, ...] | set[str]) -> dict[str, Any]:
    """The profile fields (and their new values) that switch the named rules off."""
    change: dict[str, Any] = {}
    if "filter" in rules:
        change["filter_missing_is_pass"] = True
    for rule, _, fields, _ in _RULES:
        if rule in rules:
            change.update(fields)
    if "likely_germline" in rules:
        change["germline_filter"] = "off"
    unknown = set(rules) - set(REASONS)
    if unknown:
        raise ValueError(f"unknown relaxable rule(s): {', '.join(sorted(unknown))}")
    return change


def relax_profile(profile: Profile, meta: dict[str, Any]) -> tuple[Profile, list[str]]:
    """(profile with the rules the input lacks data for switched off, those rules)."""
    off = missing_rules(profile, meta)
    return switch_off(profile, off), off


def run_rules(relaxed: dict[str, list[str]] | None) -> list[str]:
    """The rules switched off for a run (every input's, in rule order): one profile counts them all."""
    every = {r for rules in (relaxed or {}).values() for r in rules}
    return [r for r in REASONS if r in every]


def relaxed_profile(profile: Profile, relaxed: dict[str, list[str]] | None) -> Profile:
    """The run's profile: ``profile`` without the rules any input lacked data for (``relaxed``)."""
    return switch_off(profile, run_rules(relaxed)) if relaxed else profile


def relaxed_doc(relaxed: dict[str, list[str]] | None) -> dict[str, Any]:
    """Provenance / output record: mode, the rules switched off for the run and, per input, which and why."""
    if relaxed is None:
        return {"missing_fields": "error", "rules_off": [], "inputs": {}}
    return {"missing_fields": "relax", "rules_off": run_rules(relaxed),
            "inputs": {name: [{"rule": r, "reason": REASONS[r]} for r in rules] for name, rules in relaxed.items()}}


def describe(doc: dict[str, Any]) -> str:
    """One line from :func:`relaxed_doc`: which rules were switched off for which input and why ('' = none)."""
    parts = [f"{name}: " + ", ".join(f"{x['rule']} ({x['reason']})" for x in rules)
             for name, rules in (doc.get("inputs") or {}).items() if rules]
    return "; ".join(parts)


def doc_warning(doc: dict[str, Any]) -> list[str]:
    """The warning every output carries when :func:`relaxed_doc` ``doc`` switched rules off (none otherwise)."""
    text = describe(doc)
    return [f"rules switched off because the whole input lacks their data (missing_fields relax): {text}"] \
        if text else []


def relaxed_warning(relaxed: dict[str, list[str]] | None) -> list[str]:
    return doc_warning(relaxed_doc(relaxed))


__all__ = ["MODES", "REASONS", "missing_rules", "switch_off", "switched_fields", "relax_profile", "run_rules", "relaxed_profile",
           "relaxed_doc", "relaxed_warning", "doc_warning", "describe"]
