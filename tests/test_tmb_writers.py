"""The TMB result's files come from one registry (OUTPUT_FORMATS): adding a format is one entry."""
from __future__ import annotations

import json

from tmbcalc import compute_tmb
from tmbcalc.tmb import writers

EXAMPLE = "tmbcalc/examples/example_tumor_normal.vcf.gz"
BED = "tmbcalc/examples/example_panel.bed"


def test_registered_formats_are_written_and_listed(tmp_path, monkeypatch):
    def write_count(result, outs, suffix, options):
        outs.write_text(suffix, "".join(f"{s.sample}\t{s.eligible_variants}\n" for s in result.samples))

    extra = writers.OutputFormat(".eligible.txt", "eligible", write_count)
    monkeypatch.setattr(writers, "OUTPUT_FORMATS", (*writers.OUTPUT_FORMATS, extra))
    res = compute_tmb(EXAMPLE, bed=BED, profile="wes-merino")
    paths = res.write(tmp_path / "s")
    assert [p.name for p in paths] == ["s.tmb.json", "s.tmb.tsv", "s.variants.tsv.gz", "s.footprint.bed.gz",
                                       "s.footprint.bed.gz.tbi", "s.eligible.txt"]
    assert all(p.is_file() for p in paths)
    doc = json.loads((tmp_path / "s.tmb.json").read_text())
    assert doc["outputs"]["eligible"] == str(tmp_path / "s.eligible.txt")
    # the example's 18 eligible variants (README quick start: 18 / 0.7528 Mb)
    assert (tmp_path / "s.eligible.txt").read_text() == "TUMOR\t18\n"
