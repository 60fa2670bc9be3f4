"""Tumor mutational burden: eligible somatic mutations per Mb of the denominator footprint.

API (returns result objects; nothing here prints, exits or writes unless asked)::

    compute_tmb(input, bed=... | panel=..., profile=..., ...)   -> TmbResult    (.compute)
    TmbResult.to_dict(), TmbResult.write(prefix)                                  (.result, .writers)
    load_profile(name_or_path), list_profiles()                 -> Profile      (.profiles)

Modules: ``compute`` (the stages of one run), ``result`` (result types), ``sources`` (variant
input as chunks), ``tally`` (per-sample counts), ``rules`` (the counting-rule registry),
``profiles`` (+ ``profile_files/*.toml``), ``hotspots``, ``statistics`` (Garwood interval,
P(TMB >= cut)), ``incgamma``, ``writers`` (JSON, TSV, variants report).
"""
from __future__ import annotations

from .._lazy import lazy_getattr

_LAZY = {
    "compute_tmb": ".compute", "DEFAULT_PROFILE": ".compute",
    "TmbResult": ".result", "SampleTmb": ".result",
    "read_variants": ".sources",
    "Profile": ".profiles", "load_profile": ".profiles", "list_profiles": ".profiles",
    "RULES": ".rules", "evaluate": ".rules", "check_requirements": ".rules", "in_footprint": ".rules",
    "HotspotList": ".hotspots", "read_hotspots": ".hotspots", "match_hotspots": ".hotspots",
    "garwood_interval": ".statistics", "prob_rate_at_least": ".statistics",
}
__all__ = list(_LAZY)
__getattr__ = lazy_getattr(__name__, _LAZY)
