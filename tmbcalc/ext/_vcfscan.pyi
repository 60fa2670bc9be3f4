"""Type stub of the compiled VCF/BCF scanner (private; use tmbcalc.io.vcf)."""
from typing import Any

class VcfScanError(Exception):
    kind: str          # 'open', 'format', 'header', 'read', 'record', 'memory'
    record: int        # 0-based ordinal of the record being read (-1 if none)
    chrom: str | None  # contig of the last good record
    pos: int           # 0-based position of the last good record

    def __init__(self, kind: str, message: str, record: int = ..., chrom: str | None = ...,
                 pos: int = ...) -> None: ...

KINDS: dict[str, int]
MODES: dict[str, int]
TARGETS: dict[str, int]

def read_header(path: bytes) -> dict[str, Any]:
    """text, contigs [(name, length)], samples, info/format {id: (number kind, number, type)},
    kind ('vcf'/'bcf'), compression ('none'/'gzip'/'bgzf')."""

