#!/usr/bin/env python3
"""Regenerate the bundled panel registry (panels/*.toml, panels/*.bed.gz) from ../shared/data.

    python scripts/build_panels.py [--shared ../shared/data] [--out panels]

Every TOML is written from the metadata below (the single source of truth); BEDs are written
deterministically (sorted, gzip with mtime 0 and no file name), so re-running on the same inputs
reproduces the same bytes and sha256.  Sources (see ../shared/data/MANIFEST.md):

* MSK-IMPACT 341/410/468: gnomeR target interval lists (MIT), merged; genes from the cBioPortal
  datahub gene-panels.json.
* GOAL core 497: GOAL Consortium GOAL_Core_497_genes_sorted.bed, merged; genes from its names.
* FoundationOne CDx (324 genes, UCLA pancan-panel-design review, column fmi_cdx_324) and
  TruSight Oncology 500 (523 genes, UMCCR tso500 list): coding exons built with
  tmbcalc.panels.build from ExomeDepth exons.hg19 (GRCh37) and the UCLA + UMCCR CDS BEDs (GRCh38).
* Exomes (not shipped): sha256 and footprint digest of the vendor/reference interval files.
"""
from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import sys
from pathlib import Path

import pandas as pd

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tmbcalc.io.bed import read_bed  # noqa: E402
from tmbcalc.panels.build import build_panel_bed, read_exon_table  # noqa: E402
from tmbcalc.panels.registry import file_digests, footprint_digest, sorted_intervals  # noqa: E402

# HGNC symbol changes: symbol in a gene list -> symbols to try in an exon table (facts from HGNC).
ALIASES: dict[str, list[str]] = {
    # current symbol -> previous symbols (ExomeDepth exons.hg19 uses 2013-era RefSeq symbols)
    "TENT5C": ["FAM46C"], "MYCL": ["MYCL1"], "H3-3A": ["H3F3A"], "NSD2": ["WHSC1"],
    "PRKN": ["PARK2"], "NSD3": ["WHSC1L1"], "EMSY": ["C11orf30"], "MRE11": ["MRE11A"],
    "KMT2A": ["MLL"], "KMT2D": ["MLL2"], "KMT2C": ["MLL3"], "NUTM1": ["C15orf55"],
    "AMER1": ["FAM123B"], "ABRAXAS1": ["FAM175A"], "AGO1": ["EIF2C1"], "AGO2": ["EIF2C2"],
    "CCNQ": ["FAM58A"], "CMTR2": ["FTSJD1"], "COP1": ["RFWD2"], "ELOC": ["TCEB1"],
    "EZHIP": ["CXorf67"], "H1-2": ["HIST1H1C"], "H2BC5": ["HIST1H2BD"], "H3-3B": ["H3F3B"],
    "H3-4": ["HIST3H3"], "H3-5": ["H3F3C"], "H3C1": ["HIST1H3A"], "H3C2": ["HIST1H3B"],
    "H3C3": ["HIST1H3C"], "H3C4": ["HIST1H3D"], "H3C6": ["HIST1H3E"], "H3C7": ["HIST1H3F"],
    "H3C8": ["HIST1H3G"], "H3C10": ["HIST1H3H"], "H3C11": ["HIST1H3I"], "H3C12": ["HIST1H3J"],
    "H3C13": ["HIST2H3D"], "H3C14": ["HIST2H3C"], "H3C15": ["HIST2H3A"], "KMT5A": ["SETD8"],
    "PAK5": ["PAK7"], "ADGRA2": ["GPR124"], "KMT2B": ["MLL4"],
    # previous symbol -> current symbols (the GRCh38 CDS tables use current symbols)
    "FAM123B": ["AMER1"], "C11orf30": ["EMSY"], "FAM175A": ["ABRAXAS1"], "FAM46C": ["TENT5C"],
    "GPR124": ["ADGRA2"], "H3F3A": ["H3-3A"], "H3F3B": ["H3-3B"], "H3F3C": ["H3-5"],
    "HIST1H1C": ["H1-2"], "HIST1H2BD": ["H2BC5"], "HIST1H3A": ["H3C1"], "HIST1H3B": ["H3C2"],
    "HIST1H3C": ["H3C3"], "HIST1H3D": ["H3C4"], "HIST1H3E": ["H3C6"], "HIST1H3F": ["H3C7"],
    "HIST1H3G": ["H3C8"], "HIST1H3H": ["H3C10"], "HIST1H3I": ["H3C11"], "HIST1H3J": ["H3C12"],
    "HIST2H3A": ["H3C15"], "HIST2H3C": ["H3C14"], "HIST2H3D": ["H3C13"], "HIST3H3": ["H3-4"],
    "MLL": ["KMT2A"], "MRE11A": ["MRE11"], "PAK7": ["PAK5"], "PARK2": ["PRKN"], "RFWD2": ["COP1"],
    "TCEB1": ["ELOC"], "WISP3": ["CCN6"], "MLL2": ["KMT2D"], "MLL3": ["KMT2C"], "MYCL1": ["MYCL"],
    "WHSC1": ["NSD2"], "WHSC1L1": ["NSD3"],
}

KEYNOTE158 = ("TMB-high >= 10 mut/Mb: FDA accelerated approval of pembrolizumab for TMB-H solid "
              "tumours (June 2020), KEYNOTE-158 (Marabelle et al., Lancet Oncol 2020;21:1353), "
              "measured with FoundationOne CDx")
MSK_CUT = ("TMB-high >= 10 mut/Mb (FDA 2020 threshold); note Samstein et al. (Nat Genet "
           "2019;51:202) defined TMB-high as the top 20% within each histology, a histology-specific "
           "cut that is not a single number")
EXOME_CUT = ("conventional exome reference cut of 10 mut/Mb used to translate panel cut points "
             "(harmonization design of Merino et al., J Immunother Cancer 2020;8:e000147); no "
             "regulatory status")
MSK_CITE = ("Cheng DT et al. J Mol Diagn 2015;17:251 (MSK-IMPACT); Zehir A et al. Nat Med "
            "2017;23:703; Samstein RM et al. Nat Genet 2019;51:202")
MSK_NOTE = ("The shipped BED is the capture target list (merged), which also contains SNP "
            "fingerprint tiles, selected introns, promoter and tiling targets, so its size exceeds "
            "the exonic region MSK uses to normalise TMB (declared_tmb_mb).")


def toml_value(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(float(v)) if isinstance(v, float) else str(v)
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)
    if isinstance(v, list):
        if not v:
            return "[]"
        if all(isinstance(x, str) for x in v) and len(v) > 4:
            rows = [", ".join(json.dumps(x) for x in v[i:i + 10]) for i in range(0, len(v), 10)]
            return "[\n    " + ",\n    ".join(rows) + ",\n]"
        return "[" + ", ".join(toml_value(x) for x in v) + "]"
    raise TypeError(type(v))


TOP_ORDER = ["id", "name", "version", "vendor", "builds", "profile", "declared_tmb_mb",
             "declared_tmb_mb_source", "cutpoints", "cutpoint_sources", "citation", "notes",
             "gene_source", "genes"]


def write_toml(path: Path, meta: dict) -> None:
    lines = [f"# Panel definition generated by scripts/build_panels.py - edit the script, not this file.",
             f"# Format: docs/panels.md", ""]
    for k in TOP_ORDER:
        if k in meta and meta[k] is not None:
            lines.append(f"{k} = {toml_value(meta[k])}")
    fp = meta["footprint"]
    lines += ["", "[footprint]"]
    for k in ("source", "licence", "method", "approximation", "tmb_region"):
        if k in fp:
            lines.append(f"{k} = {toml_value(fp[k])}")
    for b in meta["builds"]:
        lines += ["", f"[footprint.{b}]"]
        for k in ("bed", "shipped", "sha256", "content_sha256", "footprint_sha256", "mb", "obtain", "tmb_bed",
                  "tmb_sha256", "tmb_mb"):
            if k in fp[b]:
                lines.append(f"{k} = {toml_value(fp[b][k])}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def write_bed_gz(path: Path, header: str, rows: list[tuple]) -> None:
    text = header + "".join("\t".join(str(x) for x in r) + "\n" for r in rows)
    with open(path, "wb") as raw, gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0,
                                                 compresslevel=9) as gz:
        gz.write(text.encode())


def shipped_build(out: Path, pid: str, build: str, header: str, rows: list[tuple]) -> dict:
    bed = out / f"{pid}.{build}.bed.gz"
    write_bed_gz(bed, header, rows)
    raw, content = file_digests(bed)
    regions = read_bed(bed)
    return {"bed": bed.name, "shipped": True, "sha256": raw, "content_sha256": content,
            "footprint_sha256": footprint_digest(regions), "mb": round(regions.total_mb(), 6)}


def target_bed_panel(out: Path, pid: str, build: str, src: Path) -> dict:
    regions = read_bed(src)
    rows = list(sorted_intervals(regions))
    header = (f"# tmbcalc panel {pid} {build}: merged targets of {src.name} "
              f"(sha256 {hashlib.sha256(src.read_bytes()).hexdigest()})\n")
    return shipped_build(out, pid, build, header, rows)


TMB_REGION_TARGETS = ("coding part of the capture targets: targets ∩ ExomeDepth exons.hg19 (coding parts of "
                      "RefSeq exons incl. stop codon; github:vplagnol/ExomeDepth, GPL-3), the region the "
                      "assay's TMB is normalised by")
TMB_REGION_GENES = "the footprint (coding exons of the listed genes)"


def add_tmb_region(out: Path, pid: str, build: str, entry: dict, exon_table: Path) -> dict:
    """Ship the coding part of a target-list footprint as the panel's TMB region (``tmb_bed``)."""
    from tmbcalc.regions import RegionSet

    ex = pd.read_csv(exon_table, sep="\t", dtype={"chromosome": str})
    exons = RegionSet.from_arrays(ex["chromosome"], ex["start"].to_numpy() - 1, ex["end"].to_numpy())
    region = read_bed(out / entry["bed"]).intersect(exons)
    bed = out / f"{pid}.tmb.{build}.bed.gz"
    write_bed_gz(bed, f"# tmbcalc panel {pid} {build} TMB region: {entry['bed']} ∩ {exon_table.name} "
                      "(1-based inclusive exons converted to 0-based)\n", list(sorted_intervals(region)))
    raw, _ = file_digests(bed)
    return {**entry, "tmb_bed": bed.name, "tmb_sha256": raw, "tmb_mb": round(region.total_mb(), 6)}


def gene_panel_build(out: Path, pid: str, build: str, genes: list[str], tables: list[Path],
                     report: dict) -> dict:
    exon_tables = [read_exon_table(t, cds_only=True) for t in tables]
    res = build_panel_bed(genes, exon_tables, aliases=ALIASES)
    report[f"{pid}.{build}"] = {"missing": res.missing, "mb": res.footprint_mb,
                                "aliased": {g.gene: g.table_symbol for g in res.genes
                                            if g.table_symbol and g.table_symbol != g.gene}}
    header = (f"# tmbcalc panel {pid} {build}: CDS of {len(genes) - len(res.missing)}/{len(genes)} "
              f"genes from {', '.join(t.name for t in tables)}; not found: "
              f"{', '.join(res.missing) or 'none'}\n")
    return shipped_build(out, pid, build, header, res.records)


def unshipped_build(src: Path, bed_name: str, obtain: str) -> dict:
    raw, content = file_digests(src)
    regions = read_bed(src)
    return {"bed": bed_name, "shipped": False, "sha256": raw, "content_sha256": content,
            "footprint_sha256": footprint_digest(regions), "mb": round(regions.total_mb(), 6),
            "obtain": obtain}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--shared", type=Path, default=REPO.parent / "shared" / "data")
    ap.add_argument("--out", type=Path, default=REPO / "panels")
    a = ap.parse_args()
    S, out = a.shared, a.out
    out.mkdir(exist_ok=True)
    report: dict = {}

    cbio = {p["genePanelId"]: [g["hugoGeneSymbol"] for g in p["genes"]]
            for p in json.loads((S / "panels/cbioportal_datahub/cbioportal_gene-panels.json").read_text())}
    review = pd.read_csv(S / "panels/ucladx_pancan/ucladx_cancer_genes_review_16panels.txt", sep="\t")
    f1_genes = review.loc[review["fmi_cdx_324"] == 1, "Gene"].tolist()
    tso_genes = [x.strip() for x in (S / "panels/umccr_gene_panels/tso500_gene_list.tsv")
                 .read_text().splitlines() if x.strip()]
    ed = S / "annotation/exomedepth_hg19/ExomeDepth_exons.hg19_autosomes_plus_X.tsv.gz"
    ucla = S / "annotation/ucladx_pancan/exon_targets_grch38.bed"
    umccr = S / "annotation/umccr_gene_panels/umccr_cancer_genes.cds_regions.bed"
    gene_fp_source = ("coding exons built by `tmbcalc panels build` (scripts/build_panels.py): "
                      "GRCh37 from ExomeDepth exons.hg19 (github:vplagnol/ExomeDepth, coding parts "
                      "of RefSeq exons incl. stop codon); GRCh38 from UCLA pancan-panel-design "
                      "exon_targets_grch38.bed (github:ucladx/pancan-panel-design, CDS rows), "
                      "falling back to UMCCR umccr_cancer_genes.cds_regions.bed "
                      "(github:scwatts/umccr_gene_panels, APPRIS CDS) for genes the first lacks")
    gene_fp_licence = ("derived coordinates; exon sources: ExomeDepth GPL-3, UCLA and UMCCR "
                       "repositories state no licence (public annotation coordinates)")

    panels: list[dict] = []

    # -- MSK-IMPACT --------------------------------------------------------------------------
    for n, mb in ((341, 0.98), (410, 1.06), (468, 1.14)):
        pid = f"msk-impact-{n}"
        src = S / f"panels/msk_impact_gnomeR/IMPACT{n}_targets_GRCh37.bed"
        panels.append({
            "id": pid, "name": f"MSK-IMPACT ({n} genes)", "version": f"IMPACT{n}",
            "vendor": "Memorial Sloan Kettering Cancer Center", "builds": ["GRCh37"],
            "profile": "msk-impact-like", "declared_tmb_mb": mb,
            "declared_tmb_mb_source": ("exonic coverage of the panel used by MSK to normalise TMB "
                                       "(Samstein et al. 2019: mutations normalised to the exonic "
                                       "coverage of the respective MSK-IMPACT panel)"),
            "cutpoints": [10.0], "cutpoint_sources": [MSK_CUT], "citation": MSK_CITE,
            "notes": MSK_NOTE + (" The cBioPortal IMPACT468 list has 469 symbols."
                                 if len(cbio[f"IMPACT{n}"]) != n else ""),
            "gene_source": ("cBioPortal datahub .circleci/portalinfo/gene-panels.json, panel "
                            f"IMPACT{n} (github:cBioPortal/datahub)"),
            "genes": cbio[f"IMPACT{n}"],
            "footprint": {
                "source": (f"gnomeR data/ti_{n}.rda at commit 66059a2 (github:MSKCC-Epi-Bio/gnomeR), "
                           f"IMPACT{n} target intervals, converted to 0-based BED and merged"),
                "licence": "MIT (gnomeR)", "method": "target-bed",
                "approximation": ("capture targets (incl. SNP fingerprint, intronic, promoter and "
                                  "tiling targets), not only the coding TMB region"),
                "tmb_region": TMB_REGION_TARGETS,
                "GRCh37": add_tmb_region(out, pid, "GRCh37", target_bed_panel(out, pid, "GRCh37", src), ed)},
        })

    # -- MSK-IMPACT 505: gene list only (no public target BED) -> coding exons -------------------
    impact505 = cbio["IMPACT505"]
    panels.append({
        "id": "msk-impact-505", "name": "MSK-IMPACT (505 genes)", "version": "IMPACT505",
        "vendor": "Memorial Sloan Kettering Cancer Center", "builds": ["GRCh37", "GRCh38"],
        "profile": "msk-impact-like",
        "cutpoints": [10.0], "cutpoint_sources": [MSK_CUT], "citation": MSK_CITE,
        "notes": ("No public target interval list of IMPACT505 is available here and no TMB region "
                  "size is declared; the footprint is the coding exons of the 505 genes."),
        "gene_source": ("cBioPortal datahub .circleci/portalinfo/gene-panels.json, panel IMPACT505 "
                        "(github:cBioPortal/datahub)"),
        "genes": impact505,
        "footprint": {
            "source": gene_fp_source, "licence": gene_fp_licence, "method": "gene-exons",
            "tmb_region": TMB_REGION_GENES,
            "approximation": ("coding exons of the listed genes from public annotation, not MSK's "
                              "capture targets (which add introns, promoters and SNP tiles); genes "
                              "absent from the exon sources are listed in the BED header"),
            "GRCh37": gene_panel_build(out, "msk-impact-505", "GRCh37", impact505, [ed], report),
            "GRCh38": gene_panel_build(out, "msk-impact-505", "GRCh38", impact505, [ucla, umccr], report)},
    })

    # -- FoundationOne CDx ---------------------------------------------------------------------
    panels.append({
        "id": "f1cdx", "name": "FoundationOne CDx", "version": "F1CDx (324 genes, FDA P170019)",
        "vendor": "Foundation Medicine, Inc.", "builds": ["GRCh37", "GRCh38"],
        "profile": "f1cdx-like", "declared_tmb_mb": 0.8,
        "declared_tmb_mb_source": ("FoundationOne CDx technical information (FDA P170019): TMB is "
                                   "measured over ~0.8 Mb of coding genome"),
        "cutpoints": [10.0], "cutpoint_sources": [KEYNOTE158],
        "citation": ("FDA PMA P170019 (FoundationOne CDx, 2017); Frampton GM et al. Nat Biotechnol "
                     "2013;31:1023; Chalmers ZR et al. Genome Med 2017;9:34"),
        "notes": ("Gene list from the UCLA cancer-gene review (column fmi_cdx_324, compiled from "
                  "Foundation Medicine's published list). TERC is an RNA gene with no CDS and so "
                  "has no footprint."),
        "gene_source": ("github:ucladx/pancan-panel-design data/cancer_genes_review.txt, column "
                        "fmi_cdx_324"),
        "genes": f1_genes,
        "footprint": {
            "source": gene_fp_source, "licence": gene_fp_licence, "method": "gene-exons",
            "tmb_region": TMB_REGION_GENES,
            "approximation": ("coding exons of the listed genes from public annotation; not Foundation "
                              "Medicine's proprietary bait set or its ~0.8 Mb TMB region (which also "
                              "excludes low-performing regions); intronic/rearrangement baits are "
                              "not included"),
            "GRCh37": gene_panel_build(out, "f1cdx", "GRCh37", f1_genes, [ed], report),
            "GRCh38": gene_panel_build(out, "f1cdx", "GRCh38", f1_genes, [ucla, umccr], report)},
    })

    # -- TruSight Oncology 500 -----------------------------------------------------------------------
    panels.append({
        "id": "tso500", "name": "TruSight Oncology 500", "version": "TSO500 (523 genes)",
        "vendor": "Illumina, Inc.", "builds": ["GRCh37", "GRCh38"], "profile": "tso500-like",
        "declared_tmb_mb": 1.33,
        "declared_tmb_mb_source": ("TMB region size reported for TSO500 in the Friends of Cancer "
                                   "Research TMB harmonization project (Vega et al. 2021)"),
        "cutpoints": [10.0],
        "cutpoint_sources": ["TMB-high >= 10 mut/Mb (FDA 2020 KEYNOTE-158 threshold, applied to "
                             "TSO500 TMB in harmonization studies, e.g. Vega et al. Ann Oncol 2021)"],
        "citation": ("Illumina TruSight Oncology 500 product documentation; Vega DM et al. Ann "
                     "Oncol 2021;32:1626 (Friends of Cancer Research TMB harmonization phase II)"),
        "notes": ("Gene list as in Illumina product literature (UMCCR copy); symbols are the "
                  "vendor's (some pre-2019 HGNC names), mapped to current symbols for GRCh38. "
                  "TERC (RNA gene) has no CDS."),
        "gene_source": ("github:scwatts/umccr_gene_panels somatic_panel/1_panel_sources/"
                        "sources_static/tso500/data/tso500.tsv"),
        "genes": tso_genes,
        "footprint": {
            "source": gene_fp_source, "licence": gene_fp_licence, "method": "gene-exons",
            "tmb_region": TMB_REGION_GENES,
            "approximation": ("coding exons of the listed genes from public annotation; not "
                              "Illumina's probe set or its 1.33 Mb TMB region; genes absent from the "
                              "exon sources are listed in the BED header"),
            "GRCh37": gene_panel_build(out, "tso500", "GRCh37", tso_genes, [ed], report),
            "GRCh38": gene_panel_build(out, "tso500", "GRCh38", tso_genes, [ucla, umccr], report)},
    })

    # -- GOAL core 497 ------------------------------------------------------------------------------
    goal_src = S / "panels/goal_consortium/GOAL_Core_497_genes_sorted.bed"
    goal_genes = list(dict.fromkeys(pd.read_csv(goal_src, sep="\t", header=None)[3].tolist()))
    panels.append({
        "id": "goal-497", "name": "GOAL Consortium core panel (497 genes)", "version": "GOAL core 497",
        "vendor": "GOAL Consortium (UT Southwestern, UC Denver, UChicago)", "builds": ["GRCh37"],
        "profile": "wes-merino",
        "cutpoints": [],
        "citation": "GOAL Consortium, github:GoalConsortium/goal_misc (GOAL_Core_497_genes_sorted.bed)",
        "notes": ("No TMB region size, counting rules or cut point have been published for this "
                  "panel; the harmonization reference rules (wes-merino) are used and the footprint "
                  "size is taken from the BED."),
        "gene_source": "names of the GOAL_Core_497_genes_sorted.bed targets",
        "genes": goal_genes,
        "footprint": {
            "source": "github:GoalConsortium/goal_misc GOAL_Core_497_genes_sorted.bed (GRCh37), merged",
            "licence": "no licence stated by the repository; public target coordinates",
            "method": "target-bed",
            "approximation": "exon targets of the core genes as designed (no separate TMB region)",
            "tmb_region": TMB_REGION_TARGETS,
            "GRCh37": add_tmb_region(out, "goal-497", "GRCh37", target_bed_panel(out, "goal-497", "GRCh37", goal_src),
                                     ed)},
    })

    # -- exomes (not shipped) ----------------------------------------------------------------------------
    panels.append({
        "id": "exome-sureselect-v4-grch37",
        "name": "Agilent SureSelect Human All Exon V4 (S03723314), Covered targets",
        "version": "S03723314", "vendor": "Agilent Technologies", "builds": ["GRCh37"],
        "profile": "wes-merino", "cutpoints": [10.0], "cutpoint_sources": [EXOME_CUT],
        "citation": "Agilent SureSelect Human All Exon V4 design S03723314",
        "notes": ("Exome reference footprint for in-silico panel subsetting. The registered "
                  "checksums are of the 3-column hg19 copy distributed with PSiTE; another copy, "
                  "e.g. Agilent's own S03723314_Covered.bed with header and name columns, is "
                  "accepted when its merged intervals equal the registered footprint "
                  "(footprint_sha256)."),
        "footprint": {
            "source": "Agilent SureDesign design S03723314 'Covered' BED (hg19)",
            "licence": "Agilent design files are distributed by Agilent under its terms; not redistributed here",
            "method": "vendor-bed",
            "GRCh37": unshipped_build(
                S / "panels/exome_kits/SureSelect_Human_All_Exon_V4_S03723314_Covered_hg19.bed.gz",
                "exome-sureselect-v4-grch37.GRCh37.bed.gz",
                "download design S03723314 (SureSelect Human All Exon V4) 'Covered' BED for hg19 "
                "from Agilent SureDesign (https://earray.chem.agilent.com/suredesign/), or the "
                "3-column copy wes/example/S03723314_Covered_c3.bed of github:hchyang/PSiTE")},
    })
    panels.append({
        "id": "exome-grch38", "name": "Exome (Agilent 'Covered' targets, GRCh38)",
        "version": "SigProfilerMatrixGenerator 1.4.0 GRCh38_exome", "vendor": "Agilent Technologies",
        "builds": ["GRCh38"], "profile": "wes-merino", "cutpoints": [10.0],
        "cutpoint_sources": [EXOME_CUT],
        "citation": ("Bergstrom EN et al. BMC Genomics 2019;20:685 (SigProfilerMatrixGenerator), "
                     "reference file GRCh38_exome.interval_list"),
        "notes": ("Agilent exome 'Covered' targets for GRCh38 as bundled with "
                  "SigProfilerMatrixGenerator; the exact Agilent kit version is not stated there."),
        "footprint": {
            "source": ("PyPI SigProfilerMatrixGenerator 1.4.0, SigProfilerMatrixGenerator/references "
                       "GRCh38_exome.interval_list (gzipped)"),
            "licence": "BSD-2-Clause (SigProfilerMatrixGenerator); underlying design (c) Agilent",
            "method": "vendor-bed",
            "GRCh38": unshipped_build(
                S / "annotation/sigprofiler_pypi/GRCh38_exome.interval_list.gz",
                "exome-grch38.GRCh38.interval_list.gz",
                "install SigProfilerMatrixGenerator==1.4.0 from PyPI and use "
                "SigProfilerMatrixGenerator/references/.../GRCh38_exome.interval_list "
                "(plain or gzipped; 1.66 MB gzipped, too large to bundle)")},
    })

    for meta in panels:
        write_toml(out / f"{meta['id']}.toml", meta)
        print(f"{meta['id']}: " + ", ".join(f"{b} {meta['footprint'][b]['mb']:.4f} Mb"
                                            for b in meta["builds"]))
    for key, r in report.items():
        print(f"{key}: {r['mb']:.4f} Mb; not found: {', '.join(r['missing']) or 'none'}; "
              f"aliased: {len(r['aliased'])}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
