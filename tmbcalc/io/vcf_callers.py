"""The table of VCF callers: how each is recognised from the header and, where its read counts are
laid out in caller-specific FORMAT fields, how they fill the depth / alt-reads / VAF columns.

Adding a caller is one :class:`CallerSpec` in :data:`CALLER_SPECS` (plus its tests).  Callers
without a layout of their own are read through the generic tag rules of :mod:`tmbcalc.io.vcf`
(AD/ADT, AO, VD, DP/DPT, AF/FREQ/TVAF ...).  Order matters: the first matching signature wins.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

_STRELKA_SNV = ("AU", "CU", "GU", "TU")


@dataclass
class Target:
    """Where one column's values come from: up to three alternative specs, tried in order."""

    specs: list[tuple] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)

    def add(self, spec: tuple, label: str) -> None:
        if len(self.specs) < 3:
            self.specs.append(spec)
            self.labels.append(label)

    def describe(self) -> str | None:
        return ", else ".join(self.labels) if self.labels else None


def strelka_targets(fmt: Mapping[str, Any], s: int, role: str, targets: dict[str, Target]) -> bool:
    """Strelka2 tier-1 counts for sample index ``s``; False when the header has neither layout.

    The layout is chosen per record: SNV records carry per-base counts (AU/CU/GU/TU), indel records
    TAR/TIR.  A file with both (``bcftools concat`` of Strelka's SNV and indel outputs) gets both as
    alternatives, SNV first: the kernel uses the SNV counts only for a single-base REF and ALT whose
    four counts are present, and otherwise falls back to TAR/TIR (so each record is read by its own
    layout, never a mix)."""
    snv, indel = set(_STRELKA_SNV) <= set(fmt), {"TAR", "TIR"} <= set(fmt)
    depth, alt = targets[f"{role}_depth"], targets[f"{role}_alt"]
    if snv:
        alt.add(("strelka_alt", "first", s, *_STRELKA_SNV), "strelka tier1 {ALT}U")
        depth.add(("strelka_depth", "first", s, *_STRELKA_SNV), "strelka tier1 AU+CU+GU+TU")
        if role == "t":
            targets["vaf_den"].add(("strelka_refalt", "first", s, *_STRELKA_SNV),
                                   "strelka tier1 {REF}U+{ALT}U")
    if indel:
        alt.add(("fmt", "first", s, "TIR"), "strelka tier1 TIR")
        depth.add(("fmt_sum2", "first", s, "TAR", "TIR"), "strelka tier1 TAR+TIR")
        if role == "t":
            targets["vaf_den"].add(("fmt_sum2", "first", s, "TAR", "TIR"), "strelka tier1 TAR+TIR")
    if role == "t" and (snv or indel):
        vaf = {(True, False): "strelka tier1 {ALT}U/({REF}U+{ALT}U)", (False, True): "strelka tier1 TIR/(TAR+TIR)",
               (True, True): "strelka tier1 {ALT}U/({REF}U+{ALT}U) for SNV records, TIR/(TAR+TIR) for indel "
                             "records"}[(snv, indel)]
        targets["t_vaf"].add(("ratio", "first", -1), vaf)
    return snv or indel


def simple_values(lines: list[str], key: str) -> list[str]:
    """Values of ``##KEY=value`` header lines."""
    prefix = f"##{key}="
    return [ln[len(prefix):].strip() for ln in lines if ln.startswith(prefix)]


def _sources(lines: list[str]) -> list[str]:
    return [v.lower() for v in simple_values(lines, "source")]


def _strelka(lines: list[str], fmt: Mapping[str, Any]) -> str | None:
    if any(s.startswith("strelka") for s in _sources(lines)):
        return "##source=strelka"
    if set(_STRELKA_SNV) <= set(fmt) or {"TAR", "TIR"} <= set(fmt):
        return "Strelka tier-count FORMAT fields"
    return None


def _mutect2(lines: list[str], fmt: Mapping[str, Any]) -> str | None:
    low = [ln.lower() for ln in lines]
    if any(ln.startswith("##gatkcommandline") and "mutect2" in ln for ln in low) or \
            any("mutect2" in s for s in _sources(lines)) or any(ln.startswith("##mutectversion") for ln in low):
        return "Mutect2 command line / source header"
    return None


def _dragen(lines: list[str], fmt: Mapping[str, Any]) -> str | None:
    low = [ln.lower() for ln in lines]
    if any(ln.startswith("##dragencommandline") or ln.startswith("##dragenversion") for ln in low) or \
            any("dragen" in s for s in _sources(lines)):
        return "DRAGEN header"
    return None


def _vardict(lines: list[str], fmt: Mapping[str, Any]) -> str | None:
    if any(s.startswith("vardict") for s in _sources(lines)):
        return "##source=VarDict"
    return "FORMAT VD field" if "VD" in fmt and "AF" in fmt else None


@dataclass(frozen=True)
class CallerSpec:
    """One caller: ``detect(header lines, FORMAT tags)`` returns the evidence (a phrase for the
    provenance) or None; ``sample_targets(FORMAT tags, sample index, 't'|'n', targets)`` fills a
    caller-specific read-count layout and returns True, or None for the generic tag rules."""

    name: str
    detect: Callable[[list[str], Mapping[str, Any]], str | None]
    sample_targets: Callable[[Mapping[str, Any], int, str, dict[str, Target]], bool] | None = None


CALLER_SPECS: dict[str, CallerSpec] = {spec.name: spec for spec in (
    CallerSpec("strelka2", _strelka, strelka_targets),
    CallerSpec("mutect2", _mutect2),
    CallerSpec("dragen", _dragen),
    CallerSpec("vardict", _vardict),
    CallerSpec("generic", lambda lines, fmt: "no caller-specific header"),
)}
CALLERS: tuple[str, ...] = tuple(CALLER_SPECS)


def detect_caller(lines: list[str], fmt: Mapping[str, Any]) -> tuple[str, str]:
    """(caller name, evidence) of the first caller whose signature the header matches."""
    for spec in CALLER_SPECS.values():
        evidence = spec.detect(lines, fmt)
        if evidence:
            return spec.name, evidence
    raise AssertionError("the generic caller matches every header")  # pragma: no cover


__all__ = ["CallerSpec", "CALLER_SPECS", "CALLERS", "Target", "detect_caller", "strelka_targets", "simple_values"]
