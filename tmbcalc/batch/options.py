"""Per-sample option columns of a batch sheet: named like the single commands' flags.

A column ``min_vaf`` (or ``min-vaf`` / ``--min-vaf``) overrides ``tmbcalc tmb --min-vaf`` for
that row; an empty cell means "not given".  Each entry knows the API keyword it feeds, how to
parse the cell (the same conventions as the flag: ``off`` switches a threshold off, lists are
comma-separated, several files ``;``-separated) and the flag it stands for (to write the
equivalent single command into the provenance).  MSI options carry an ``msi_`` prefix where the
bare name would clash with a TMB flag.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


def _float_or_off(text: str) -> float | str:
    if text.lower() in ("off", "none"):
        return "off"
    return _finite(text)


def _int_or_off(text: str) -> int | str:
    return "off" if text.lower() in ("off", "none") else int(text)


def _finite(text: str) -> float:
    v = float(text)
    if v != v or v in (float("inf"), float("-inf")):
        raise ValueError(f"not a finite number: {text!r}")
    return v


def _csv(text: str) -> list[str]:
    return [x.strip() for x in text.split(",") if x.strip()]


def _cuts(text: str) -> list[float]:
    return [_finite(x) for x in _csv(text)]


def _bool(text: str) -> bool:
    t = text.lower()
    if t in ("1", "yes", "true", "y"):
        return True
    if t in ("0", "no", "false", "n"):
        return False
    raise ValueError(f"expected yes/no, got {text!r}")


def _choice(*allowed: str) -> Callable[[str], str]:
    def parse(text: str) -> str:
        if text not in allowed:
            raise ValueError(f"expected one of {', '.join(allowed)}, got {text!r}")
        return text
    return parse


@dataclass(frozen=True)
class Option:
    """One per-sample option column."""

    column: str          # canonical column name (underscores)
    target: str          # "tmb", "msi" (msi score) or "cal" (calibration)
    kwarg: str           # API keyword argument
    parse: Callable[[str], Any]
    flag: str            # the single command's flag
    files: bool = False  # cell holds file path(s) (';'-separated), resolved against the sheet folder


def _o(column: str, target: str, parse: Callable[[str], Any], kwarg: str | None = None, flag: str | None = None,
       files: bool = False) -> Option:
    return Option(column, target, kwarg or column, parse, flag or "--" + column.replace("_", "-"), files)


OPTIONS: dict[str, Option] = {o.column: o for o in (
    _o("tumor_sample", "tmb", str),
    _o("normal_sample", "tmb", str),
    _o("panel_bed", "tmb", str, files=True),
    _o("coding_bed", "tmb", str, files=True),
    _o("exclude_bed", "tmb", str, files=True),
    _o("callable_bed", "tmb", str, files=True),
    _o("pop_af_vcf", "tmb", str, files=True),
    _o("exclude_hotspots", "tmb", str, files=True),
    _o("reference", "tmb", str, files=True),
    _o("min_coverage", "tmb", int),
    _o("min_normal_coverage", "tmb", int),
    _o("mapq", "tmb", int),
    _o("min_vaf", "tmb", _float_or_off),
    _o("max_vaf", "tmb", _float_or_off),
    _o("min_depth", "tmb", _int_or_off),
    _o("min_alt", "tmb", _int_or_off, kwarg="min_alt_reads"),
    _o("max_normal_alt", "tmb", _int_or_off, kwarg="max_normal_alt_reads"),
    _o("min_normal_depth", "tmb", _int_or_off),
    _o("max_pop_af", "tmb", _float_or_off),
    _o("pop_af_fields", "tmb", _csv),
    _o("variant_types", "tmb", _csv),
    _o("consequences", "tmb", _csv),
    _o("multiallelic", "tmb", _choice("first", "all", "skip")),
    _o("csq_pick", "tmb", _choice("most_severe", "canonical")),
    _o("germline_filter", "tmb", _choice("off", "tumor_only", "always")),
    _o("filter_missing_is_pass", "tmb", _bool),
    _o("cutpoints", "tmb", _cuts),
    _o("calibration_method", "cal", _choice("ols", "deming", "huber-log", "isotonic")),
    _o("msi_min_coverage", "msi", int, kwarg="min_coverage", flag="--min-coverage"),
    _o("msi_min_evaluable", "msi", int, kwarg="min_evaluable", flag="--min-evaluable"),
    _o("msi_alpha", "msi", _finite, kwarg="alpha", flag="--alpha"),
    _o("msi_msi_alpha", "msi", _finite, kwarg="msi_alpha", flag="--msi-alpha"),
    _o("msi_test", "msi", _choice("contraction", "excess", "chisq"), kwarg="test", flag="--test"),
)}


def canonical_column(name: str) -> str:
    """``--min-vaf`` / ``Min-VAF`` / ``min_vaf`` -> ``min_vaf``."""
    return name.strip().lstrip("-").lower().replace("-", "_")


def parse_option(column: str, text: str) -> Any:
    """Parsed value of one option cell; ValueError with a readable message when it is invalid.
    File cells are returned as given (the sheet resolves and checks them)."""
    opt = OPTIONS[column]
    if opt.files:
        return text
    try:
        return opt.parse(text)
    except ValueError as exc:
        raise ValueError(str(exc) if "expected" in str(exc) or "finite" in str(exc)
                         else f"invalid value {text!r} for {opt.flag}") from None
