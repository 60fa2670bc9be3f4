"""The panel registry (FoundationOne CDx, MSK-IMPACT, TSO500, GOAL, exomes) and panel building.

API::

    load_panel(id, panels_dirs=None) -> Panel;  list_panels() -> list[Panel]     (.registry)
    build_panel_bed(genes, exon_tables, pad=...) -> PanelBuildResult              (.build)

Panel definitions are TOML files in the repository's ``panels/`` folder (installed as
``tmbcalc/_panels``), in ``--panels-dir`` folders and in ``$TMBCALC_PANELS_DIR``.
"""
from __future__ import annotations

from .._lazy import lazy_getattr

_LAZY = {
    "Panel": ".registry", "load_panel": ".registry", "list_panels": ".registry",
    "parse_panel": ".registry", "available_ids": ".registry", "validate_panel_file": ".registry",
    "check_regions_fit_build": ".registry", "search_dirs": ".registry",
    "build_panel_bed": ".build", "read_exon_table": ".build", "read_gene_list": ".build",
    "read_aliases": ".build", "PanelBuildResult": ".build",
}
__all__ = list(_LAZY)
__getattr__ = lazy_getattr(__name__, _LAZY)
