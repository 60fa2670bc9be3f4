"""Up-front checks of a whole sheet, before any work starts: every problem is collected (with its
line and column) rather than stopping at the first, so a lab fixes its sheet in one go.

Checked: sample names (safe folder names, unique after case-folding), that each row asks for
something computable, that input files exist, are readable and are not inside the output folder
of a sample (a sheet may not make tmbcalc overwrite an input), BAM/CRAM indexes, panel ids,
profiles, calibration models, column combinations, and genome builds (calls vs BAMs vs panel)
where headers give contig lengths.  What only reading the whole file can reveal (a truncated
VCF) is left to the sample's run, where it is isolated (see :mod:`tmbcalc.batch.job`).
"""
from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from ..errors import TmbcalcError
from .names import RESERVED, fold, name_problem
from .options import OPTIONS
from .sheet import Problem, SampleSpec, is_profile_file

BAM_COLUMNS = ("tumor_bam", "normal_bam", "msi_normal_bam")


def validate(specs: list[SampleSpec], outdir: Path) -> list[Problem]:
    """Every problem of the sheet's rows (empty list = the sheet is valid)."""
    problems: list[Problem] = []
    seen: dict[str, SampleSpec] = {}
    cache: dict[tuple, str | None] = {}
    out_real = Path(os.path.realpath(outdir))
    names = {fold(s.sample) for s in specs}
    for spec in specs:
        add = lambda col, msg, spec=spec: problems.append(Problem(spec.line, col, msg))  # noqa: E731
        why = name_problem(spec.sample)
        if why:
            add("sample", why)
        elif fold(spec.sample) in seen:
            first = seen[fold(spec.sample)]
            add("sample", f"sample {spec.sample!r} duplicates {first.sample!r} of line {first.line}"
                + (" (same folder after case-folding)" if first.sample != spec.sample else ""))
        else:
            seen[fold(spec.sample)] = spec
        _check_combinations(spec, add)
        files_ok = _check_files(spec, add, out_real, names)
        _check_named(spec, add, cache)
        if files_ok:
            _check_builds(spec, add, cache)
    return problems


def _check_combinations(spec: SampleSpec, add: Callable[[str, str], None]) -> None:
    if not spec.calls and not (spec.tumor_bam and spec.loci):
        add("calls", "nothing to compute: give calls (TMB) or tumor_bam + loci (MSI from reads)")
    if spec.calls and bool(spec.panel) == bool(spec.bed):
        add("panel" if spec.panel else "bed", "TMB needs exactly one of panel or bed")
    if spec.normal_bam and not spec.tumor_bam:
        add("normal_bam", "normal_bam needs tumor_bam")
    if spec.loci and spec.tumor_bam:
        if spec.baseline and spec.msi_normal_bam:
            add("baseline", "give baseline (tumor-only MSI) or msi_normal_bam (paired MSI), not both")
        elif not (spec.baseline or spec.msi_normal_bam or spec.normal_bam):
            add("loci", "MSI from reads needs msi_normal_bam, normal_bam or baseline")
    for col in ("baseline", "msi_normal_bam"):
        if getattr(spec, col) and not (spec.loci and spec.tumor_bam):
            add(col, f"{col} needs loci and tumor_bam")
    if spec.calibrate_to and not (spec.panel and spec.calls):
        add("calibrate_to", "calibrate_to needs calls and a panel (calibration models are per panel)")
    tmb_opts = [c for c, _ in spec.options if OPTIONS[c].target != "msi"]
    if tmb_opts and not spec.calls:
        add(tmb_opts[0], "TMB option given but the row has no calls")
    if spec.calls and spec.loci and len(spec.bed) > 1:
        add("bed", "MSI from calls (calls + loci) takes one footprint BED; merge the BEDs first")
    if spec.tumor_bam and spec.option("callable_bed"):
        add("callable_bed", "give either tumor_bam (callable from BAMs) or callable_bed, not both")


def _index_exists(bam: str) -> bool:
    p = Path(bam)
    if p.suffix.lower() == ".cram":
        cands = [p.with_name(p.name + ".crai"), p.with_suffix(".crai")]
    else:
        cands = [p.with_name(p.name + ".bai"), p.with_suffix(".bai"), p.with_name(p.name + ".csi")]
    return any(c.is_file() for c in cands)


def _check_files(spec: SampleSpec, add, out_real: Path, names: set[str]) -> bool:
    ok = True
    for col, path in spec.input_files():
        p = Path(path)
        if not p.exists():
            add(col, f"{path}: file does not exist")
            ok = False
            continue
        if p.is_dir():
            add(col, f"{path}: is a directory, expected a file")
            ok = False
            continue
        try:
            with open(p, "rb") as fh:
                fh.read(1)
        except OSError as exc:
            add(col, f"{path}: cannot read: {exc.strerror}")
            ok = False
            continue
        real = Path(os.path.realpath(p))
        if real.parent == out_real and real.name.casefold() in RESERVED:
            add(col, f"{path}: is an output of this batch (would be overwritten)")
            ok = False
        elif out_real in real.parents and fold(real.relative_to(out_real).parts[0]) in names:
            add(col, f"{path}: lies in a sample output folder of OUTDIR (would be overwritten); move it")
            ok = False
        if col in BAM_COLUMNS and not _index_exists(path):
            add(col, f"{path}: no index (.bai/.csi/.crai) beside it; run 'samtools index {path}'")
            ok = False
    return ok


def _check_named(spec: SampleSpec, add, cache: dict) -> None:
    """Panel ids, profiles and calibration models exist."""
    if spec.panel:
        key = ("panel", spec.panel)
        if key not in cache:
            cache[key] = _try(lambda: _load_panel(spec.panel))
        if cache[key]:
            add("panel", cache[key])
    if spec.profile and spec.calls and (not is_profile_file(spec.profile) or Path(spec.profile).is_file()):
        key = ("profile", spec.profile)
        if key not in cache:
            from ..tmb import load_profile

            cache[key] = _try(lambda: load_profile(spec.profile))
        if cache[key]:
            add("profile", cache[key])
    if spec.calibrate_to and spec.panel and not cache.get(("panel", spec.panel)):
        key = ("model", spec.panel, spec.calibrate_to, spec.option("calibration_method"))
        if key not in cache:
            from ..calibrate.models import find_model

            cache[key] = _try(lambda: find_model(spec.panel, spec.calibrate_to, spec.option("calibration_method")))
        if cache[key]:
            add("calibrate_to", cache[key])


def _load_panel(pid: str):
    from ..panels import load_panel

    return load_panel(pid)


def _try(fn: Callable[[], object]) -> str | None:
    try:
        fn()
    except TmbcalcError as exc:
        return str(exc)
    except (OSError, ValueError) as exc:
        return str(exc)
    return None


def _check_builds(spec: SampleSpec, add, cache: dict) -> None:
    """Calls, BAMs and panel on one genome build (where headers give contig lengths); a calls
    header that cannot be read at all is reported here too."""
    builds: list[tuple[str, str, str]] = []      # (column, path, build)
    for col, path in [("calls", c) for c in spec.calls] + [(c, getattr(spec, c)) for c in BAM_COLUMNS]:
        if not path:
            continue
        key = ("build", path)
        if key not in cache:
            cache[key] = _header_build(path, alignment=col != "calls")
        build = cache[key]
        if build and build.startswith("error:"):
            add(col, build[len("error:"):].strip())
            return
        if build:
            builds.append((col, path, build))
    if spec.panel and not cache.get(("panel", spec.panel)):
        panel_builds = _load_panel(spec.panel).builds
        for col, path, b in builds:
            if b not in panel_builds:
                add(col, f"{path}: genome build mismatch: the file is {b} (by contig lengths) but panel "
                    f"'{spec.panel}' is {'/'.join(panel_builds)}")
                return
    for col, path, b in builds[1:]:
        if b != builds[0][2]:
            add(col, f"{path}: genome build mismatch: {b} here but {builds[0][0]} {Path(builds[0][1]).name} "
                f"is {builds[0][2]} (by contig lengths)")
            return


def _header_build(path: str, *, alignment: bool) -> str | None:
    """GRCh37/GRCh38 from a VCF/BCF or BAM/CRAM header's contig lengths; None when the header gives
    none or matches neither build, or for a MAF (its rows are checked in the run); ``"error: ..."``
    when a VCF header cannot be read."""
    from ..contigs import detect_build
    from ..errors import TmbcalcError

    if alignment:
        import pysam

        quiet = pysam.set_verbosity(0)
        try:
            with pysam.AlignmentFile(path, check_sq=False) as f:
                return detect_build(dict(zip(f.references, f.lengths)))
        except (OSError, ValueError):
            return None     # reported by the run, with the kernel's message
        finally:
            pysam.set_verbosity(quiet)
    from ..io.sniff import is_tabular_text
    from ..io.vcf import inspect_vcf

    if is_tabular_text(Path(path)):
        return None
    try:
        return inspect_vcf(path).build
    except TmbcalcError as exc:
        return f"error: {exc}"
