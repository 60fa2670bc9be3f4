"""Panel registry, panel BED builder and ``tmbcalc panels`` CLI.

Expected values come from bedtools (sort/merge of the source BEDs), from pandas filtering of the
exon tables written here, or by hand for tiny synthetic tables; never from tmbcalc's own output.
"""
from __future__ import annotations

import gzip
import importlib.util
import json
import random
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tmbcalc.errors import InputError, UsageError
from tmbcalc.panels.build import build_panel_bed, read_exon_table
from tmbcalc.panels.registry import (footprint_digest, list_panels, load_panel, parse_panel,
                            validate_panel_file)
from tmbcalc.regions import RegionSet
from tmbcalc.resources import panels_dir

from .conftest import REPO, need_tool, run_cli, run_tool

SHIPPED_IDS = ["exome-grch38", "exome-sureselect-v4-grch37", "f1cdx", "goal-497", "msk-impact-341",
               "msk-impact-410", "msk-impact-468", "msk-impact-505", "tso500"]

# Plausible merged footprint sizes (Mb) per panel and build, documented in docs/panels.md.
PLAUSIBLE_MB = {
    ("f1cdx", "GRCh37"): (0.70, 0.95), ("f1cdx", "GRCh38"): (0.70, 0.95),
    ("tso500", "GRCh37"): (1.15, 1.50), ("tso500", "GRCh38"): (1.15, 1.50),
    ("msk-impact-341", "GRCh37"): (0.90, 1.20), ("msk-impact-410", "GRCh37"): (1.00, 1.35),
    ("msk-impact-468", "GRCh37"): (1.30, 1.80),
    ("msk-impact-505", "GRCh37"): (1.00, 1.45), ("msk-impact-505", "GRCh38"): (1.00, 1.45),
    ("goal-497", "GRCh37"): (1.20, 1.60),
    ("exome-sureselect-v4-grch37", "GRCh37"): (45.0, 55.0), ("exome-grch38", "GRCh38"): (45.0, 55.0),
}

EXOME_SOURCES = {
    "exome-sureselect-v4-grch37": "panels/exome_kits/SureSelect_Human_All_Exon_V4_S03723314_Covered_hg19.bed.gz",
    "exome-grch38": "annotation/sigprofiler_pypi/GRCh38_exome.interval_list.gz",
}
EXOMEDEPTH = "annotation/exomedepth_hg19/ExomeDepth_exons.hg19_autosomes_plus_X.tsv.gz"
UCLA = "annotation/ucladx_pancan/exon_targets_grch38.bed"
UMCCR = "annotation/umccr_gene_panels/umccr_cancer_genes.cds_regions.bed"


def _aliases() -> dict[str, list[str]]:
    """The HGNC rename table used to build the shipped BEDs (input data, not a computed value)."""
    spec = importlib.util.spec_from_file_location("build_panels", REPO / "scripts" / "build_panels.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod.ALIASES


# -- independent helpers ------------------------------------------------------------------------------
def bedtools_merged(rows: list[tuple[str, int, int]], tmp: Path, name: str) -> list[tuple[str, int, int]]:
    """Merged intervals by `bedtools sort | bedtools merge` (contig 'chr' prefix removed first)."""
    need_tool("bedtools")
    src = tmp / f"{name}.bed"
    src.write_text("".join(f"{c.removeprefix('chr')}\t{s}\t{e}\n" for c, s, e in rows))
    srt = run_tool("bedtools", "sort", "-i", str(src))
    (tmp / f"{name}.sorted.bed").write_text(srt)
    out = run_tool("bedtools", "merge", "-i", str(tmp / f"{name}.sorted.bed"))
    return [(c, int(s), int(e)) for c, s, e in (line.split("\t")[:3] for line in out.splitlines())]


def bed_rows(path: Path) -> list[tuple[str, int, int]]:
    opener = gzip.open if path.suffix == ".gz" else open
    rows = []
    with opener(path, "rt") as fh:
        for line in fh:
            if line.startswith(("#", "track", "browser", "@")) or not line.strip():
                continue
            f = line.rstrip("\n").split("\t")
            rows.append((f[0], int(f[1]), int(f[2])))
    return rows


def as_set(rs: RegionSet) -> set[tuple[str, int, int]]:
    return set(rs)


def total(rows) -> int:
    return sum(e - s for _, s, e in rows)


# -- registry contents ---------------------------------------------------------------------------------
def test_registry_has_required_panels():
    ids = [p.id for p in list_panels()]
    assert ids == sorted(SHIPPED_IDS)
    f1, tso = load_panel("f1cdx"), load_panel("tso500")
    assert (f1.gene_count, tso.gene_count) == (324, 523)
    assert load_panel("goal-497").gene_count == 497
    assert f1.cutpoints == [10.0] and f1.profile == "f1cdx-like"
    assert load_panel("msk-impact-468").build == "GRCh37"


@pytest.mark.parametrize("toml", sorted(panels_dir().glob("*.toml")), ids=lambda p: p.stem)
def test_every_shipped_panel_validates(toml):
    summary = validate_panel_file(toml)
    assert summary.startswith(toml.stem + ":")
    for spec in parse_panel(toml).footprints.values():
        if spec.shipped:
            bed = panels_dir() / spec.bed
            assert bed.stat().st_size < 1_000_000


@pytest.mark.parametrize("pid", SHIPPED_IDS)
def test_footprint_size_independent_and_plausible(pid, shared, tmp_path, capsys):
    p = load_panel(pid)
    for b, spec in p.footprints.items():
        if spec.shipped:
            src = panels_dir() / spec.bed
            fp = p.footprint(b)
        else:
            src = shared / EXOME_SOURCES[pid]
            fp = p.footprint(b, bed=src)
        # both exome sources are 3-column BEDs (0-based); the GRCh38 one only carries an
        # '@track' header line despite its '.interval_list' name
        rows = bed_rows(src)
        if not spec.shipped:
            with gzip.open(src, "rt") as fh:
                head = [next(fh) for _ in range(1000)]
            assert {len(x.split("\t")) for x in head if not x.startswith(("@", "track"))} == {3}
        merged = bedtools_merged(rows, tmp_path, f"{pid}.{b}")
        assert fp.total_bp() == total(merged)
        assert spec.mb == pytest.approx(total(merged) / 1e6, abs=1e-6)
        lo, hi = PLAUSIBLE_MB[(pid, b)]
        assert lo <= fp.total_mb() <= hi, f"{pid} {b}: {fp.total_mb():.3f} Mb outside [{lo}, {hi}]"
        with capsys.disabled():  # report declared vs computed (not asserted equal)
            print(f"\n{pid} {b}: footprint {fp.total_mb():.4f} Mb, declared TMB region "
                  f"{p.declared_tmb_mb if p.declared_tmb_mb is not None else '-'} Mb")


@pytest.mark.parametrize("n", [341, 410, 468])
def test_msk_impact_bed_equals_gnomeR_merged(n, shared, tmp_path):
    src = shared / f"panels/msk_impact_gnomeR/IMPACT{n}_targets_GRCh37.bed"
    expected = bedtools_merged(bed_rows(src), tmp_path, f"impact{n}")
    shipped = bed_rows(panels_dir() / f"msk-impact-{n}.GRCh37.bed.gz")
    assert sorted(shipped) == sorted(expected)
    assert as_set(load_panel(f"msk-impact-{n}").footprint()) == set(expected)


def test_goal_bed_equals_source_merged(shared, tmp_path):
    src = shared / "panels/goal_consortium/GOAL_Core_497_genes_sorted.bed"
    expected = bedtools_merged(bed_rows(src), tmp_path, "goal")
    assert as_set(load_panel("goal-497").footprint()) == set(expected)
    names = pd.read_csv(src, sep="\t", header=None)[3].unique().tolist()
    assert load_panel("goal-497").genes == names


def test_msk_gene_lists_from_cbioportal(shared):
    data = json.loads((shared / "panels/cbioportal_datahub/cbioportal_gene-panels.json").read_text())
    by_id = {p["genePanelId"]: [g["hugoGeneSymbol"] for g in p["genes"]] for p in data}
    for n in (341, 410, 468):
        assert load_panel(f"msk-impact-{n}").genes == by_id[f"IMPACT{n}"]


# -- built BEDs vs an independent pandas + bedtools computation ---------------------------------------------
_ED_CACHE: dict[Path, pd.DataFrame] = {}


def _exomedepth_rows(shared) -> pd.DataFrame:
    if shared not in _ED_CACHE:
        df = pd.read_csv(shared / EXOMEDEPTH, sep="\t", dtype={"chromosome": str})
        df = df.assign(gene=df["name"].str.split(",")).explode("gene")
        df["gene"] = df["gene"].str.replace(r"_\d+$", "", regex=True)
        df["start"] = df["start"] - 1  # 1-based inclusive -> 0-based half-open
        _ED_CACHE[shared] = df.rename(columns={"chromosome": "chrom"})[["chrom", "start", "end", "gene"]]
    return _ED_CACHE[shared]


def _cds_bed_rows(path: Path, sep: str) -> pd.DataFrame:
    df = pd.read_csv(path, sep="\t", header=None, usecols=[0, 1, 2, 3], names=["chrom", "start", "end", "name"])
    parts = df["name"].str.split(sep)
    df["gene"] = parts.str[0]
    df["feature"] = parts.str[-1]
    return df[df["feature"].isin(["CDS", "stop_codon", "start_codon"])][["chrom", "start", "end", "gene"]]


def _independent_gene_footprint(genes, tables: list[pd.DataFrame], aliases):
    """Rows of each gene from the first table having it (own symbol, then aliases); missing."""
    present = [set(t["gene"]) for t in tables]
    chosen: list[set[str]] = [set() for _ in tables]
    missing = []
    for g in genes:
        for i, names in enumerate(present):
            hit = next((n for n in [g, *aliases.get(g, [])] if n in names), None)
            if hit is not None:
                chosen[i].add(hit)
                break
        else:
            missing.append(g)
    rows = []
    for t, want in zip(tables, chosen):
        sub = t[t["gene"].isin(want)]
        rows += list(zip(sub["chrom"].astype(str), sub["start"].astype(int), sub["end"].astype(int)))
    return rows, missing


@pytest.mark.parametrize("pid,build", [("f1cdx", "GRCh37"), ("f1cdx", "GRCh38"),
                                       ("tso500", "GRCh37"), ("tso500", "GRCh38"),
                                       ("msk-impact-505", "GRCh37"), ("msk-impact-505", "GRCh38")])
def test_built_panel_bed_matches_pandas_bedtools(pid, build, shared, tmp_path):
    p = load_panel(pid)
    if build == "GRCh37":
        tables = [_exomedepth_rows(shared)]
    else:
        tables = [_cds_bed_rows(shared / UCLA, ":"), _cds_bed_rows(shared / UMCCR, ";")]
    rows, missing = _independent_gene_footprint(p.genes, tables, _aliases())
    expected = bedtools_merged(rows, tmp_path, f"{pid}{build}")
    assert as_set(p.footprint(build)) == set(expected)
    header = gzip.open(panels_dir() / p.footprints[build].bed, "rt").readline()
    reported = header.rsplit("not found: ", 1)[1].strip()
    assert reported == (", ".join(missing) or "none")
    if pid != "msk-impact-505":
        assert "TERC" in missing  # an RNA gene: no CDS in any table


def test_build_api_reports_missing_and_pads(shared, tmp_path):
    genes = ["TP53", "KRAS", "NOT_A_GENE"]
    table = read_exon_table(shared / EXOMEDEPTH)
    res = build_panel_bed(genes, table, pad=5)
    assert res.missing == ["NOT_A_GENE"]
    ed = _exomedepth_rows(shared)
    sub = ed[ed["gene"].isin(["TP53", "KRAS"])]
    rows = [(c, max(s - 5, 0), e + 5) for c, s, e in zip(sub["chrom"], sub["start"], sub["end"])]
    assert set(res.regions) == set(bedtools_merged(rows, tmp_path, "pad"))
    # TP53 and KRAS coding lengths incl. stop codon: 393 aa and 189 aa -> 1182 and 570 bp (no pad)
    bp = {g.gene: g.bp for g in build_panel_bed(genes, table).genes}
    assert bp == {"TP53": 1182, "KRAS": 570, "NOT_A_GENE": 0}


# -- synthetic exon tables (expectations by hand) ------------------------------------------------------------
GENEPRED = ("585\tNM_1\tchr1\t+\t100\t500\t150\t450\t3\t100,200,400,\t180,300,500,\t0\tGENEA\tcmpl\tcmpl\t0,0,0,\n"
            "585\tNR_2\tchr1\t-\t1000\t1200\t1200\t1200\t1\t1000,\t1200,\t0\tRNAB\tnone\tnone\t-1,\n")
GTF = ('chr2\tsrc\texon\t101\t200\t.\t+\t.\tgene_id "G1"; gene_name "GENEC";\n'
       'chr2\tsrc\tCDS\t151\t200\t.\t+\t0\tgene_id "G1"; gene_name "GENEC";\n'
       'chr2\tsrc\texon\t301\t400\t.\t+\t.\tgene_id "G1"; gene_name "GENEC";\n'
       'chr2\tsrc\tCDS\t301\t350\t.\t+\t1\tgene_id "G1"; gene_name "GENEC";\n')


def test_genepred_cds_clipping(tmp_path):
    f = tmp_path / "refGene.txt"
    f.write_text(GENEPRED)
    cds = build_panel_bed(["GENEA", "RNAB"], read_exon_table(f, cds_only=True))
    # exons [100,180) [200,300) [400,500) clipped to CDS [150,450): [150,180) [200,300) [400,450)
    assert cds.records == [("chr1", 150, 180, "GENEA"), ("chr1", 200, 300, "GENEA"), ("chr1", 400, 450, "GENEA")]
    assert cds.missing == ["RNAB"]  # non-coding transcript: no CDS
    utr = build_panel_bed(["GENEA", "RNAB"], read_exon_table(f, cds_only=False), pad=10)
    assert utr.regions.total_bp() == (80 + 20) + (100 + 20) + (100 + 20) + (200 + 20)


transcripts = st.lists(
    st.tuples(st.sampled_from(["GA", "GB", "GC"]), st.sampled_from(["chr1", "chr2"]),
              st.lists(st.tuples(st.integers(0, 400), st.integers(1, 60)), min_size=1, max_size=5),
              st.integers(0, 500), st.integers(0, 200)),
    min_size=1, max_size=6)


@given(transcripts, st.integers(0, 5))
@settings(max_examples=60, deadline=None)
def test_genepred_matches_base_level_reference(tmp_path_factory, txs, pad):
    """genePred -> CDS footprint equals a per-base reference computed here."""
    lines, expected_cds, expected_exon = [], set(), set()
    for i, (gene, chrom, exons, cds_s, cds_len) in enumerate(txs):
        ex = sorted((s, s + n) for s, n in exons)
        cds_e = cds_s + cds_len
        lines.append("\t".join([f"NM_{i}", chrom, "+", str(ex[0][0]), str(max(e for _, e in ex)), str(cds_s),
                                str(cds_e), str(len(ex)), ",".join(str(a) for a, _ in ex) + ",",
                                ",".join(str(b) for _, b in ex) + ",", "0", gene]) + "\n")
        for a, b in ex:
            for pos in range(max(a, cds_s), min(b, cds_e)):
                expected_cds.add((gene, chrom[3:], pos))
            for pos in range(a, b):
                expected_exon.add((gene, chrom[3:], pos))
    f = tmp_path_factory.mktemp("gp") / "t.genepred"
    f.write_text("".join(lines))

    def padded(bases):
        return {(c, q) for _, c, p in bases for q in range(max(p - pad, 0), p + pad + 1)}

    genes = ["GA", "GB", "GC"]
    for cds_only, exp in ((True, expected_cds), (False, expected_exon)):
        if not exp:  # no coding base at all: the table offers nothing of the requested kind
            with pytest.raises(InputError, match="no intervals"):
                read_exon_table(f, "genepred", cds_only=cds_only)
            continue
        res = build_panel_bed(genes, read_exon_table(f, "genepred", cds_only=cds_only), pad=pad)
        got = {(c, q) for c, s, e in res.regions for q in range(s, e)}
        assert got == padded(exp)
        assert res.missing == [g for g in genes if not any(b[0] == g for b in exp)]


def test_gtf_cds_vs_exons(tmp_path):
    f = tmp_path / "a.gtf"
    f.write_text(GTF)
    assert build_panel_bed(["GENEC"], read_exon_table(f)).regions.total_bp() == 50 + 50
    assert build_panel_bed(["GENEC"], read_exon_table(f, cds_only=False)).regions.total_bp() == 200


def test_table_kind_errors(shared, tmp_path):
    with pytest.raises(UsageError, match="no CDS boundaries"):
        read_exon_table(shared / "annotation/spliceai_pypi/spliceai_gencode_v24_canonical_grch37.txt.gz")
    with pytest.raises(UsageError, match="cannot supply UTRs"):
        read_exon_table(shared / UCLA, cds_only=False)
    plain = tmp_path / "plain.bed"
    plain.write_text("1\t10\t20\tG\n")
    with pytest.raises(UsageError, match=r"CDS-only footprint \(cds_only\) cannot be built.*whole exons"):
        read_exon_table(plain)


# -- lookup, in-house panels, unshipped BEDs -----------------------------------------------------------------
def _inhouse(tmp_path: Path, pid: str = "lab-panel", **over) -> Path:
    d = tmp_path / "inhouse"
    d.mkdir(exist_ok=True)
    bed = d / f"{pid}.GRCh37.bed"
    bed.write_text("# in-house\n7\t100\t200\tA\n7\t150\t300\tA\nchr7\t1000\t1100\tB\n")
    import hashlib
    fields = {
        "id": f'"{pid}"', "name": '"Lab panel"', "version": '"1"', "vendor": '"Lab"',
        "builds": '["GRCh37"]', "profile": '"tso500-like"', "declared_tmb_mb": "0.0003",
        "cutpoints": "[10.0, 20.0]", "citation": '"internal"',
    }
    fields.update(over)
    text = "".join(f"{k} = {v}\n" for k, v in fields.items() if v is not None)
    text += ('\n[footprint]\nsource = "lab design"\nlicence = "internal"\nmethod = "target-bed"\n'
             f'\n[footprint.GRCh37]\nbed = "{bed.name}"\nshipped = true\n'
             f'sha256 = "{hashlib.sha256(bed.read_bytes()).hexdigest()}"\n')
    (d / f"{pid}.toml").write_text(text)
    return d


def test_inhouse_panel_via_option_and_env(tmp_path, monkeypatch):
    d = _inhouse(tmp_path)
    p = load_panel("lab-panel", [d])
    assert p.footprint().total_bp() == 200 + 100  # [100,300) + [1000,1100)
    assert p.cutpoints == [10.0, 20.0]
    with pytest.raises(InputError, match="unknown panel id 'lab-panel'.*f1cdx"):
        load_panel("lab-panel")
    monkeypatch.setenv("TMBCALC_PANELS_DIR", str(d))
    assert load_panel("lab-panel").footprint().total_bp() == 300
    r = run_cli("panels", "list", "--format", "tsv")
    assert r.returncode == 0 and "lab-panel" in r.stdout  # env var is inherited by the CLI


def test_genes_file_and_toml_path(tmp_path):
    d = _inhouse(tmp_path, genes_file='"lab.genes.txt"')
    (d / "lab.genes.txt").write_text("# lab genes\nA\nB  extra-column\n\n")
    p = load_panel(str(d / "lab-panel.toml"))
    assert p.genes == ["A", "B"] and p.gene_count == 2
    (d / "lab.genes.txt").write_text("A\nA\n")
    with pytest.raises(InputError, match="duplicate gene symbols A"):
        parse_panel(d / "lab-panel.toml")


def test_duplicate_id_is_an_error(tmp_path):
    d = _inhouse(tmp_path, pid="f1cdx")
    with pytest.raises(InputError, match="defined twice"):
        load_panel("f1cdx", [d])


@pytest.mark.parametrize("over,key", [
    ({"profile": '"no-such-profile"'}, "profile"),
    ({"cutpoints": "[20.0, 10.0]"}, "cutpoints"),
    ({"builds": '["hg19"]'}, "builds"),
    ({"colour": '"red"'}, "colour"),
    ({"citation": None}, "citation"),
    ({"declared_tmb_mb": '"big"'}, "declared_tmb_mb"),
])
def test_validation_errors_name_file_and_key(tmp_path, over, key):
    d = _inhouse(tmp_path, **over)
    toml = d / "lab-panel.toml"
    with pytest.raises(InputError) as ei:
        parse_panel(toml)
    msg = str(ei.value)
    assert str(toml) in msg and key in msg and "\n" not in msg
    r = run_cli("panels", "validate", str(toml))
    assert r.returncode == 1 and r.stdout == ""
    first = r.stderr.splitlines()[0]
    assert first.startswith("tmbcalc: error: ") and key in first and str(toml) in first


def test_shipped_bed_tampering_detected(tmp_path):
    d = _inhouse(tmp_path)
    bed = d / "lab-panel.GRCh37.bed"
    bed.write_text(bed.read_text().replace("300", "301"))
    r = run_cli("panels", "validate", str(d))
    assert r.returncode == 1 and "sha256" in r.stderr


def test_unshipped_bed_instructions_and_supply(shared, tmp_path, monkeypatch):
    p = load_panel("exome-sureselect-v4-grch37")
    env = p.bed_env_var()
    monkeypatch.delenv(env, raising=False)
    assert p.bed_path() is None
    with pytest.raises(InputError) as ei:
        p.footprint()
    msg = str(ei.value)
    assert "--panel-bed" in msg and env in msg and "Agilent" in msg and "\n" not in msg
    src = shared / EXOME_SOURCES["exome-sureselect-v4-grch37"]
    # a reformatted copy (chr prefix, name column, uncompressed, shuffled) is accepted by its
    # merged-footprint digest
    rows = bed_rows(src)
    random.Random(1).shuffle(rows)
    copy = tmp_path / "S03723314_Covered.bed"
    copy.write_text("track name=x\n" + "".join(f"chr{c}\t{s}\t{e}\tt{i}\n" for i, (c, s, e) in enumerate(rows)))
    assert p.footprint(bed=copy).total_bp() == p.footprint(bed=src).total_bp()
    # a different design is refused
    other = tmp_path / "other.bed"
    other.write_text("".join(f"{c}\t{s}\t{e}\n" for c, s, e in rows[:-1]))
    with pytest.raises(InputError, match="does not match panel 'exome-sureselect-v4-grch37'"):
        p.footprint(bed=other)
    # the environment variable makes it available to every command
    monkeypatch.setenv(env, str(src))
    r = run_cli("panels", "list", "--format", "json")
    row = next(x for x in json.loads(r.stdout) if x["id"] == "exome-sureselect-v4-grch37")
    assert row["bed"] == {"GRCh37": "supplied"}
    assert row["footprint_mb"]["GRCh37"] == pytest.approx(total(bedtools_merged(rows, tmp_path, "v4")) / 1e6)


@given(st.lists(st.tuples(st.sampled_from(["1", "2", "X"]), st.integers(0, 500), st.integers(1, 50)),
                min_size=1, max_size=30), st.randoms())
@settings(max_examples=60, deadline=None)
def test_footprint_digest_ignores_spelling_order_and_splits(items, rnd):
    rows = [(c, s, s + n) for c, s, n in items]
    a = RegionSet.from_tuples(rows)
    shuffled = rows[:]
    rnd.shuffle(shuffled)
    split = []
    for c, s, e in shuffled:  # split each interval in two book-ended halves, chr-prefixed
        m = (s + e) // 2
        split += [(f"chr{c}", s, m), (f"chr{c}", m, e)]
    assert footprint_digest(RegionSet.from_tuples(split)) == footprint_digest(a)
    bigger = RegionSet.from_tuples(rows + [("5", 0, 1)])
    assert footprint_digest(bigger) != footprint_digest(a)


# -- CLI ----------------------------------------------------------------------------------------------------
def test_cli_list_table_and_show():
    r = run_cli("panels", "list")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0].split()[:4] == ["id", "version", "builds", "genes"]
    assert len(lines) == 1 + len(SHIPPED_IDS)
    f1 = next(x for x in lines if x.startswith("f1cdx "))
    assert "f1cdx-like" in f1 and "GRCh37:shipped" in f1
    r = run_cli("panels", "show", "msk-impact-410", "--json")
    info = json.loads(r.stdout)
    assert info["gene_count"] == 410 and info["footprints"]["GRCh37"]["shipped"] is True
    r = run_cli("panels", "show", "tso500")
    assert r.returncode == 0 and "TruSight Oncology 500" in r.stdout and "genes:" in r.stdout


def test_cli_unknown_id():
    r = run_cli("panels", "show", "f2cdx")
    assert r.returncode == 1 and r.stdout == ""
    assert r.stderr.count("\n") == 1 and "unknown panel id 'f2cdx'" in r.stderr and "msk-impact-468" in r.stderr


def test_cli_validate_all_ok():
    r = run_cli("panels", "validate")
    assert r.returncode == 0, r.stderr
    assert len([x for x in r.stdout.splitlines() if x.startswith("ok\t")]) == len(SHIPPED_IDS)


def test_cli_build_outputs_and_missing(shared, tmp_path):
    genes = tmp_path / "genes.txt"
    genes.write_text("gene\nTP53\nKRAS\n# comment\nBOGUS1\nKRAS\n")
    out = tmp_path / "mine"
    r = run_cli("panels", "build", "--genes", str(genes), "--exons", str(shared / EXOMEDEPTH),
                "--build", "GRCh37", "--pad", "2", "-o", str(out))
    assert r.returncode == 0, r.stderr
    assert "BOGUS1" in r.stderr and r.stderr.count("\n") == 1
    ed = _exomedepth_rows(shared)
    sub = ed[ed["gene"].isin(["TP53", "KRAS"])]
    rows = [(c, s - 2, e + 2) for c, s, e in zip(sub["chrom"], sub["start"], sub["end"])]
    expected = bedtools_merged(rows, tmp_path, "cli")
    got = bedtools_merged(bed_rows(Path(f"{out}.bed")), tmp_path, "cli_out")
    assert got == expected
    summary = json.loads(Path(f"{out}.json").read_text())
    assert summary["summary"]["genes_missing"] == ["BOGUS1"]
    assert summary["summary"]["footprint_bp"] == total(expected)
    assert summary["provenance"]["inputs"]["genes"]["name"] == "genes.txt"
    tsv = pd.read_csv(f"{out}.genes.tsv", sep="\t", comment="#")
    assert tsv["gene"].tolist() == ["TP53", "KRAS", "BOGUS1"] and tsv["found"].tolist() == ["yes", "yes", "no"]


@pytest.mark.parametrize("extra,code,needle", [
    (["--require-all-genes"], 1, "BOGUS1"),
    (["--include-utr"], 2, "cannot supply UTRs"),
    (["--pad", "-1"], 2, "--pad"),
])
def test_cli_build_errors_leave_no_output(shared, tmp_path, extra, code, needle):
    genes = tmp_path / "genes.txt"
    genes.write_text("TP53\nBOGUS1\n")
    out = tmp_path / "x"
    r = run_cli("panels", "build", "--genes", str(genes), "--exons", str(shared / EXOMEDEPTH),
                "--build", "GRCh37", "-o", str(out), *extra)
    assert r.returncode == code
    assert needle in r.stderr and r.stderr.strip().splitlines()[-1].startswith("tmbcalc: error:")
    assert list(tmp_path.glob("x*")) == []


def test_cli_build_wrong_build_detected(tmp_path):
    genes = tmp_path / "g.txt"
    genes.write_text("G\n")
    table = tmp_path / "t.bed"
    table.write_text("chr21\t47000000\t47100000\tG:CDS\n")  # past GRCh38 chr21 (46.7 Mb), within GRCh37
    r = run_cli("panels", "build", "--genes", str(genes), "--exons", str(table), "--build", "GRCh38",
                "-o", str(tmp_path / "o"))
    assert r.returncode == 1 and "wrong genome build" in r.stderr
    assert list(tmp_path.glob("o*")) == []
    r = run_cli("panels", "build", "--genes", str(genes), "--exons", str(table), "--build", "GRCh37",
                "-o", str(tmp_path / "o"))
    assert r.returncode == 0


def test_build_script_is_reproducible(shared, tmp_path):
    """Regenerating the registry from ../shared/data reproduces the shipped files byte for byte."""
    import subprocess
    import sys
    out = tmp_path / "panels"
    subprocess.run([sys.executable, str(REPO / "scripts" / "build_panels.py"), "--shared", str(shared),
                    "--out", str(out)], check=True, capture_output=True)
    for f in sorted(panels_dir().glob("*.toml")) + sorted(panels_dir().glob("*.bed.gz")):
        assert (out / f.name).read_bytes() == f.read_bytes(), f.name


def test_build_panel_api_returns_a_result_that_writes_itself(tmp_path):
    """The API behind `panels build`: no file is written until `.write(prefix)`; the summary counts
    what the tiny exon table holds (by hand: G1 two exons 100 + 50 bp, G2 absent)."""
    from tmbcalc.panels.build import build_panel

    genes = tmp_path / "g.txt"
    genes.write_text("G1\nG2\n")
    table = tmp_path / "t.bed"
    table.write_text("chr1\t1000\t1100\tG1:CDS\nchr1\t2000\t2050\tG1:CDS\n")
    res = build_panel(genes, [table], build="GRCh37")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["g.txt", "t.bed"]
    s = res.to_dict()["summary"]
    assert (s["genes_found"], s["genes_missing"], s["footprint_bp"], s["intervals"]) == (1, ["G2"], 150, 2)
    assert res.to_dict()["provenance"]["command"] == "panels build"
    paths = res.write(tmp_path / "o")
    assert [p.name for p in paths] == ["o.bed", "o.genes.tsv", "o.json"]
    rows = [ln.split("\t") for ln in (tmp_path / "o.bed").read_text().splitlines() if not ln.startswith("#")]
    assert rows == [["chr1", "1000", "1100", "G1"], ["chr1", "2000", "2050", "G1"]]
