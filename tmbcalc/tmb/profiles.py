"""Counting profiles: which variants count towards TMB, as data (TOML).

A profile is a flat TOML table of eligibility thresholds plus a citation and an ``approximations``
note.  Bundled profiles live in ``tmbcalc/tmb/profile_files/*.toml``; a path to any TOML file works too.
Every key is validated: an unknown key or a bad value is a one-line :class:`InputError` naming
the file and the key.  Command-line flags override profile fields through :meth:`Profile.override`.

Units: VAF and population AF are fractions in [0, 1]; depths and read counts are reads.
"""
from __future__ import annotations

import dataclasses
import math
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .. import annotation
from ..checks import INT32_MAX
from ..errors import InputError, UsageError
from ..resources import profiles_dir

VARIANT_TYPES = ("snv", "mnv", "ins", "del", "complex")
TYPE_GROUPS = {"indel": ("ins", "del", "complex")}
MULTIALLELIC_RULES = ("first", "all", "skip")
CSQ_PICKS = ("most_severe", "canonical")
HOTSPOT_MODES = ("none", "optional", "required")
TSG_MODES = ("none", "optional", "required")     # truncating variants in tumor-suppressor genes
GERMLINE_MODES = ("off", "tumor_only", "always")
DEFAULT_POP_AF_FIELDS = ("gnomAD_AF", "gnomADe_AF", "gnomADg_AF", "gnomAD_exomes_AF", "ExAC_AF",
                         "AF_gnomad", "MAX_AF")


@dataclass(frozen=True)
class Profile:
    """Resolved eligibility rules (every threshold explicit; ``None`` = rule off)."""

    name: str
    description: str = ""
    citation: str = ""
    approximations: str = ""
    source: str = ""                                  # file the profile was read from
    require_pass: bool = True                         # FILTER must be PASS
    filter_missing_is_pass: bool = False              # FILTER '.' (or no FILTER column) counts as PASS
    min_depth: int | None = None                      # tumor read depth >= (reads)
    min_alt_reads: int | None = None                  # tumor alt reads >=
    min_vaf: float | None = None                      # tumor VAF >= (fraction)
    max_vaf: float | None = None                      # tumor VAF <= (fraction)
    variant_types: tuple[str, ...] = ("snv", "mnv", "ins", "del", "complex")
    consequences: tuple[str, ...] = ("all",)          # class or group names of tmbcalc.annotation
    csq_pick: str = "most_severe"
    max_pop_af: float | None = None                   # population AF <= (fraction); NaN (absent) passes
    pop_af_fields: tuple[str, ...] = DEFAULT_POP_AF_FIELDS
    hotspots: str = "optional"                        # hotspot list: none / optional / required
    multiallelic: str = "all"                         # first / all / skip
    max_normal_alt_reads: int | None = None           # matched-normal alt reads <=
    min_normal_depth: int | None = None               # matched-normal depth >=
    germline_filter: str = "off"                      # off / tumor_only / always
    germline_vaf_windows: tuple[tuple[float, float], ...] = ((0.45, 0.55), (0.95, 1.0))
    germline_min_pop_af: float = 0.0                  # pop AF > this (present in a population DB)
    tsg_truncating: str = "optional"                  # exclude truncations in a tumor-suppressor BED: none/optional/required
    cutpoints: tuple[float, ...] = (10.0,)            # mut/Mb

    # -- derived -----------------------------------------------------------------------------
    def consequence_codes(self) -> list[int]:
        return annotation.class_codes(self.consequences)

    def counts_all_consequences(self) -> bool:
        return len(self.consequence_codes()) == len(annotation.CLASSES)

    def type_names(self) -> tuple[str, ...]:
        return expand_types(self.variant_types)

    def to_dict(self) -> dict[str, Any]:
        """Every field, JSON-ready (tuples as lists)."""
        out = dataclasses.asdict(self)
        for k, v in out.items():
            if isinstance(v, tuple):
                out[k] = [list(x) if isinstance(x, tuple) else x for x in v]
        return out

    def override(self, **changes: Any) -> Profile:
        """A copy with the given fields replaced (``None`` values are ignored), validated."""
        clean = {k: v for k, v in changes.items() if v is not None}
        if not clean:
            return self
        data = self.to_dict()
        data.update(clean)
        return _from_mapping(data, "command line", allow_meta=True, error=UsageError)


def expand_types(names: tuple[str, ...] | list[str]) -> tuple[str, ...]:
    out: list[str] = []
    for n in names:
        out.extend(TYPE_GROUPS.get(n, (n,)))
    return tuple(dict.fromkeys(out))


def list_profiles() -> list[str]:
    return sorted(p.stem for p in profiles_dir().glob("*.toml"))


def load_profile(name_or_path: str | Path) -> Profile:
    """Load a bundled profile by name (``wes-merino``) or any TOML file by path."""
    s = str(name_or_path)
    path = Path(s)
    if not (s.endswith(".toml") or path.is_file()):
        path = profiles_dir() / f"{s}.toml"
        if not path.is_file():
            raise UsageError(f"unknown profile '{s}' (bundled: {', '.join(list_profiles())}; "
                             f"or give a path to a TOML file)")
    if not path.is_file():
        raise InputError("profile file does not exist", path)
    try:
        with open(path, "rb") as fh:
            data = tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"profile is not valid TOML ({exc})", path) from None
    except UnicodeDecodeError as exc:
        raise InputError(f"profile is not UTF-8 text (byte {exc.start})", path) from None
    except OSError as exc:
        raise InputError(f"cannot read profile: {exc.strerror}", path) from None
    data.setdefault("name", path.stem)
    data["source"] = str(path)
    return _from_mapping(data, str(path), allow_meta=True, error=InputError)


_FIELDS = {f.name: f for f in dataclasses.fields(Profile)}
_OFFABLE = {"min_depth", "min_alt_reads", "max_normal_alt_reads", "min_normal_depth", "min_vaf", "max_vaf",
            "max_pop_af"}
_META = {"name", "description", "citation", "approximations", "source"}


def _from_mapping(data: dict[str, Any], where: str, *, allow_meta: bool, error: type) -> Profile:
    """Validate a mapping of profile keys and build a Profile."""
    def bad(key: str, why: str):
        if error is UsageError:
            return UsageError(f"option for profile key '{key}': {why}")
        return InputError(f"profile key '{key}': {why}", where)

    kwargs: dict[str, Any] = {}
    for key, value in data.items():
        if key not in _FIELDS:
            raise bad(key, f"unknown key (known: {', '.join(k for k in _FIELDS if k != 'source')})")
        kwargs[key] = _check(key, value, bad)
    if "name" not in kwargs:
        raise bad("name", "missing")
    return Profile(**kwargs)


def _num(key, value, bad, *, integer: bool, lo: float | None = None, hi: float | None = None):
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise bad(key, f"expected a number, got {value!r}")
    if not math.isfinite(value):
        raise bad(key, f"expected a finite number, got {value!r}")
    if integer and (not float(value).is_integer()):
        raise bad(key, f"expected an integer, got {value!r}")
    if integer and hi is None:
        hi = INT32_MAX
    if lo is not None and value < lo or hi is not None and value > hi:
        rng = f"[{lo}, {hi}]" if hi is not None else f">= {lo}"
        raise bad(key, f"{value!r} is outside {rng}")
    return int(value) if integer else float(value)


def _check(key: str, value: Any, bad) -> Any:
    if value == "off" and key in _OFFABLE:
        return None
    if key in _META:
        if not isinstance(value, str):
            raise bad(key, "expected a string")
        return value
    if key in ("require_pass", "filter_missing_is_pass"):
        if not isinstance(value, bool):
            raise bad(key, f"expected true or false, got {value!r}")
        return value
    if key in ("min_depth", "min_alt_reads", "max_normal_alt_reads", "min_normal_depth"):
        return None if value is None else _num(key, value, bad, integer=True, lo=0)
    if key in ("min_vaf", "max_vaf", "max_pop_af"):
        return None if value is None else _num(key, value, bad, integer=False, lo=0.0, hi=1.0)
    if key == "germline_min_pop_af":
        return _num(key, value, bad, integer=False, lo=0.0, hi=1.0)
    if key == "variant_types":
        names = _str_list(key, value, bad)
        for n in names:
            if n not in VARIANT_TYPES and n not in TYPE_GROUPS:
                raise bad(key, f"unknown variant type '{n}' (use {', '.join(VARIANT_TYPES)}, indel)")
        if not names:
            raise bad(key, "empty list")
        return tuple(names)
    if key == "consequences":
        names = _str_list(key, value, bad)
        for n in names:
            if n not in annotation.CODE and n not in annotation.GROUPS:
                raise bad(key, f"unknown consequence '{n}' (classes: {', '.join(annotation.CLASSES)}; "
                               f"groups: {', '.join(annotation.GROUPS)})")
        if not names:
            raise bad(key, "empty list")
        return tuple(names)
    if key == "pop_af_fields":
        return tuple(_str_list(key, value, bad))
    if key in ("csq_pick", "hotspots", "multiallelic", "germline_filter", "tsg_truncating"):
        allowed = {"csq_pick": CSQ_PICKS, "hotspots": HOTSPOT_MODES, "multiallelic": MULTIALLELIC_RULES,
                   "germline_filter": GERMLINE_MODES, "tsg_truncating": TSG_MODES}[key]
        if value not in allowed:
            raise bad(key, f"{value!r} is not one of {', '.join(allowed)}")
        return value
    if key == "germline_vaf_windows":
        if not isinstance(value, (list, tuple)):
            raise bad(key, "expected a list of [low, high] pairs")
        out = []
        for w in value:
            if not isinstance(w, (list, tuple)) or len(w) != 2:
                raise bad(key, f"expected [low, high] pairs, got {w!r}")
            lo = _num(key, w[0], bad, integer=False, lo=0.0, hi=1.0)
            hi = _num(key, w[1], bad, integer=False, lo=0.0, hi=1.0)
            if lo > hi:
                raise bad(key, f"window {w!r} has low > high")
            out.append((lo, hi))
        return tuple(out)
    if key == "cutpoints":
        if not isinstance(value, (list, tuple)) or not value:
            raise bad(key, "expected a non-empty list of mut/Mb values")
        return tuple(sorted(_num(key, v, bad, integer=False, lo=0.0) for v in value))
    raise bad(key, "unknown key")  # pragma: no cover - guarded by _FIELDS


def _str_list(key, value, bad) -> list[str]:
    if isinstance(value, str):
        value = [v.strip() for v in value.split(",") if v.strip()]
    if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
        raise bad(key, "expected a list of strings")
    return list(value)


__all__ = ["Profile", "load_profile", "list_profiles", "expand_types", "VARIANT_TYPES"]
