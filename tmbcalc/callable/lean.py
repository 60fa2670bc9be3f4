"""The numpy-free callable run behind ``tmbcalc callable``: footprint from a panel or a BED, depth
from the compiled kernel, provenance, and a result that writes itself.

Neither numpy, pandas nor the pysam package is imported on this path (start-up and memory matter
for a command that runs once per sample); :func:`tmbcalc.callable.compute_callable` is the
numpy-backed API over the same engine.  Coordinates are 0-based half-open; sizes in bp.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import UsageError, require_readable
from ..intervals import Footprint, Targets
from . import engine


@dataclass(frozen=True)
class CallableRun:
    """One callable run: the engine's result and its provenance."""

    core: engine.CoreResult
    provenance: dict[str, Any]

    @property
    def callable_bp(self) -> int:
        return self.core.callable_bp

    @property
    def footprint_bp(self) -> int:
        return self.core.footprint_bp

    def to_dict(self) -> dict[str, Any]:
        """The PREFIX.callable.json document."""
        from .writers import summary_json

        c = self.core
        return summary_json(c.callable_bp, c.footprint_bp, c.parameters, c.inputs, c.contig_rows, self.provenance)

    def write(self, prefix: str | Path) -> list[Path]:
        """PREFIX.callable.bed.gz (+ .tbi), PREFIX.callable.json and PREFIX.coverage.tsv, all or nothing."""
        from .writers import write_outputs

        c = self.core
        rows = ((c.native_names.get(k, k), s, e) for k in c.contig_order for s, e in c.callable.get(k, ()))
        return write_outputs(Path(prefix), rows, c.target_columns, self.to_dict(), self.provenance)


def bam_build(path: str | Path) -> str | None:
    """GRCh37/GRCh38 from the BAM/CRAM header's contig lengths (None if unknown/unreadable)."""
    from ..contigs import detect_build

    require_readable(path, "tumor BAM/CRAM")
    lengths = engine.bam_contig_lengths(path)
    return None if lengths is None else detect_build(lengths)  # None: the run reports the unreadable file


def panel_build(pnl, bam: str | Path, stated: str | None):
    """The build whose footprint of registry panel ``pnl`` is used for ``bam``: stated, else the
    BAM header's (contig lengths), else the panel's only build; a panel with several builds and a
    header that does not tell is refused (say it with genome_build).  A
    :class:`~tmbcalc.genome_build.BuildCall`."""
    from ..errors import InputError
    from ..genome_build import STATE_BUILD, STATE_PARAMS, BuildCall, BuildClaim, check_stated, decide_declared

    if stated is None and engine.bam_contig_lengths(bam) is None:    # unreadable: the run reports it
        return BuildCall(pnl.build, "panel_primary_build", "the alignment header could not be read")
    call = decide_declared(check_stated(stated),
                           [BuildClaim(str(bam), bam_build(bam), "alignment header contig lengths")])
    if call is None and len(pnl.builds) > 1:
        raise InputError(f"the alignment header's contig lengths do not identify GRCh37 or GRCh38, so panel "
                         f"{pnl.id}'s footprint ({', '.join(pnl.builds)}) cannot be chosen; {STATE_BUILD}", bam,
                         params=STATE_PARAMS)
    if call is None:
        call = BuildCall(pnl.build, "panel_only_build", f"panel {pnl.id} has a {pnl.build} footprint only")
    return call


def _footprint(bam: str | Path, panel: str | None, panel_bed, panels_dirs, bed,
               genome_build: str | None = None) -> tuple[Footprint, Targets | None, str, dict]:
    """(footprint intervals, targets or None, name for messages, provenance extras)."""
    if panel:
        from ..panels.registry import load_panel

        pnl = load_panel(panel, panels_dirs)
        call = panel_build(pnl, bam, genome_build)
        fp_set = pnl.footprint(call.build, bed=panel_bed)
        footprint = {c: list(zip(s.tolist(), e.tolist())) for c, (s, e) in fp_set.by_contig.items()}
        return footprint, None, f"panel {pnl.id}", {"panel": pnl.to_dict(), "genome_build": call.to_dict()}
    if panel_bed:
        raise UsageError("panel_bed needs panel", params=("panel_bed", "panel"))
    if not bed:
        raise UsageError("give exactly one of panel or bed", params=("panel", "bed"))
    from ..io.bed_text import read_targets

    targets, _native = read_targets(bed)
    return targets.footprint(), targets, str(bed), {}


def run_callable(bam: str | Path, *, min_depth: int, normal_bam: str | Path | None = None,
                 panel: str | None = None, panel_bed: str | Path | None = None, panels_dirs=None,
                 bed: str | Path | None = None, min_normal_depth: int | None = None, mapq: int = engine.DEFAULT_MAPQ,
                 exclude_flags: int = engine.DEFAULT_EXCLUDE_FLAGS, reference: str | Path | None = None,
                 threads: int = 2, count_deletions: bool = False, mate_overlap: str = "fragment",
                 genome_build: str | None = None) -> CallableRun:
    """Callable footprint of ``panel`` (its BED for the BAM's build) or ``bed`` (its records are
    the targets of PREFIX.coverage.tsv): bases with tumor depth >= ``min_depth`` and, with a
    normal, normal depth >= ``min_normal_depth`` (default ``min_depth``).  ``genome_build`` states the
    build that picks the panel's BED (default: the BAM header's; see :func:`panel_build`)."""
    footprint, targets, fp_name, extra = _footprint(bam, panel, panel_bed, panels_dirs, bed, genome_build)
    if threads > 1:
        engine.share_one_malloc_arena()
    core = engine.compute(bam, footprint, normal_bam=normal_bam, min_depth=min_depth,
                          min_normal_depth=min_normal_depth, mapq=mapq, exclude_flags=exclude_flags,
                          reference=reference, threads=threads, targets=targets,
                          count_deletions=count_deletions, mate_overlap=mate_overlap, footprint_name=fp_name)
    from ..provenance import build_provenance

    prov = build_provenance("callable", core.parameters, {"tumor_bam": bam, "normal_bam": normal_bam,
                                                          "bed": panel_bed if panel else bed,
                                                          "reference": reference}, **extra)
    return CallableRun(core, prov)


__all__ = ["CallableRun", "run_callable", "bam_build", "panel_build"]
