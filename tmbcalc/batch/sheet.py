"""Reading a batch sample sheet (TSV or CSV with a header) into per-sample specifications.

Columns (names fixed; order free; empty cell = not given)::

    sample          folder and row name (checked by :mod:`tmbcalc.batch.names`)
    calls           somatic VCF/BCF/MAF path(s), several separated by ';' (e.g. Strelka2 SNVs;indels)
    tumor_bam       tumor BAM/CRAM: callable denominator of TMB, and MSI from reads with ``loci``
    normal_bam      matched-normal BAM/CRAM (callable denominator; paired MSI when no msi_normal_bam)
    panel | bed     footprint: registry panel id, or BED path(s) separated by ';'
    profile         counting profile name or TOML path
    loci            microsatellite loci ('tmbcalc msi scan'): MSI from reads (with tumor_bam) and
                    from calls (with calls)
    baseline        baseline of normals for tumor-only MSI
    msi_normal_bam  normal BAM for paired MSI (default: normal_bam)
    calibrate_to    harmonize TMB to this reference (needs panel)

plus the option columns of :mod:`tmbcalc.batch.options`.  Relative paths resolve against the
sheet's folder.  Blank lines and lines starting with ``#`` are skipped.  Line numbers in
messages are 1-based lines of the file (the header is line 1).
"""
from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import InputError
from .options import OPTIONS, canonical_column, parse_option

FILE_COLUMNS = ("calls", "tumor_bam", "normal_bam", "bed", "loci", "baseline", "msi_normal_bam")
VALUE_COLUMNS = ("panel", "profile", "calibrate_to")
CORE_COLUMNS = ("sample", *FILE_COLUMNS, *VALUE_COLUMNS)
MULTI_FILE = ("calls", "bed", "exclude_bed", "exclude_hotspots")   # ';'-separated lists


@dataclass(frozen=True)
class Problem:
    """One problem of the sheet: where (line, column) and what."""

    line: int
    column: str
    message: str

    def __str__(self) -> str:
        where = f"line {self.line}" if self.line else "header"
        return f"{where}, column {self.column}: {self.message}" if self.column else f"{where}: {self.message}"


@dataclass(frozen=True)
class SampleSpec:
    """Everything one sample's row asks for, paths resolved (absolute).  Picklable (sent to workers)."""

    sample: str
    line: int
    calls: tuple[str, ...] = ()
    tumor_bam: str | None = None
    normal_bam: str | None = None
    panel: str | None = None
    bed: tuple[str, ...] = ()
    profile: str | None = None
    loci: str | None = None
    baseline: str | None = None
    msi_normal_bam: str | None = None
    calibrate_to: str | None = None
    options: tuple[tuple[str, object], ...] = ()      # (option column, parsed value)
    option_text: tuple[tuple[str, str], ...] = ()     # (option column, cell text, paths resolved)

    def option(self, column: str, default=None):
        return dict(self.options).get(column, default)

    def input_files(self) -> list[tuple[str, str]]:
        """(column, absolute path) of every input file of the row."""
        out = [("calls", c) for c in self.calls] + [("bed", b) for b in self.bed]
        if self.profile and is_profile_file(self.profile):
            out.append(("profile", self.profile))
        for col in ("tumor_bam", "normal_bam", "loci", "baseline", "msi_normal_bam"):
            if getattr(self, col):
                out.append((col, getattr(self, col)))
        for col, text in self.option_text:
            if OPTIONS[col].files:
                out.extend((col, p) for p in text.split(";"))
        return out


@dataclass
class Sheet:
    path: Path
    columns: list[str]
    specs: list[SampleSpec] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


def _delimiter(path: Path, header: str) -> str:
    if path.suffix.lower() == ".csv":
        return ","
    if path.suffix.lower() in (".tsv", ".txt"):
        return "\t"
    return "\t" if "\t" in header else ","


def read_sheet(path: str | Path) -> Sheet:
    """Parse the sheet; problems of single cells are collected in ``Sheet.problems`` (not raised).
    Raises InputError only when the file itself cannot be read or has no header."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise InputError("sample sheet does not exist", p) from None
    except UnicodeDecodeError:
        raise InputError("sample sheet is not UTF-8 text", p) from None
    except OSError as exc:
        raise InputError(f"cannot read sample sheet: {exc.strerror}", p) from None
    lines = [(i + 1, ln) for i, ln in enumerate(text.splitlines())
             if ln.strip() and not ln.lstrip().startswith("#")]
    if not lines:
        raise InputError("sample sheet is empty (a header line with a 'sample' column is needed)", p)
    delim = _delimiter(p, lines[0][1])
    rows = list(csv.reader([ln for _, ln in lines], delimiter=delim))
    columns = [canonical_column(c) for c in rows[0]]
    sheet = Sheet(p, columns)
    _check_header(sheet, lines[0][0])
    if sheet.problems:
        return sheet
    base = p.resolve().parent
    for (lineno, _), cells in zip(lines[1:], rows[1:]):
        if len(cells) != len(columns):
            sheet.problems.append(Problem(lineno, "", f"{len(cells)} cells, the header has {len(columns)}"))
            continue
        spec = _row_spec(dict(zip(columns, (c.strip() for c in cells))), lineno, base, sheet.problems)
        if spec is not None:
            sheet.specs.append(spec)
    if not sheet.specs and not sheet.problems:
        sheet.problems.append(Problem(0, "", "the sheet has no sample rows"))
    return sheet


def _check_header(sheet: Sheet, lineno: int) -> None:
    seen: set[str] = set()
    for c in sheet.columns:
        if c in seen:
            sheet.problems.append(Problem(0, c, "column given twice"))
        seen.add(c)
        if c not in CORE_COLUMNS and c not in OPTIONS:
            sheet.problems.append(Problem(0, c, "unknown column (known: " + ", ".join(CORE_COLUMNS) +
                                          " and option columns named like the tmb/msi flags, e.g. min_vaf)"))
    if "sample" not in seen:
        sheet.problems.append(Problem(0, "sample", "the header has no 'sample' column"))


def is_profile_file(text: str) -> bool:
    """A profile cell naming a TOML file (resolved like any path) rather than a bundled profile."""
    return text.endswith(".toml") or "/" in text


def _resolve(text: str, base: Path) -> str:
    q = Path(text).expanduser()
    return str(q if q.is_absolute() else base / q)


def _row_spec(cells: dict[str, str], line: int, base: Path, problems: list[Problem]) -> SampleSpec | None:
    kw: dict[str, object] = {"sample": cells.get("sample", ""), "line": line}
    for col in FILE_COLUMNS:
        text = cells.get(col, "")
        if not text:
            continue
        parts = [t.strip() for t in text.split(";")] if col in MULTI_FILE else [text]
        if any(not t for t in parts):
            problems.append(Problem(line, col, f"empty path in {text!r}"))
            continue
        resolved = tuple(_resolve(t, base) for t in parts)
        kw[col] = resolved if col in MULTI_FILE else resolved[0]
    for col in VALUE_COLUMNS:
        if cells.get(col):
            kw[col] = cells[col]
    if is_profile_file(cells.get("profile", "")):
        kw["profile"] = _resolve(cells["profile"], base)
    opts, texts = [], []
    for col, text in cells.items():
        if col not in OPTIONS or not text:
            continue
        if OPTIONS[col].files:
            parts = [t.strip() for t in text.split(";")] if col in MULTI_FILE else [text]
            text = ";".join(_resolve(t, base) for t in parts)
        try:
            opts.append((col, parse_option(col, text)))
        except ValueError as exc:
            problems.append(Problem(line, col, str(exc)))
            continue
        texts.append((col, text))
    return SampleSpec(**kw, options=tuple(opts), option_text=tuple(texts))  # type: ignore[arg-type]
