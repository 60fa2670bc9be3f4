"""Contig names and genome builds.

Canonical contig names are written without a ``chr`` prefix and with ``MT`` for the
mitochondrion (``chr1`` -> ``1``, ``chrM``/``M`` -> ``MT``).  Each reader keeps a map from
canonical to the file's native names so that queries go back to the file in its own spelling.
Builds (GRCh37 / GRCh38) are recognised from primary-chromosome lengths where a header gives them.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping

from .errors import ContigMismatchError

# Primary assembly lengths (bp).  GRCh37: GRCh37.p13 / hg19; GRCh38: GRCh38.p14 / hg38.
# hg19's chrM (NC_001807, 16,571 bp) differs from GRCh37's MT (rCRS, 16,569 bp).
BUILD_LENGTHS: dict[str, dict[str, int]] = {
    "GRCh37": {
        "1": 249250621, "2": 243199373, "3": 198022430, "4": 191154276, "5": 180915260,
        "6": 171115067, "7": 159138663, "8": 146364022, "9": 141213431, "10": 135534747,
        "11": 135006516, "12": 133851895, "13": 115169878, "14": 107349540, "15": 102531392,
        "16": 90354753, "17": 81195210, "18": 78077248, "19": 59128983, "20": 63025520,
        "21": 48129895, "22": 51304566, "X": 155270560, "Y": 59373566,
    },
    "GRCh38": {
        "1": 248956422, "2": 242193529, "3": 198295559, "4": 190214555, "5": 181538259,
        "6": 170805979, "7": 159345973, "8": 145138636, "9": 138394717, "10": 133797422,
        "11": 135086622, "12": 133275309, "13": 114364328, "14": 107043718, "15": 101991189,
        "16": 90338345, "17": 83257441, "18": 80373285, "19": 58617616, "20": 64444167,
        "21": 46709983, "22": 50818468, "X": 156040895, "Y": 57227415,
    },
}

_MITO = {"M", "MT", "chrM", "chrMT"}


def canonical(name: str) -> str:
    """Canonical spelling of a contig name: no ``chr`` prefix, ``MT`` for the mitochondrion."""
    if name in _MITO:
        return "MT"
    if name.startswith("chr") and len(name) > 3:
        return name[3:]
    return name


def native_map(names: Iterable[str]) -> dict[str, str]:
    """Map canonical name -> the spelling used in one file (first spelling wins)."""
    out: dict[str, str] = {}
    for n in names:
        out.setdefault(canonical(n), n)
    return out


def detect_build(lengths: Mapping[str, int]) -> str | None:
    """Return "GRCh37" or "GRCh38" when primary-chromosome lengths identify one, else None.

    ``lengths`` maps contig name (any spelling) to length in bp.  Contigs of unknown length
    (0 or missing) are ignored; a file whose lengths match neither build (a reference piece,
    a renamed contig) gives None.
    """
    votes = {b: 0 for b in BUILD_LENGTHS}
    for name, length in lengths.items():
        if not length:
            continue
        c = canonical(name)
        for build, table in BUILD_LENGTHS.items():
            if table.get(c) == length:
                votes[build] += 1
    best = max(votes, key=votes.__getitem__)
    others = [b for b in votes if b != best and votes[b]]
    if votes[best] == 0 or others:
        return None
    return best


def declared_build(meta: Mapping[str, object]) -> str | None:
    """The build an input's metadata states (``build``, e.g. a MAF's NCBI_Build) or, failing
    that, the one its contig lengths identify; None when neither tells."""
    if meta.get("build"):
        return str(meta["build"])
    lengths = meta.get("contig_lengths") or {}
    return detect_build(lengths) if lengths else None  # type: ignore[arg-type]


def check_same_build(a: tuple[str, str | None], b: tuple[str, str | None]) -> None:
    """Raise ContigMismatchError if two files (name, build) declare different builds."""
    (name_a, build_a), (name_b, build_b) = a, b
    if build_a and build_b and build_a != build_b:
        raise ContigMismatchError(
            f"genome build mismatch: {name_a} is {build_a} but {name_b} is {build_b} "
            f"(by contig lengths); lift one over or use inputs on the same build", name_b)


def shared_contigs(a: Iterable[str], b: Iterable[str], name_a: str, name_b: str) -> set[str]:
    """Canonical contigs present in both name lists; raise if there are none.

    Refusing here is what prevents a silent TMB of zero when, e.g., a VCF says ``chr1`` and a
    BED says ``1`` on different builds or a BED belongs to another organism.
    """
    ca = {canonical(x) for x in a}
    cb = {canonical(x) for x in b}
    common = ca & cb
    if not common:
        ex_a = ", ".join(sorted(ca)[:4]) or "none"
        ex_b = ", ".join(sorted(cb)[:4]) or "none"
        raise ContigMismatchError(
            f"shares no contig names with {name_a} ({name_b} has {ex_b}...; "
            f"{name_a} has {ex_a}...)", name_b)
    return common
