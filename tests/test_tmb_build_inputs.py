"""Genome build decided once (issue #10 item 1) and several call files / per-record caller layout
(item 2), on real files; expectations from bcftools/bedtools/pandas written here."""
from __future__ import annotations

import gzip
import io
import json

import pandas as pd
import pytest

from tests.conftest import REPO, run_cli, run_tool
from tmbcalc import compute_tmb
from tmbcalc.errors import InputError

PCGR = "somatic/pcgr_examples/T001-COAD.{}.vcf.gz"
EXAMPLE = REPO / "tmbcalc/examples/example_tumor_normal.vcf.gz"
STRELKA = "bam/strelka_demo"
GHGA_T = "bam/ghga_seqc2_hcc1395/seqc2_somatic_calling/WES_LL_T_1_test.bam"
# PCGR's VCF carries no consequence or population AF: count every consequence, switch the
# population rules off (the profile's read thresholds stay)
NO_ANNOTATION = ["--consequences", "all", "--max-pop-af", "off", "--germline-filter", "off"]


def nochr_bed(tmp_path, bed_gz, name):
    """The panel BED without comments and 'chr' (PCGR's VCFs say 1, 2, ...), for bcftools -R."""
    out = tmp_path / name
    run_tool("bash", "-c", f"zcat {bed_gz} | grep -v '^#' | grep -v '^track' | sed 's/^chr//' | "
                           f"sort -k1,1 -k2,2n | bedtools merge -i - > {out}")
    return out


def merged_bp(bed) -> int:
    text = run_tool("bash", "-c", f"sort -k1,1 -k2,2n {bed} | bedtools merge -i -")
    return sum(int(r.split("\t")[2]) - int(r.split("\t")[1]) for r in text.splitlines() if r)


def tso500_expected(vcf, bed) -> int:
    """tso500-like read rules in pandas over bcftools' records in the BED: PASS, SNV or indel (no
    MNV), depth FORMAT/DPT >= 50, VAF INFO/TVAF >= 0.05 (the profile TOML's thresholds)."""
    import tomllib

    prof = tomllib.loads((REPO / "tmbcalc/tmb/profile_files/tso500-like.toml").read_text())
    text = run_tool("bash", "-c", f"bcftools view -f PASS -R {bed} --regions-overlap variant {vcf} | "
                                  f"bcftools query -f '%REF\\t%ALT\\t[%DPT]\\t%INFO/TVAF\\n'")
    df = pd.read_csv(io.StringIO(text), sep="\t", header=None, names=["ref", "alt", "dpt", "tvaf"],
                     keep_default_na=False)
    mnv = (df.ref.str.len() == df.alt.str.len()) & (df.ref.str.len() > 1)
    ok = (~mnv) & (df.dpt.astype(int) >= prof["min_depth"]) & (df.tvaf.astype(float) >= prof["min_vaf"])
    return int(ok.sum())


@pytest.mark.parametrize("build", ["GRCh37", "GRCh38"])
def test_pcgr_vcf_with_tso500_uses_its_build(tmp_path, shared, build):
    """The PCGR VCF (no contig lengths) is scored on the tso500 BED of ITS build, chosen from the
    share of its positions in each build's footprint (GRCh38 gave 0.77 on the GRCh37 BED before)."""
    vcf = shared / PCGR.format(build.lower())
    bed = nochr_bed(tmp_path, REPO / f"panels/tso500.{build}.bed.gz", "fp.bed")
    expected, bp = tso500_expected(vcf, bed), merged_bp(bed)
    r = run_cli("tmb", str(vcf), "--panel", "tso500", *NO_ANNOTATION, "-o", str(tmp_path / "o"))
    assert r.returncode == 0, r.stderr
    doc = json.loads((tmp_path / "o.tmb.json").read_text())
    s = doc["samples"][0]
    assert s["footprint_bp"] == bp
    assert s["eligible_variants"] == expected
    assert s["tmb"] == pytest.approx(expected / (bp / 1e6))
    gb = doc["denominator"]["genome_build"]
    assert gb["build"] == build and gb["method"] == "variant_positions_in_footprints"
    shares = gb["variant_positions_in_footprint"]
    other = "GRCh37" if build == "GRCh38" else "GRCh38"
    assert shares[build]["in_footprint"] > 3 * shares[other]["in_footprint"]
    n_in = int(run_tool("bash", "-c", f"bcftools view -H -R {bed} --regions-overlap variant {vcf} | wc -l"))
    assert shares[build]["in_footprint"] == n_in
    assert doc["provenance"]["denominator"]["genome_build"] == gb
    tsv = (tmp_path / "o.tmb.tsv").read_text().splitlines()
    assert tsv[2].startswith(f"# genome build: {build} (variant positions in panel tso500's footprint")
    if build == "GRCh38":
        assert s["status"]["10"] == "high" and s["tmb"] > 30      # the flipped clinical call, restored


def test_stated_build_and_contradiction(tmp_path, shared):
    vcf = shared / PCGR.format("grch38")
    r = run_cli("tmb", str(vcf), "--panel", "tso500", "--genome-build", "GRCh38", *NO_ANNOTATION,
                "-o", str(tmp_path / "o"))
    assert r.returncode == 0, r.stderr
    doc = json.loads((tmp_path / "o.tmb.json").read_text())
    assert doc["denominator"]["genome_build"]["method"] == "stated"
    assert doc["provenance"]["parameters"]["genome_build"] == "GRCh38"
    # the example's header says GRCh38 by contig lengths: stating GRCh37 is refused in one line
    r = run_cli("tmb", str(EXAMPLE), "--panel", "tso500", "--genome-build", "GRCh37", "-o", str(tmp_path / "x"))
    assert r.returncode == 1 and len(r.stderr.strip().splitlines()) == 1
    assert "--genome-build GRCh37 contradicts" in r.stderr and "GRCh38" in r.stderr
    assert not list(tmp_path.glob("x*"))
    r = run_cli("tmb", str(EXAMPLE), "--panel", "tso500", "--genome-build", "hg19", "-o", str(tmp_path / "x"))
    assert r.returncode == 2


def test_ambiguous_positions_are_refused(tmp_path, shared):
    """Records outside both builds' footprints cannot tell the build: refused, saying how to state it."""
    vcf = shared / PCGR.format("grch38")
    b37 = nochr_bed(tmp_path, REPO / "panels/tso500.GRCh37.bed.gz", "a.bed")
    b38 = nochr_bed(tmp_path, REPO / "panels/tso500.GRCh38.bed.gz", "b.bed")
    off = tmp_path / "off.vcf"
    run_tool("bash", "-c", f"bcftools view -T ^{b37} {vcf} | bcftools view -T ^{b38} | head -n 300 > {off}")
    r = run_cli("tmb", str(off), "--panel", "tso500", *NO_ANNOTATION, "-o", str(tmp_path / "o"))
    assert r.returncode == 1, r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "cannot tell the genome build" in lines[0]
    assert "--genome-build GRCh37 or --genome-build GRCh38" in lines[0] and "GRCh38 0/" in lines[0]
    assert not list(tmp_path.glob("o.*"))


@pytest.mark.parametrize("panel", ["tso500", "msk-impact-505"])
def test_grch38_example_runs_with_a_dual_build_panel(tmp_path, panel):
    bed = tmp_path / "fp.bed"
    run_tool("bash", "-c", f"zcat {REPO}/panels/{panel}.GRCh38.bed.gz | grep -v '^#' | cut -f1-3 > {bed}")
    r = run_cli("tmb", str(EXAMPLE), "--panel", panel, "-o", str(tmp_path / "o"))
    assert r.returncode == 0, r.stderr
    doc = json.loads((tmp_path / "o.tmb.json").read_text())
    gb = doc["denominator"]["genome_build"]
    assert gb["build"] == "GRCh38" and gb["method"] == "header_contig_lengths"
    s = doc["samples"][0]
    assert s["footprint_bp"] == merged_bp(bed)
    n_in = int(run_tool("bash", "-c", f"bcftools view -H -R {bed} --regions-overlap variant {EXAMPLE} | wc -l"))
    assert s["in_footprint"] == n_in


def test_tumor_bam_on_grch38(tmp_path, shared):
    """--tumor-bam with a GRCh38 BAM and a GRCh38 panel footprint (was refused as 'panel is GRCh37').
    The VCF: the example's header and one record moved into the BAM's covered tso500 target."""
    bam = shared / GHGA_T
    vcf = tmp_path / "t.vcf"
    header = run_tool("bcftools", "view", "-h", str(EXAMPLE))
    rec = "chrX\t71378250\t.\tA\tC\t.\tPASS\t.\tGT:AD:AF:DP\t0/1:40,20:0.333:60\t0/0:50,0:0:50\n"
    vcf.write_text(header + rec)
    r = run_cli("callable", str(bam), "--panel", "tso500", "--min-depth", "10", "-o", str(tmp_path / "c"))
    assert r.returncode == 0, r.stderr
    callable_bp = json.loads((tmp_path / "c.callable.json").read_text())["footprint_bp"]
    r = run_cli("tmb", str(vcf), "--panel", "tso500", "--tumor-bam", str(bam), "--min-coverage", "10",
                "--consequences", "all", "--max-pop-af", "off", "--germline-filter", "off", "-o", str(tmp_path / "o"))
    assert r.returncode == 0, r.stderr
    doc = json.loads((tmp_path / "o.tmb.json").read_text())
    gb = doc["denominator"]["genome_build"]
    assert gb["build"] == "GRCh38" and str(vcf) in gb["evidence"]
    assert 0 < doc["samples"][0]["footprint_bp"] <= callable_bp


def test_bam_header_decides_when_the_vcf_does_not(tmp_path, shared):
    """A VCF without contig lengths + a GRCh38 BAM: the BAM header tells the build."""
    from tmbcalc.tmb.build import decide_build
    from tmbcalc.tmb.sources import VariantSource

    src = VariantSource("vcf", "x.vcf", ["T"], {"format": "vcf", "contig_lengths": {}}, [])
    call = decide_build([src], None, None, [shared / GHGA_T], None, "x.vcf")
    assert call.build == "GRCh38" and call.method == "alignment_header_contig_lengths"


# -- several call files; caller layout per record -------------------------------------------------
def strelka_files(tmp_path, shared):
    """bgzipped + indexed copies of Strelka2's demo SNV and indel VCFs and their `bcftools concat -a`."""
    out = []
    for kind in ("snvs", "indels"):
        p = tmp_path / f"somatic.{kind}.vcf.gz"
        run_tool("bcftools", "view", str(shared / STRELKA / f"somatic.{kind}.vcf.gz"), "-Oz", "-o", str(p))
        run_tool("bcftools", "index", "-t", str(p))
        out.append(p)
    merged = tmp_path / "merged.vcf.gz"
    run_tool("bcftools", "concat", "-a", str(out[0]), str(out[1]), "-Oz", "-o", str(merged))
    return out[0], out[1], merged


def strelka_expected(snvs, indels) -> pd.DataFrame:
    """Tumor tier-1 depth/alt/VAF per record from bcftools query (Strelka's documented formulas:
    SNV depth = AU+CU+GU+TU, alt = {ALT}U, VAF = {ALT}U/({REF}U+{ALT}U); indel depth = TAR+TIR,
    alt = TIR, VAF = TIR/(TAR+TIR)), and wes-merino's rules (PASS, depth >= 25, alt >= 3, VAF >= 0.05)."""
    q = run_tool("bcftools", "query", "-s", "TUMOR", "-f", "%POS\\t%REF\\t%ALT\\t%FILTER\\t[%AU\\t%CU\\t%GU\\t%TU]\\n",
                 str(snvs))
    rows = []
    for line in q.splitlines():
        pos, ref, alt, filt, *tiers = line.split("\t")
        t1 = {b: int(v.split(",")[0]) for b, v in zip("ACGT", tiers)}
        rows.append((int(pos), ref, alt, filt, sum(t1.values()), t1[alt], t1[alt] / (t1[ref] + t1[alt])))
    q = run_tool("bcftools", "query", "-s", "TUMOR", "-f", "%POS\\t%REF\\t%ALT\\t%FILTER\\t[%TAR\\t%TIR]\\n",
                 str(indels))
    for line in q.splitlines():
        pos, ref, alt, filt, tar, tir = line.split("\t")
        a, t = int(tar.split(",")[0]), int(tir.split(",")[0])
        rows.append((int(pos), ref, alt, filt, a + t, t, t / (a + t)))
    df = pd.DataFrame(rows, columns=["pos", "ref", "alt", "filter", "depth", "alt_reads", "vaf"])
    df["eligible"] = (df["filter"] == "PASS") & (df.depth >= 25) & (df.alt_reads >= 3) & (df.vaf >= 0.05)
    return df.sort_values(["pos", "ref", "alt"]).reset_index(drop=True)


def report(path) -> pd.DataFrame:
    with gzip.open(path, "rt") as fh:
        df = pd.read_csv(fh, sep="\t", comment="#", header=0, dtype={"ref": str, "alt": str}, keep_default_na=False)
    return df


def test_merged_strelka_equals_two_files_and_expectation(tmp_path, shared):
    snvs, indels, merged = strelka_files(tmp_path, shared)
    exp = strelka_expected(snvs, indels)
    assert (exp.ref.str.len() != exp.alt.str.len()).sum() == 2          # the two indels are in it
    bed = tmp_path / "demo.bed"
    fai = (shared / STRELKA / "demo20.fa.fai").read_text().split("\t")
    bed.write_text(f"demo20\t0\t{fai[1]}\n")
    r = run_cli("tmb", str(merged), "--bed", str(bed), "--consequences", "all", "-o", str(tmp_path / "m"))
    assert r.returncode == 0, r.stderr
    r = run_cli("tmb", str(snvs), str(indels), "--bed", str(bed), "--consequences", "all", "-o", str(tmp_path / "t"))
    assert r.returncode == 0, r.stderr
    for prefix in ("m", "t"):
        rep = report(tmp_path / f"{prefix}.variants.tsv.gz").sort_values(["pos", "ref", "alt"]).reset_index(drop=True)
        assert len(rep) == len(exp) == 19
        assert list(rep.pos) == list(exp.pos) and list(rep.alt) == list(exp.alt)
        assert list(rep.depth.astype(int)) == list(exp.depth)
        assert list(rep.alt_reads.astype(int)) == list(exp.alt_reads)
        assert list(rep.vaf.astype(float).round(4)) == list(exp.vaf.round(4))
        assert list(rep.eligible == "yes") == list(exp.eligible)
        doc = json.loads((tmp_path / f"{prefix}.tmb.json").read_text())
        assert doc["samples"][0]["eligible_variants"] == int(exp.eligible.sum())
    two = report(tmp_path / "t.variants.tsv.gz")
    assert set(two.input) == {"somatic.snvs.vcf.gz", "somatic.indels.vcf.gz"}
    assert list(two.input[two.type.isin(["ins", "del"])]) == ["somatic.indels.vcf.gz"] * 2
    doc = json.loads((tmp_path / "t.tmb.json").read_text())
    assert doc["inputs"]["files"] == [str(snvs), str(indels)] and doc["inputs"]["duplicates_across_files"] == 0
    assert [x["path"] for x in doc["provenance"]["inputs"]["input"]] == [str(snvs), str(indels)]
    # the single merged file keeps the single-file layout (no input column, no duplicate rule)
    assert "input" not in report(tmp_path / "m.variants.tsv.gz").columns
    assert "excluded_duplicate_across_files" not in (tmp_path / "m.tmb.tsv").read_text()


def test_duplicates_across_files_counted_once(tmp_path, shared):
    snvs, indels, merged = strelka_files(tmp_path, shared)
    exp = strelka_expected(snvs, indels)
    n = int(exp.eligible.sum())
    bed = tmp_path / "demo.bed"
    bed.write_text("demo20\t0\t5000\n")
    res = compute_tmb([snvs, indels, merged], bed=bed, consequences=["all"])
    s = res.samples[0]
    assert s.eligible_variants == n and s.records == 2 * len(exp)
    assert s.excluded["duplicate_across_files"] == n
    assert res.inputs["duplicates_across_files"] == n
    assert any("counted once" in w for w in res.warnings)
    res.write(tmp_path / "d")
    rep = report(tmp_path / "d.variants.tsv.gz")
    dup = rep[rep.first_failing_rule == "duplicate_across_files"]
    assert len(dup) == n and set(dup.input) == {"merged.vcf.gz"}
    tsv = pd.read_csv(tmp_path / "d.tmb.tsv", sep="\t", comment="#")
    assert int(tsv.excluded_duplicate_across_files[0]) == n and int(tsv.eligible_variants[0]) == n
    # the same files through the API and the CLI give the same count
    single = compute_tmb(merged, bed=bed, consequences=["all"])
    assert single.samples[0].eligible_variants == n and single.inputs is None


def test_several_files_of_different_tumors_are_refused(tmp_path, shared):
    snvs, _, _ = strelka_files(tmp_path, shared)
    bed = tmp_path / "demo.bed"
    bed.write_text("demo20\t0\t5000\n1\t0\t249250621\n")
    other = shared / PCGR.format("grch37")
    r = run_cli("tmb", str(snvs), str(other), "--bed", str(bed), "--consequences", "all", "-o", str(tmp_path / "o"))
    assert r.returncode == 1 and len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert "must be of one tumor" in r.stderr and "Traceback" not in r.stderr
    assert not list(tmp_path.glob("o.*"))
    with pytest.raises(InputError):
        compute_tmb([snvs, other], bed=bed, consequences=["all"])


def test_msi_mutations_uses_the_panel_bed_of_the_input_build(tmp_path, shared):
    """msi mutations decides the build the same way: the GRCh38 PCGR VCF gets tso500's GRCh38 BED."""
    vcf = shared / PCGR.format("grch38")
    bed = nochr_bed(tmp_path, REPO / "panels/tso500.GRCh38.bed.gz", "fp.bed")
    r = run_cli("msi", "mutations", str(vcf), "--panel", "tso500", "-o", str(tmp_path / "m"))
    assert r.returncode == 0, r.stderr
    fp = json.loads((tmp_path / "m.msi.json").read_text())["footprint"]
    assert fp["build"] == "GRCh38" and fp["genome_build"]["method"] == "variant_positions_in_footprints"
    assert fp["mb"] == pytest.approx(merged_bp(bed) / 1e6)
    r = run_cli("msi", "mutations", str(vcf), "--panel", "tso500", "--genome-build", "GRCh37",
                "-o", str(tmp_path / "s"))
    assert r.returncode == 0, r.stderr
    fp = json.loads((tmp_path / "s.msi.json").read_text())["footprint"]
    assert fp["build"] == "GRCh37" and fp["genome_build"]["method"] == "stated"


def test_callable_panel_build_recorded_and_contradiction_refused(tmp_path, shared):
    bam = shared / GHGA_T
    r = run_cli("callable", str(bam), "--panel", "tso500", "--min-depth", "10", "-o", str(tmp_path / "c"))
    assert r.returncode == 0, r.stderr
    gb = json.loads((tmp_path / "c.callable.json").read_text())["provenance"]["genome_build"]
    assert gb["build"] == "GRCh38" and gb["method"] == "alignment_header_contig_lengths"
    r = run_cli("callable", str(bam), "--panel", "tso500", "--min-depth", "10", "--genome-build", "GRCh37",
                "-o", str(tmp_path / "x"))
    assert r.returncode == 1 and len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert "contradicts" in r.stderr and not list(tmp_path.glob("x.*"))


def test_build_helpers_by_hand():
    from tmbcalc.errors import ContigMismatchError
    from tmbcalc.genome_build import BuildClaim, decide_declared, decide_from_shares, positions_call

    # chr1 of GRCh37 is 249,250,621 bp, of GRCh38 248,956,422 bp: an end at 249,000,000 excludes GRCh38
    assert positions_call({"1": 249_000_000}, "x").build == "GRCh37"
    # chr20 of GRCh38 is 64,444,167 bp, of GRCh37 63,025,520 bp
    assert positions_call({"20": 64_000_000}, "x").build == "GRCh38"
    assert positions_call({"1": 1000}, "x").build is None
    assert decide_from_shares(100, {"GRCh37": 2, "GRCh38": 30}, "p's", "x").build == "GRCh38"
    with pytest.raises(InputError, match="genome_build GRCh37 or genome_build GRCh38") as exc:
        decide_from_shares(100, {"GRCh37": 10, "GRCh38": 20}, "p's", "x")   # 20 < 3 x 10
    assert exc.value.params == ("genome_build",)
    with pytest.raises(InputError, match="genome_build"):
        decide_from_shares(100, {"GRCh37": 0, "GRCh38": 4}, "p's", "x")    # too few to tell
    with pytest.raises(ContigMismatchError, match="genome build mismatch"):
        decide_declared(None, [BuildClaim("a", "GRCh37", "h"), BuildClaim("b", "GRCh38", "h")])
    assert decide_declared(None, [BuildClaim("a", None, "h")]) is None


def test_bed_run_build_from_positions(tmp_path):
    """A BED footprint and a VCF without contig lengths whose chr1 variant lies past GRCh38's chr1 end:
    the positions say GRCh37, recorded as such."""
    vcf = tmp_path / "v.vcf"
    vcf.write_text("##fileformat=VCFv4.2\n##contig=<ID=1>\n"
                   '##FORMAT=<ID=AD,Number=R,Type=Integer,Description="x">\n'
                   '##FORMAT=<ID=DP,Number=1,Type=Integer,Description="x">\n'
                   "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tT\n"
                   "1\t249000000\t.\tA\tC\t.\tPASS\t.\tAD:DP\t20,20:40\n")
    bed = tmp_path / "b.bed"
    bed.write_text("1\t248999000\t249001000\n")
    res = compute_tmb(vcf, bed=bed, consequences=["all"])
    gb = res.denominator["genome_build"]
    assert gb["build"] == "GRCh37" and gb["method"] == "variant_positions_vs_contig_ends"
    assert res.samples[0].eligible_variants == 1


def _union_bed(tmp_path, build: str):
    """The shipped two-build panels' footprints of one build, merged with bedtools."""
    beds = [f"{REPO}/panels/{p}.{build}.bed.gz" for p in ("f1cdx", "tso500", "msk-impact-505")]
    out = tmp_path / f"union.{build}.bed"
    text = run_tool("bash", "-c", f"zcat {' '.join(beds)} | grep -v '^#' | sed 's/^chr//' | cut -f1-3 | "
                                  f"sort -k1,1 -k2,2n | bedtools merge -i -")
    out.write_text(text)
    return out


def _records_in(vcf, bed) -> int:
    return int(run_tool("bash", "-c", f"bcftools view -H -T {bed} {vcf} | wc -l").strip())


def test_headerless_vcf_on_the_other_build_than_a_one_build_panel_is_refused(tmp_path, shared):
    """PCGR's GRCh38 VCF has no ##contig lengths; MSK-IMPACT 468 ships a GRCh37 BED only.  Scoring it
    would count GRCh38 positions on GRCh37 targets (a wrong number): the positions' share in the
    two-build panels says GRCh38, so the run is refused."""
    vcf = shared / "somatic/pcgr_examples/T001-COAD.grch38.vcf.gz"
    in37, in38 = _records_in(vcf, _union_bed(tmp_path, "GRCh37")), _records_in(vcf, _union_bed(tmp_path, "GRCh38"))
    assert in38 > 3 * in37                                  # independent: the data say GRCh38
    r = run_cli("tmb", str(vcf), "--panel", "msk-impact-468", "--consequences", "all", "-o", str(tmp_path / "o"))
    assert r.returncode == 1
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "T001-COAD.grch38.vcf.gz" in lines[0] and "GRCh38 coordinates" in lines[0]
    assert not list(tmp_path.glob("o.*"))
    # the same with a GRCh37 BED given by path (the BED's build is read from its overlap with the panels)
    bed = shared / "panels/msk_impact_gnomeR/IMPACT468_targets_GRCh37.bed"
    r = run_cli("tmb", str(vcf), "--bed", str(bed), "--consequences", "all", "-o", str(tmp_path / "b"))
    assert r.returncode == 1 and "GRCh38 coordinates" in r.stderr and "footprint is GRCh37" in r.stderr


def test_headerless_vcf_on_its_own_build_records_the_evidence(tmp_path, shared):
    vcf = shared / "somatic/pcgr_examples/T001-COAD.grch37.vcf.gz"
    in37, in38 = _records_in(vcf, _union_bed(tmp_path, "GRCh37")), _records_in(vcf, _union_bed(tmp_path, "GRCh38"))
    bed = shared / "panels/msk_impact_gnomeR/IMPACT468_targets_GRCh37.bed"
    r = run_cli("tmb", str(vcf), "--bed", str(bed), "--consequences", "all", "-o", str(tmp_path / "o"))
    assert r.returncode == 0, r.stderr
    gb = json.loads((tmp_path / "o.tmb.json").read_text())["denominator"]["genome_build"]
    assert gb["build"] == "GRCh37" and gb["method"] == "variant_positions_in_footprints"
    seen = gb["variant_positions_in_footprint"]
    # the tool counts the bases a variant changes (bcftools -T the POS): equal up to a few indels
    assert abs(seen["GRCh37"]["in_footprint"] - in37) <= 0.05 * in37 + 2
    assert abs(seen["GRCh38"]["in_footprint"] - in38) <= 0.05 * max(in38, 20) + 2
