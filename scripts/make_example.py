#!/usr/bin/env python3
"""Generate the small bundled example inputs of ``tmbcalc/examples/`` (deterministic, seed 7).

Writes
* ``example_panel.bed``: 2,500 synthetic "exon" targets (150-450 bp, some overlapping, so merging
  matters) on GRCh38 chromosomes 1-22;
* ``example_tumor_normal.vcf.gz`` (bgzipped + .tbi): a Mutect2-style tumor/normal VCF
  (``##tumor_sample``/``##normal_sample``, FORMAT GT:AD:AF:DP, FILTER PASS/'.'/failing) with
  Ensembl VEP ``CSQ`` annotations (including ``&``-joined terms, several transcripts, gnomADe_AF),
  multi-allelic records, indels and MNVs, about 80% inside the panel.

Everything is synthetic (random positions, random bases): no real sample data.  Re-run with
``python scripts/make_example.py`` from the repository root; outputs stay well under 200 KB.
"""
from __future__ import annotations

import random
import sys
import zlib
from pathlib import Path

import pysam

OUT = Path(__file__).resolve().parent.parent / "tmbcalc" / "examples"
GRCH38 = {
    "1": 248956422, "2": 242193529, "3": 198295559, "4": 190214555, "5": 181538259, "6": 170805979,
    "7": 159345973, "8": 145138636, "9": 138394717, "10": 133797422, "11": 135086622, "12": 133275309,
    "13": 114364328, "14": 107043718, "15": 101991189, "16": 90338345, "17": 83257441, "18": 80373285,
    "19": 58617616, "20": 64444167, "21": 46709983, "22": 50818468, "X": 156040895, "Y": 57227415,
}
CONSEQUENCES = [
    ("missense_variant", 30), ("synonymous_variant", 14), ("stop_gained", 4), ("frameshift_variant", 0),
    ("splice_acceptor_variant", 2), ("splice_region_variant&intron_variant", 4),
    ("intron_variant&non_coding_transcript_variant", 10), ("3_prime_UTR_variant", 6),
    ("missense_variant&splice_region_variant", 3), ("start_lost", 1), ("stop_lost", 1),
    ("upstream_gene_variant", 6), ("intergenic_variant", 4),
]
CSQ_FORMAT = "Allele|Consequence|IMPACT|SYMBOL|Gene|Feature_type|Feature|BIOTYPE|CANONICAL|gnomADe_AF"
BASES = "ACGT"


def pick_consequence(rng: random.Random, kind: str) -> str:
    if kind in ("ins", "del"):
        return rng.choice(["frameshift_variant", "frameshift_variant", "inframe_deletion" if kind == "del"
                           else "inframe_insertion", "intron_variant", "3_prime_UTR_variant"])
    terms, weights = zip(*[(t, w) for t, w in CONSEQUENCES if w])
    return rng.choices(terms, weights)[0]


def make_bed(rng: random.Random) -> list[tuple[str, int, int, str]]:
    targets = []
    for i in range(2500):
        c = str(rng.randint(1, 22))
        start = rng.randint(1_000_000, GRCH38[c] - 1_000_000)
        targets.append((c, start, start + rng.randint(150, 450), f"GENE{i // 6}_exon{i % 6 + 1}"))
        if rng.random() < 0.1:  # an overlapping target (e.g. a second transcript's exon)
            s2 = start + rng.randint(20, 100)
            targets.append((c, s2, s2 + rng.randint(120, 300), f"GENE{i // 6}_alt{i % 6 + 1}"))
    targets.sort(key=lambda t: (int(t[0]), t[1]))
    return targets


def main() -> int:
    rng = random.Random(7)
    OUT.mkdir(parents=True, exist_ok=True)
    targets = make_bed(rng)
    with open(OUT / "example_panel.bed", "w") as fh:
        fh.write("# synthetic example panel (scripts/make_example.py), GRCh38, 0-based half-open\n")
        for c, s, e, name in targets:
            fh.write(f"chr{c}\t{s}\t{e}\t{name}\n")

    records = []
    for _ in range(90):
        if rng.random() < 0.8:
            c, s, e, name = rng.choice(targets)
            pos = rng.randint(s + 1, e)          # 1-based inside the target
            gene = name.split("_")[0]
        else:
            c = str(rng.randint(1, 22))
            pos = rng.randint(1_000_000, GRCH38[c] - 1_000_000)
            gene = "OFFTARGET"
        r = rng.random()
        ref = rng.choice(BASES)
        if r < 0.78:
            kind, alts = "snv", [rng.choice([b for b in BASES if b != ref])]
        elif r < 0.82:
            kind = "mnv"
            ref = "".join(rng.choice(BASES) for _ in range(2))
            alts = ["".join(rng.choice([b for b in BASES if b != x]) for x in ref)]
        elif r < 0.90:
            kind, alts = "del", [ref]
            ref = ref + "".join(rng.choice(BASES) for _ in range(rng.randint(1, 6)))
        elif r < 0.96:
            kind, alts = "ins", [ref + "".join(rng.choice(BASES) for _ in range(rng.randint(1, 6)))]
        else:
            kind = "multi"
            alts = rng.sample([b for b in BASES if b != ref], 2)
        depth = rng.randint(8, 300)
        normal_depth = rng.randint(10, 150)
        filt = rng.choices(["PASS", ".", "weak_evidence", "germline", "strand_bias"], [80, 5, 7, 4, 4])[0]
        germline = filt == "germline" or rng.random() < 0.04
        ad_alt = []
        for _a in alts:
            vaf = rng.choice([0.5, 0.48, 1.0]) if germline else rng.choice([0.02, 0.04, 0.08, 0.15, 0.3, 0.45])
            ad_alt.append(max(0, round(depth * vaf * rng.uniform(0.8, 1.2))))
        ad_ref = max(0, depth - sum(ad_alt))
        n_alt = [rng.choice([0, 0, 0, 0, 1, 2]) if not germline else round(normal_depth * 0.5) for _ in alts]
        csq = []
        for a in alts:
            allele = a if len(a) == len(ref) else (a[1:] or "-")
            for t in range(rng.randint(1, 3)):
                term = pick_consequence(rng, kind if kind in ("ins", "del") else "snv")
                af = f"{rng.choice([0.0001, 0.002, 0.3]):g}" if (germline or rng.random() < 0.1) else ""
                gene_id = f"ENSG{zlib.crc32(gene.encode()) % 10**8:08d}"
                csq.append("|".join([allele, term, "MODERATE", gene, gene_id,
                                     "Transcript", f"ENST{rng.randint(10**7, 10**8):011d}", "protein_coding",
                                     "YES" if t == 0 else "", af]))
        records.append((c, pos, ref, alts, filt, depth, ad_ref, ad_alt, normal_depth, n_alt, csq))
    records.sort(key=lambda r: (int(r[0]), r[1]))

    header = ["##fileformat=VCFv4.2",
              '##FILTER=<ID=PASS,Description="All filters passed">',
              '##FILTER=<ID=weak_evidence,Description="Mutation does not meet likelihood threshold">',
              '##FILTER=<ID=germline,Description="Evidence indicates this site is germline">',
              '##FILTER=<ID=strand_bias,Description="Evidence for alt allele comes from one read direction only">',
              '##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">',
              '##FORMAT=<ID=AD,Number=R,Type=Integer,Description="Allelic depths for the ref and alt alleles">',
              '##FORMAT=<ID=AF,Number=A,Type=Float,Description="Allele fractions of alternate alleles in the tumor">',
              '##FORMAT=<ID=DP,Number=1,Type=Integer,Description="Approximate read depth">',
              f'##INFO=<ID=CSQ,Number=.,Type=String,Description="Consequence annotations from Ensembl VEP. '
              f'Format: {CSQ_FORMAT}">',
              "##source=tmbcalc scripts/make_example.py (synthetic, Mutect2-style)",
              "##tumor_sample=TUMOR", "##normal_sample=NORMAL", "##reference=GRCh38"]
    header += [f"##contig=<ID=chr{c},length={n}>" for c, n in GRCH38.items()]
    header.append("#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tTUMOR\tNORMAL")
    lines = []
    for c, pos, ref, alts, filt, depth, ad_ref, ad_alt, nd, n_alt, csq in records:
        afs = ",".join(f"{a / depth:.3f}" for a in ad_alt)
        gt = "0/1" if len(alts) == 1 else "0/1/2"
        n_ref = max(0, nd - sum(n_alt))
        tumor = f"{gt}:{ad_ref},{','.join(map(str, ad_alt))}:{afs}:{depth}"
        normal = f"0/0:{n_ref},{','.join(map(str, n_alt))}:{','.join(f'{a / nd:.3f}' for a in n_alt)}:{nd}"
        lines.append(f"chr{c}\t{pos}\t.\t{ref}\t{','.join(alts)}\t.\t{filt}\tCSQ={','.join(csq)}\t"
                     f"GT:AD:AF:DP\t{tumor}\t{normal}")
    plain = OUT / "example_tumor_normal.vcf"
    plain.write_text("\n".join(header + lines) + "\n")
    pysam.tabix_compress(str(plain), str(plain) + ".gz", force=True)
    plain.unlink()
    pysam.tabix_index(str(plain) + ".gz", preset="vcf", force=True)
    total = sum(p.stat().st_size for p in OUT.iterdir() if p.is_file())
    print(f"wrote {len(targets)} targets, {len(records)} records to {OUT} ({total} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
