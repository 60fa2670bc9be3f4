"""Panel registry: one TOML file per sequencing panel, BED footprints beside it.

A panel definition (see ``docs/panels.md`` for every key) names the assay, its genome build(s),
gene list, declared TMB region size (Mb), counting profile (the TMB rules, a name resolved by
:mod:`tmbcalc.tmb.profiles`), reported TMB cut points (mut/Mb) and, per build, its footprint: a BED
shipped beside the TOML or, when the BED may not be redistributed, the sha256 of the vendor file
plus instructions to obtain it.  The user then supplies the file (``--panel-bed PATH``, the
environment variable named by :meth:`Panel.bed_env_var`, or by placing it under the expected file
name in a ``--panels-dir``/``$TMBCALC_PANELS_DIR`` folder) and its checksum is verified.

Panels are looked up, in order, in explicit ``panels_dirs``, ``$TMBCALC_PANELS_DIR`` and the
bundled ``panels/`` folder; a panel id must be unique across all of them.  Footprint sizes are
in Mb (1 Mb = 1,000,000 bp) of the merged intervals.
"""
from __future__ import annotations

import gzip
import hashlib
import os
import re
import tomllib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..contigs import BUILD_LENGTHS
from ..errors import InputError
from ..io.bed import read_bed
from ..regions import RegionSet
from ..resources import panels_dir, profiles_dir, user_panels_dirs

BUILDS = ("GRCh37", "GRCh38")
# Profile names defined by tmbcalc/profiles (the TMB counting rules); any *.toml found there is
# accepted as well, so a new profile needs no change here.
KNOWN_PROFILES = ("wes-merino", "f1cdx-like", "msk-impact-like", "tso500-like")
FOOTPRINT_METHODS = ("target-bed", "gene-exons", "vendor-bed")
_ID_RE = re.compile(r"^[a-z0-9][a-z0-9._-]*$")
_SHA_RE = re.compile(r"^[0-9a-f]{64}$")

# key -> (expected python types, required?)
_TOP_KEYS: dict[str, tuple[tuple[type, ...], bool]] = {
    "id": ((str,), True),
    "name": ((str,), True),
    "version": ((str,), True),
    "vendor": ((str,), True),
    "builds": ((list,), True),
    "profile": ((str,), True),
    "declared_tmb_mb": ((int, float), False),
    "declared_tmb_mb_source": ((str,), False),
    "cutpoints": ((list,), True),
    "cutpoint_sources": ((list,), False),
    "citation": ((str,), True),
    "genes": ((list,), False),
    "genes_file": ((str,), False),
    "gene_source": ((str,), False),
    "notes": ((str,), False),
    "footprint": ((dict,), True),
}
_FOOTPRINT_KEYS: dict[str, tuple[tuple[type, ...], bool]] = {
    "source": ((str,), True),
    "licence": ((str,), True),
    "method": ((str,), True),
    "approximation": ((str,), False),
    "tmb_region": ((str,), False),
}
_BUILD_KEYS: dict[str, tuple[tuple[type, ...], bool]] = {
    "bed": ((str,), True),
    "shipped": ((bool,), True),
    "sha256": ((str,), False),
    "content_sha256": ((str,), False),
    "footprint_sha256": ((str,), False),
    "mb": ((int, float), False),
    "obtain": ((str,), False),
    "tmb_bed": ((str,), False),
    "tmb_sha256": ((str,), False),
    "tmb_mb": ((int, float), False),
}


@dataclass(frozen=True)
class FootprintSpec:
    """Where one build's footprint BED comes from and how to check it."""

    build: str
    bed: str  # file name, relative to the TOML's folder (or looked up in panel folders)
    shipped: bool  # True: the BED is distributed with the definition
    sha256: str | None  # of the file's bytes as distributed
    content_sha256: str | None  # of the decompressed text (matches a gunzipped copy)
    footprint_sha256: str | None  # of the merged footprint (see footprint_digest)
    mb: float | None  # merged footprint size recorded in the registry (Mb)
    obtain: str  # how to get the file when it is not shipped
    tmb_bed: str | None = None  # shipped BED of the TMB region when it is not the whole footprint
    tmb_sha256: str | None = None  # sha256 of that file's bytes
    tmb_mb: float | None = None  # its merged size (Mb)


@dataclass(frozen=True)
class Panel:
    """One sequencing panel of the registry.  Sizes in Mb, cut points in mutations/Mb."""

    id: str
    name: str
    version: str
    vendor: str
    builds: list[str]
    profile: str
    declared_tmb_mb: float | None
    declared_tmb_mb_source: str
    cutpoints: list[float]
    cutpoint_sources: list[str]
    citation: str
    genes: list[str]
    gene_source: str
    notes: str
    footprint_source: str
    footprint_licence: str
    footprint_method: str
    approximation: str
    footprints: dict[str, FootprintSpec]
    path: Path  # the TOML file
    tmb_region_description: str = ""  # what the assay's TMB denominator is (registry 'footprint.tmb_region')
    _cache: dict = field(default_factory=dict, compare=False, repr=False)

    @property
    def build(self) -> str:
        """Primary genome build (the first listed)."""
        return self.builds[0]

    @property
    def gene_count(self) -> int:
        return len(self.genes)

    def _spec(self, build: str | None) -> FootprintSpec:
        b = build or self.build
        if b not in self.footprints:
            raise InputError(f"panel '{self.id}' has no footprint for build {b} "
                             f"(available: {', '.join(self.builds)})", self.path)
        return self.footprints[b]

    def bed_env_var(self, build: str | None = None) -> str:
        """Environment variable that may point at this panel's BED for ``build``."""
        b = build or self.build
        return "TMBCALC_BED_" + re.sub(r"[^A-Z0-9]", "_", f"{self.id}_{b}".upper())

    def bed_path(self, build: str | None = None) -> Path | None:
        """Path of the footprint BED for ``build`` if it can be found, else None.

        Looks at: the environment variable :meth:`bed_env_var`, the TOML's folder, then every
        ``$TMBCALC_PANELS_DIR`` folder (under the file name given by the ``bed`` key).
        """
        spec = self._spec(build)
        env = os.environ.get(self.bed_env_var(spec.build))
        if env:
            return Path(env)
        for d in [self.path.parent, *user_panels_dirs()]:
            p = d / spec.bed
            if p.is_file():
                return p
        return None

    def missing_bed_message(self, build: str | None = None) -> str:
        """One-line instructions for supplying a BED that is not shipped."""
        spec = self._spec(build)
        how = f" Obtain it: {spec.obtain.rstrip('.')}." if spec.obtain else ""
        return (f"panel '{self.id}' ({spec.build}): footprint BED '{spec.bed}' is not shipped "
                f"(licence: {self.footprint_licence}).{how} Then pass it with --panel-bed PATH, "
                f"set {self.bed_env_var(spec.build)}=PATH, or copy it as '{spec.bed}' into a "
                f"--panels-dir / $TMBCALC_PANELS_DIR folder; its sha256 is checked against "
                f"{self.path.name}.")

    def footprint(self, build: str | None = None, bed: str | Path | None = None, *,
                  verify: bool = True) -> RegionSet:
        """Merged footprint (canonical contigs, 0-based half-open) for ``build``.

        ``bed`` overrides the lookup of :meth:`bed_path`.  With ``verify`` a BED is refused unless
        its bytes, its decompressed text or its merged footprint match the TOML's checksums; a
        BED reaching past the build's chromosome ends is refused too.
        """
        spec = self._spec(build)
        path = Path(bed) if bed is not None else self.bed_path(spec.build)
        if path is None:
            raise InputError(self.missing_bed_message(spec.build), self.path)
        key = (spec.build, str(path.resolve()) if path.exists() else str(path), verify)
        if key in self._cache:
            return self._cache[key]
        if not path.is_file():
            raise InputError(f"footprint BED for panel '{self.id}' ({spec.build}) does not exist", path)
        regions = read_bed(path)
        if verify:
            verify_bed_checksum(self, spec, path, regions)
        check_regions_fit_build(regions, spec.build, path)
        self._cache[key] = regions
        return regions

    def tmb_region(self, build: str | None = None, bed: str | Path | None = None) -> RegionSet:
        """The assay's TMB region (0-based half-open): the denominator of ``tmb --panel``.

        For panels whose footprint is a capture-target list (introns, SNP tiles, promoters) the
        registry ships a separate BED of its coding part (``tmb_bed``, sha256-checked); otherwise
        the TMB region is the footprint itself (``bed`` overrides its lookup).
        """
        spec = self._spec(build)
        if spec.tmb_bed is None:
            return self.footprint(spec.build, bed)
        path = self.path.parent / spec.tmb_bed
        key = ("tmb", spec.build)
        if key not in self._cache:
            if not path.is_file():
                raise InputError(f"TMB-region BED of panel '{self.id}' ({spec.build}) is missing", path)
            from ..provenance import sha256_file

            if spec.tmb_sha256 and sha256_file(path) != spec.tmb_sha256:
                raise InputError(f"TMB-region BED of panel '{self.id}' does not match the sha256 in "
                                 f"{self.path.name}", path)
            regions = read_bed(path)
            check_regions_fit_build(regions, spec.build, path)
            self._cache[key] = regions
        return self._cache[key]

    def tmb_region_info(self, build: str | None = None) -> dict[str, Any]:
        """Description of the TMB region for outputs: what it is, its file and checksum."""
        spec = self._spec(build)
        desc = self.tmb_region_description or "the panel footprint"
        if spec.tmb_bed is None:
            return {"description": desc, "bed": spec.bed, "sha256": spec.sha256,
                    "footprint_sha256": spec.footprint_sha256, "mb": spec.mb, "build": spec.build}
        return {"description": desc, "bed": spec.tmb_bed, "sha256": spec.tmb_sha256, "mb": spec.tmb_mb,
                "build": spec.build}

    def footprint_mb(self, build: str | None = None) -> float | None:
        """Merged footprint size (Mb) computed from the BED, or None when it is unavailable."""
        spec = self._spec(build)
        if self.bed_path(spec.build) is None:
            return None
        return self.footprint(spec.build).total_mb()

    def to_dict(self) -> dict[str, Any]:
        """Plain description for JSON outputs and provenance (no footprint intervals)."""
        return {
            "id": self.id, "name": self.name, "version": self.version, "vendor": self.vendor,
            "builds": list(self.builds), "profile": self.profile,
            "declared_tmb_mb": self.declared_tmb_mb, "cutpoints": list(self.cutpoints),
            "gene_count": self.gene_count, "citation": self.citation,
            "footprint_source": self.footprint_source, "footprint_method": self.footprint_method,
            "definition": str(self.path), "tmb_region": self.tmb_region_description or "the panel footprint",
            "footprints": {b: {"bed": s.bed, "shipped": s.shipped, "sha256": s.sha256,
                               "footprint_sha256": s.footprint_sha256, "mb": s.mb}
                           for b, s in self.footprints.items()},
        }


# -- checksums and sanity checks ----------------------------------------------------------------
def file_digests(path: Path) -> tuple[str, str]:
    """(sha256 of the bytes, sha256 of the decompressed bytes — same as the first if not gzip)."""
    raw = hashlib.sha256()
    with open(path, "rb") as fh:
        magic = fh.read(2)
        fh.seek(0)
        while block := fh.read(1 << 20):
            raw.update(block)
    if magic != b"\x1f\x8b":
        return raw.hexdigest(), raw.hexdigest()
    content = hashlib.sha256()
    try:
        with gzip.open(path, "rb") as fh:
            while block := fh.read(1 << 20):
                content.update(block)
    except (EOFError, OSError) as exc:
        raise InputError(f"compressed file is truncated or corrupt ({exc})", path) from None
    return raw.hexdigest(), content.hexdigest()


def _contig_key(c: str) -> tuple[int, str]:
    if c.isdigit():
        return int(c), ""
    return {"X": 23, "Y": 24, "MT": 25}.get(c, 26), c


def sorted_intervals(regions: RegionSet):
    """Merged intervals as (canonical contig, start, end) in karyotype order (1..22, X, Y, MT)."""
    for c in sorted(regions.by_contig, key=_contig_key):
        s, e = regions.by_contig[c]
        for a, b in zip(s.tolist(), e.tolist()):
            yield c, a, b


def footprint_digest(regions: RegionSet) -> str:
    """sha256 of the merged footprint written as 'contig\tstart\tend\n' lines (canonical
    contig names, karyotype order, 0-based half-open): identical for any file spelling of the
    same intervals (chr prefix, names, header lines, compression, order, overlaps)."""
    h = hashlib.sha256()
    for c, a, b in sorted_intervals(regions):
        h.update(f"{c}\t{a}\t{b}\n".encode())
    return h.hexdigest()


def verify_bed_checksum(panel: Panel, spec: FootprintSpec, path: Path,
                        regions: RegionSet | None = None) -> None:
    """Raise InputError unless the BED matches the TOML: its bytes (``sha256``), its decompressed
    text (``content_sha256``) or its merged footprint (``footprint_sha256``)."""
    declared = {x for x in (spec.sha256, spec.content_sha256) if x}
    if not declared and not spec.footprint_sha256:
        return
    raw, content = file_digests(path)
    if raw in declared or content in declared:
        return
    if spec.footprint_sha256:
        regions = regions if regions is not None else read_bed(path)
        if footprint_digest(regions) == spec.footprint_sha256:
            return
    raise InputError(f"sha256 {raw} does not match panel '{panel.id}' ({spec.build}) in "
                     f"{panel.path} (neither the file nor its merged footprint matches the "
                     f"registered design); define an in-house panel for a different design", path)


def check_regions_fit_build(regions: RegionSet, build: str, path: Path) -> None:
    """Refuse a BED with intervals past the end of a primary contig of ``build``."""
    lengths = BUILD_LENGTHS.get(build, {})
    for contig, (_, ends) in regions.by_contig.items():
        n = lengths.get(contig)
        if n is not None and ends.size and int(ends[-1]) > n:
            raise InputError(f"interval on contig {contig} ends at {int(ends[-1])}, beyond its "
                             f"{build} length {n}: wrong genome build?", path)


# -- parsing --------------------------------------------------------------------------------------
def _check_table(table: dict, spec: dict[str, tuple[tuple[type, ...], bool]], where: str,
                 path: Path) -> None:
    for key in table:
        if key not in spec:
            raise InputError(f"unknown key '{where}{key}' (allowed: {', '.join(spec)})", path)
    for key, (types, required) in spec.items():
        if key not in table:
            if required:
                raise InputError(f"missing required key '{where}{key}'", path)
            continue
        value = table[key]
        if isinstance(value, bool) and bool not in types:
            ok = False
        else:
            ok = isinstance(value, types)
        if not ok:
            want = " or ".join(t.__name__ for t in types)
            raise InputError(f"key '{where}{key}' must be {want}, got {type(value).__name__}", path)


def known_profiles() -> list[str]:
    """Counting-profile names a panel may refer to."""
    names = set(KNOWN_PROFILES)
    d = profiles_dir()
    if d.is_dir():
        names.update(p.stem for p in d.glob("*.toml"))
    return sorted(names)


def _read_genes_file(path: Path, toml_path: Path) -> list[str]:
    if not path.is_file():
        raise InputError(f"key 'genes_file': file '{path.name}' not found beside the TOML", toml_path)
    genes = []
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            genes.append(line.split()[0])
    return genes


def parse_panel(path: str | Path) -> Panel:
    """Read and validate one panel TOML; raise a one-line InputError naming the file and key."""
    p = Path(path)
    data = _load_toml(p)
    _check_table(data, _TOP_KEYS, "", p)
    pid, builds = _check_identity(data, p)
    cut, sources = _check_cutpoints(data, p)
    declared = data.get("declared_tmb_mb")
    if declared is not None and not declared > 0:
        raise InputError("key 'declared_tmb_mb' must be > 0", p)
    genes = _panel_genes(data, p)
    fp = data["footprint"]
    specs = _footprint_specs(fp, builds, p)
    return Panel(
        id=pid, name=data["name"], version=data["version"], vendor=data["vendor"],
        builds=list(builds), profile=data["profile"],
        declared_tmb_mb=None if declared is None else float(declared),
        declared_tmb_mb_source=data.get("declared_tmb_mb_source", ""),
        cutpoints=cut, cutpoint_sources=list(sources), citation=data["citation"],
        genes=list(genes), gene_source=data.get("gene_source", ""), notes=data.get("notes", ""),
        footprint_source=fp["source"], footprint_licence=fp["licence"],
        footprint_method=fp["method"], approximation=fp.get("approximation", ""),
        footprints=specs, path=p, tmb_region_description=fp.get("tmb_region", ""),
    )


def _load_toml(p: Path) -> dict:
    try:
        with open(p, "rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        raise InputError("panel definition does not exist", p) from None
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"not valid TOML: {exc}", p) from None
    except UnicodeDecodeError as exc:
        raise InputError(f"panel definition is not UTF-8 text (byte {exc.start})", p) from None
    except OSError as exc:
        raise InputError(f"cannot read panel definition: {exc.strerror}", p) from None


def _check_identity(data: dict, p: Path) -> tuple[str, list[str]]:
    """The id (= file stem), the builds and the counting profile."""
    pid = data["id"]
    if not _ID_RE.match(pid):
        raise InputError(f"key 'id': '{pid}' must be lower-case letters, digits, '.', '_' or '-'", p)
    if p.suffix == ".toml" and p.stem != pid:
        raise InputError(f"key 'id': '{pid}' must equal the file name stem '{p.stem}'", p)

    builds = data["builds"]
    if not builds or not all(isinstance(b, str) for b in builds):
        raise InputError("key 'builds' must be a non-empty list of build names", p)
    for b in builds:
        if b not in BUILDS:
            raise InputError(f"key 'builds': unknown genome build '{b}' (known: {', '.join(BUILDS)})", p)
    if len(set(builds)) != len(builds):
        raise InputError("key 'builds' lists a build twice", p)

    if data["profile"] not in known_profiles():
        raise InputError(f"key 'profile': unknown counting profile '{data['profile']}' "
                         f"(known: {', '.join(known_profiles())})", p)
    return pid, builds


def _check_cutpoints(data: dict, p: Path) -> tuple[list[float], list[str]]:
    """Cut points (mutations/Mb, > 0, ascending) and one source per cut point."""
    cut = data["cutpoints"]
    if not all(isinstance(c, (int, float)) and not isinstance(c, bool) for c in cut):
        raise InputError("key 'cutpoints' must be a list of numbers (mutations/Mb)", p)
    cut = [float(c) for c in cut]
    if any(c <= 0 for c in cut):
        raise InputError("key 'cutpoints': cut points must be > 0 mutations/Mb", p)
    if any(b <= a for a, b in zip(cut, cut[1:])):
        raise InputError("key 'cutpoints' must be sorted ascending without duplicates", p)
    sources = data.get("cutpoint_sources", [])
    if not all(isinstance(s, str) for s in sources) or (sources and len(sources) != len(cut)):
        raise InputError("key 'cutpoint_sources' must be a list of strings, one per cut point", p)
    return cut, sources


def _panel_genes(data: dict, p: Path) -> list[str]:
    if "genes" in data and "genes_file" in data:
        raise InputError("give either 'genes' or 'genes_file', not both", p)
    if "genes_file" in data:
        genes = _read_genes_file(p.parent / data["genes_file"], p)
    else:
        genes = data.get("genes", [])
        if not all(isinstance(g, str) and g for g in genes):
            raise InputError("key 'genes' must be a list of gene symbols", p)
    if len(set(genes)) != len(genes):
        dup = sorted({g for g in genes if genes.count(g) > 1})
        raise InputError(f"key 'genes': duplicate gene symbols {', '.join(dup[:5])}", p)
    return genes


def _footprint_specs(fp: dict, builds: list[str], p: Path) -> dict[str, FootprintSpec]:
    """One FootprintSpec per build from the ``[footprint.BUILD]`` tables."""
    common = {k: v for k, v in fp.items() if not isinstance(v, dict)}
    _check_table(common, _FOOTPRINT_KEYS, "footprint.", p)
    if fp["method"] not in FOOTPRINT_METHODS:
        raise InputError(f"key 'footprint.method': '{fp['method']}' is not one of "
                         f"{', '.join(FOOTPRINT_METHODS)}", p)
    specs: dict[str, FootprintSpec] = {}
    for b, table in fp.items():
        if not isinstance(table, dict):
            continue
        if b not in builds:
            raise InputError(f"table 'footprint.{b}' is not one of the panel's builds "
                             f"({', '.join(builds)})", p)
        _check_table(table, _BUILD_KEYS, f"footprint.{b}.", p)
        for key in ("sha256", "content_sha256", "footprint_sha256"):
            if key in table and not _SHA_RE.match(table[key]):
                raise InputError(f"key 'footprint.{b}.{key}' must be 64 lower-case hex digits", p)
        if table["shipped"] and "sha256" not in table:
            raise InputError(f"key 'footprint.{b}.sha256' is required for a shipped BED", p)
        if not table["shipped"] and not table.get("obtain"):
            raise InputError(f"key 'footprint.{b}.obtain' is required when the BED is not shipped", p)
        if "/" in table["bed"] or "\\" in table["bed"]:
            raise InputError(f"key 'footprint.{b}.bed' must be a file name, not a path", p)
        specs[b] = FootprintSpec(b, table["bed"], table["shipped"], table.get("sha256"),
                                 table.get("content_sha256"), table.get("footprint_sha256"),
                                 None if "mb" not in table else float(table["mb"]),
                                 table.get("obtain", ""), table.get("tmb_bed"), table.get("tmb_sha256"),
                                 None if "tmb_mb" not in table else float(table["tmb_mb"]))
    for b in builds:
        if b not in specs:
            raise InputError(f"missing table 'footprint.{b}' for build {b}", p)
    return specs


def validate_panel_file(path: str | Path) -> str:
    """Full check of one panel TOML: schema (via :func:`parse_panel`), then per build that a
    shipped BED exists beside it with the registered sha256, loads, fits the build, and that the
    registered ``mb`` and ``footprint_sha256`` agree with the BED; a user-supplied BED of an
    unshipped footprint is checked when one can be found.  Returns a one-line summary;
    raises a one-line InputError naming the file and key on the first problem."""
    panel = parse_panel(path)
    parts = []
    for b, spec in panel.footprints.items():
        where = f"footprint.{b}"
        if spec.shipped:
            bed = panel.path.parent / spec.bed
            if not bed.is_file():
                raise InputError(f"key '{where}.bed': shipped BED '{spec.bed}' not found beside the TOML",
                                 panel.path)
            raw, _ = file_digests(bed)
            if raw != spec.sha256:
                raise InputError(f"key '{where}.sha256': {spec.bed} has sha256 {raw}, TOML says "
                                 f"{spec.sha256}", panel.path)
        else:
            bed = panel.bed_path(b)
            if bed is None:
                parts.append(f"{b}: BED not supplied (set {panel.bed_env_var(b)})")
                continue
        regions = panel.footprint(b, bed=bed)
        if spec.footprint_sha256 and footprint_digest(regions) != spec.footprint_sha256:
            raise InputError(f"key '{where}.footprint_sha256' does not match the merged intervals "
                             f"of {bed.name}", panel.path)
        mb = regions.total_mb()
        if spec.mb is not None and abs(mb - spec.mb) > 1e-6:
            raise InputError(f"key '{where}.mb' = {spec.mb} but {bed.name} covers {mb:.6f} Mb",
                             panel.path)
        parts.append(f"{b}: {mb:.6f} Mb")
    return f"{panel.id}: " + "; ".join(parts)


# -- lookup -----------------------------------------------------------------------------------------
def search_dirs(panels_dirs: Iterable[str | Path] | None = None) -> list[Path]:
    """Panel folders in lookup order: explicit, ``$TMBCALC_PANELS_DIR``, bundled."""
    if isinstance(panels_dirs, (str, Path)):
        panels_dirs = [panels_dirs]
    out: list[Path] = []
    seen: set[Path] = set()
    for d in [*(Path(x) for x in (panels_dirs or [])), *user_panels_dirs(), panels_dir()]:
        if d != panels_dir() and not d.is_dir():
            raise InputError("panels folder does not exist or is not a folder", d)
        r = d.resolve()
        if r not in seen:
            seen.add(r)
            out.append(d)
    return out


def _index(panels_dirs: Iterable[str | Path] | None) -> dict[str, Path]:
    """Panel id -> TOML path; an id defined in two folders is an error."""
    found: dict[str, Path] = {}
    for d in search_dirs(panels_dirs):
        if not d.is_dir():
            continue
        for toml in sorted(d.glob("*.toml")):
            if toml.stem in found:
                raise InputError(f"panel id '{toml.stem}' is defined twice (also in "
                                 f"{found[toml.stem]}); panel ids must be unique", toml)
            found[toml.stem] = toml
    return found


def available_ids(panels_dirs: Iterable[str | Path] | None = None) -> list[str]:
    return sorted(_index(panels_dirs))


def load_panel(panel_id: str | Path, panels_dirs: Sequence[str | Path] | None = None) -> Panel:
    """Panel by id (or by the path of a TOML file); unknown ids list the available ones."""
    s = str(panel_id)
    if s.endswith(".toml") and Path(s).is_file():
        return parse_panel(s)
    index = _index(panels_dirs)
    if s not in index:
        raise InputError(f"unknown panel id '{s}' (available: {', '.join(sorted(index)) or 'none'}; "
                         f"add in-house panels with panels_dirs or $TMBCALC_PANELS_DIR)", params=("panels_dirs",))
    return parse_panel(index[s])


def list_panels(panels_dirs: Sequence[str | Path] | None = None) -> list[Panel]:
    """Every panel of the registry, sorted by id."""
    return [parse_panel(p) for _, p in sorted(_index(panels_dirs).items())]


__all__ = ["Panel", "FootprintSpec", "load_panel", "list_panels", "parse_panel", "available_ids",
           "known_profiles", "search_dirs", "file_digests", "footprint_digest", "sorted_intervals",
           "verify_bed_checksum", "validate_panel_file", "check_regions_fit_build", "BUILDS",
           "KNOWN_PROFILES"]
