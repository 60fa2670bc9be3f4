"""In-house panels reach `tmbcalc callable/tmb --panel` through --panels-dir (same result as --bed)."""
from __future__ import annotations

import hashlib
import json

from .conftest import run_cli


def _lab_panel(tmp_path, bed_text: str):
    d = tmp_path / "inhouse"
    d.mkdir()
    bed = d / "lab.GRCh37.bed"
    bed.write_text(bed_text)
    sha = hashlib.sha256(bed.read_bytes()).hexdigest()
    (d / "lab.toml").write_text(
        'id = "lab"\nname = "Lab"\nversion = "1"\nvendor = "Lab"\nbuilds = ["GRCh37"]\n'
        'profile = "tso500-like"\ncutpoints = [10.0]\ncitation = "internal"\n'
        '\n[footprint]\nsource = "lab"\nlicence = "internal"\nmethod = "target-bed"\n'
        f'\n[footprint.GRCh37]\nbed = "{bed.name}"\nshipped = true\nsha256 = "{sha}"\n')
    return d, bed


def test_callable_panel_from_panels_dir_equals_bed(shared, tmp_path):
    bam = shared / "bam/exomedepth/minimum_1_25630000_25650000.bam"
    d, bed = _lab_panel(tmp_path, "1\t25630000\t25640000\n1\t25645000\t25650000\n")
    r1 = run_cli("callable", str(bam), "--panel", "lab", "--panels-dir", str(d), "--min-depth", "5",
                 "-o", str(tmp_path / "p"))
    assert r1.returncode == 0, r1.stderr
    r2 = run_cli("callable", str(bam), "--bed", str(bed), "--min-depth", "5", "-o", str(tmp_path / "b"))
    assert r2.returncode == 0, r2.stderr
    a = json.loads((tmp_path / "p.callable.json").read_text())
    b = json.loads((tmp_path / "b.callable.json").read_text())
    assert a["footprint_bp"] == b["footprint_bp"] == 15000
    assert a["callable_bp"] == b["callable_bp"] > 0
    r3 = run_cli("callable", str(bam), "--panel", "lab", "--min-depth", "5", "-o", str(tmp_path / "x"))
    assert r3.returncode == 1 and "unknown panel id 'lab'" in r3.stderr


def test_tmb_panel_from_panels_dir_equals_bed(shared, tmp_path):
    vcf = shared / "somatic/pcgr_examples/T001-COAD.grch37.vcf.gz"
    d, bed = _lab_panel(tmp_path, "1\t0\t50000000\n2\t0\t30000000\n")
    common = ("--profile", "wes-merino", "--consequences", "all", "--quiet")
    r1 = run_cli("tmb", str(vcf), "--panel", "lab", "--panels-dir", str(d), *common, "-o", str(tmp_path / "p"))
    assert r1.returncode == 0, r1.stderr
    r2 = run_cli("tmb", str(vcf), "--bed", str(bed), *common, "-o", str(tmp_path / "b"))
    assert r2.returncode == 0, r2.stderr
    a = json.loads((tmp_path / "p.tmb.json").read_text())["samples"][0]
    b = json.loads((tmp_path / "b.tmb.json").read_text())["samples"][0]
    assert a["footprint_bp"] == b["footprint_bp"] == 80_000_000
    assert a["eligible_variants"] == b["eligible_variants"] > 0
