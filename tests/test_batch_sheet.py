"""Batch sheets: parsing, whole-sheet validation (every problem with its line and column), sample
names from untrusted sheets, and ``--sample`` on the single commands."""
from __future__ import annotations

import gzip
import json
import os
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import run_cli
from tmbcalc.batch.names import name_problem
from tmbcalc.batch.sheet import read_sheet
from tmbcalc.batch.validate import validate

EXAMPLE = Path(__file__).resolve().parent.parent / "tmbcalc" / "examples"
VCF = EXAMPLE / "example_tumor_normal.vcf.gz"
BED = EXAMPLE / "example_panel.bed"


@given(st.text(min_size=0, max_size=40))
@settings(max_examples=400, deadline=None)
def test_accepted_names_stay_one_folder_inside_outdir(name):
    """Whatever a sheet says, an accepted name is exactly one new path component under OUTDIR."""
    if name_problem(name) is not None:
        return
    out = Path("/data/OUT")
    target = Path(os.path.normpath(out / name))
    assert target.parent == out and target.name == name
    assert not name.startswith((".", "-")) and all(32 < ord(c) < 127 for c in name)


@pytest.mark.parametrize("name", ["", "../x", "a/b", "a\\b", "..", ".hidden", "-rf", "a\nb", "tab\there",
                                  "x" * 101, "batch.tsv", "BATCH.json", "é"])
def test_rejected_names(name):
    assert name_problem(name) is not None


@pytest.mark.parametrize("name", ["S1", "TCGA-AB-1234-01A", "p.1_T+N", "x" * 100])
def test_accepted_names(name):
    assert name_problem(name) is None


def _sheet(tmp_path: Path, text: str, name: str = "s.tsv") -> Path:
    p = tmp_path / name
    p.write_text(text)
    return p


def test_every_problem_listed_with_line_and_column(tmp_path):
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "a.vcf.gz").write_bytes(VCF.read_bytes())
    (tmp_path / "out").mkdir()
    sheet = _sheet(tmp_path, "\n".join([
        "sample\tcalls\tbed\tpanel\tmin_vaf\tprofile",
        f"S1\tin/a.vcf.gz\t{BED}\t\t0.05\t",               # fine (relative path resolved against the sheet)
        f"s1\tin/a.vcf.gz\t{BED}\t\t\t",                   # collides with S1 after case-folding
        f"../evil\tin/a.vcf.gz\t{BED}\t\t\t",              # not a folder name
        f"S4\tin/missing.vcf.gz\t{BED}\t\t\t",             # missing file
        "S5\tin/a.vcf.gz\t\tno-such-panel\t\t",            # unknown panel
        f"S6\tin/a.vcf.gz\t{BED}\t\tlots\t",               # bad option value
        f"S7\tin/a.vcf.gz\t{BED}\t\t\tno-such-profile",    # unknown profile
        f"S8\tin/a.vcf.gz\t{BED}\ttso500\t\t",             # both footprints
        "S9\t\t\t\t\t",                                     # nothing to compute
        "# a comment line", ""]) + "\n")
    sh = read_sheet(sheet)
    problems = sh.problems + validate(sh.specs, tmp_path / "out")
    got = {(p.line, p.column) for p in problems}
    assert got == {(3, "sample"), (4, "sample"), (5, "calls"), (6, "panel"), (7, "min_vaf"), (8, "profile"),
                   (9, "panel"), (10, "calls")}, problems
    assert sh.specs[0].calls == (str(tmp_path / "in" / "a.vcf.gz"),)
    r = run_cli("batch", str(sheet), "-o", str(tmp_path / "out2"))
    assert r.returncode == 2 and "8 problems" in r.stderr.splitlines()[0]
    assert not (tmp_path / "out2").exists()


def test_header_problems_and_csv(tmp_path):
    sh = read_sheet(_sheet(tmp_path, "sample,calls,colour\nS1,x.vcf\n", "s.csv"))
    assert [(p.column, p.line) for p in sh.problems] == [("colour", 0)]
    sh = read_sheet(_sheet(tmp_path, "calls\nx.vcf\n", "t.tsv"))
    assert any("no 'sample' column" in p.message for p in sh.problems)
    sh = read_sheet(_sheet(tmp_path, f"sample,calls,bed,--min-vaf,Min-Depth\nS1,{VCF},{BED},0.1,off\n", "u.csv"))
    assert not sh.problems and dict(sh.specs[0].options) == {"min_vaf": 0.1, "min_depth": "off"}
    sh = read_sheet(_sheet(tmp_path, f"sample,calls,bed,min_vaf\nS1,{VCF},{BED},nan\n", "v.csv"))
    assert [p.column for p in sh.problems] == ["min_vaf"]


def test_sheet_cannot_overwrite_an_input(tmp_path):
    out = tmp_path / "out"
    (out / "S1").mkdir(parents=True)
    inside = out / "S1" / "calls.vcf.gz"
    inside.write_bytes(VCF.read_bytes())
    (out / "batch.tsv").write_text("x")
    sheet = _sheet(tmp_path, f"sample\tcalls\tbed\nS1\t{inside}\t{BED}\nS2\t{out / 'batch.tsv'}\t{BED}\n")
    sh = read_sheet(sheet)
    msgs = [str(p) for p in validate(sh.specs, out)]
    assert any("line 2, column calls" in m and "sample output folder" in m for m in msgs)
    assert any("line 3, column calls" in m and "output of this batch" in m for m in msgs)
    r = run_cli("batch", str(sheet), "-o", str(out))
    assert r.returncode == 2
    assert inside.read_bytes() == VCF.read_bytes() and (out / "batch.tsv").read_text() == "x"


def test_tmb_sample_option_renames(tmp_path):
    r = run_cli("tmb", str(VCF), "--bed", str(BED), "--sample", "PATIENT7", "-o", str(tmp_path / "a"))
    assert r.returncode == 0, r.stderr
    doc = json.loads((tmp_path / "a.tmb.json").read_text())
    assert [s["sample"] for s in doc["samples"]] == ["PATIENT7"]
    assert doc["provenance"]["parameters"]["sample"] == "PATIENT7"
    rows = [ln.split("\t")[0] for ln in gzip.open(tmp_path / "a.variants.tsv.gz", "rt") if not ln.startswith("#")]
    assert set(rows[1:]) == {"PATIENT7"}
    assert (tmp_path / "a.tmb.tsv").read_text().splitlines()[-1].startswith("PATIENT7\t")
    r = run_cli("tmb", str(VCF), "--bed", str(BED), "-o", str(tmp_path / "b"))
    ref = json.loads((tmp_path / "b.tmb.json").read_text())["samples"][0]
    assert {**ref, "sample": "PATIENT7"} == doc["samples"][0]


def test_sample_option_refuses_multi_tumor_input(tmp_path, shared):
    maf = next(iter(sorted((shared / "somatic/tcga_mc3").glob("*.maf.tsv.gz"))))
    r = run_cli("tmb", str(maf), "--bed", str(BED), "--sample", "X", "-o", str(tmp_path / "m"))
    assert r.returncode == 2 and "--sample names one tumor" in r.stderr and "Traceback" not in r.stderr
    assert not list(tmp_path.glob("m.*"))


def test_msi_mutations_sample_option(tmp_path):
    r = run_cli("msi", "mutations", str(VCF), "--bed", str(BED), "--sample", "P9", "-o", str(tmp_path / "m"))
    assert r.returncode == 0, r.stderr
    doc = json.loads((tmp_path / "m.msi.json").read_text())
    assert [s["sample"] for s in doc["samples"]] == ["P9"]


def test_equivalent_command_lines(tmp_path):
    """Option columns become the single command's flags (switches without a value, file lists
    split), relative paths (a profile TOML too) resolve against the sheet's folder."""
    from tmbcalc.batch.plan import steps

    (tmp_path / "p.toml").write_text("")
    sheet = _sheet(tmp_path, "sample,calls,bed,profile,exclude_bed,filter_missing_is_pass,min_alt,msi_test\n"
                             "S1,a.vcf,b1.bed;b2.bed,p.toml,x1.bed;x2.bed,yes,off,chisq\n", "s.csv")
    sh = read_sheet(sheet)
    assert not sh.problems
    spec = sh.specs[0]
    assert ("profile", str(tmp_path / "p.toml")) in spec.input_files()
    (tmb,) = steps(spec, "/OUT")
    t = str(tmp_path)
    assert list(tmb.argv) == ["tmbcalc", "tmb", f"{t}/a.vcf", "--bed", f"{t}/b1.bed", f"{t}/b2.bed",
                              "--profile", f"{t}/p.toml", "--exclude-bed", f"{t}/x1.bed", f"{t}/x2.bed",
                              "--filter-missing-is-pass", "--min-alt", "off", "--threads", "1",
                              "--sample", "S1", "-o", "/OUT/S1/S1"]
