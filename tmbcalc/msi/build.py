"""The genome build of MSI inputs: a loci file records the build of the reference it was scanned
from (by contig lengths); scoring refuses alignments whose header says another build.

Loci positions are reference coordinates: a GRCh37 loci file on a GRCh38 BAM reads the wrong
bases at every locus.  Coordinates are 0-based; builds are recognised from primary-chromosome
lengths (:func:`tmbcalc.contigs.detect_build`); a reference piece or renamed contigs give no
build, and then nothing is refused (the flank checks of the profile step still apply).
"""
from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ..contigs import detect_build
from ..errors import ContigMismatchError


def reference_build(lengths: Mapping[str, int], source: str) -> dict[str, Any]:
    """The build record of a reference FASTA, from the lengths of its contigs."""
    build = detect_build(lengths)
    how = (f"contig lengths of {Path(source).name}" if build else
           f"not determined: the contig lengths of {Path(source).name} match no primary assembly")
    return {"build": build, "method": "reference_contig_lengths" if build else "not_determined", "evidence": how}


def loci_build(comments: Sequence[str]) -> str | None:
    """The build a loci file's provenance line records (``# provenance: {...}``), or None."""
    for line in comments:
        text = line.strip()
        if text.startswith("provenance:"):
            try:
                doc = json.loads(text.split(":", 1)[1])
            except json.JSONDecodeError:
                return None
            gb = doc.get("genome_build") if isinstance(doc, dict) else None
            return gb.get("build") if isinstance(gb, dict) else None
    return None


def check_alignment_builds(loci_source: str, comments: Sequence[str],
                           alignments: Mapping[str, Mapping[str, int]]) -> dict[str, Any]:
    """Refuse an alignment whose header build differs from the loci file's; return the record."""
    want = loci_build(comments)
    seen = {path: detect_build(lengths) for path, lengths in alignments.items()}
    for path, build in seen.items():
        if want and build and build != want:
            raise ContigMismatchError(f"genome build mismatch: the loci file {Path(loci_source).name} was scanned "
                                      f"from a {want} reference but this alignment is {build} by its header's "
                                      f"contig lengths; scan the loci from the reference the reads were "
                                      f"aligned to", path)
    builds = {b for b in [want, *seen.values()] if b}
    return {"build": builds.pop() if len(builds) == 1 else None, "loci_file": want,
            "alignments": {Path(p).name: b for p, b in seen.items()},
            "evidence": "loci file provenance (reference contig lengths) and alignment header contig lengths"}


__all__ = ["reference_build", "loci_build", "check_alignment_builds"]
