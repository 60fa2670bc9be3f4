"""Generate a large synthetic somatic VCF (bgzipped) for reader/TMB benchmarks.

Mutect2-like tumor/normal FORMAT ``GT:AD:AF:DP``, ``##tumor_sample``/``##normal_sample``, VEP
``CSQ`` with 1-4 transcripts per ALT and a realistic consequence mix, INFO ``gnomADg_AF``, ~3%
multi-allelic records, mixed FILTERs (PASS, '.', failures), random positions on GRCh38 primary
chromosomes (chr-prefixed, true lengths).  Deterministic for a given seed.

    python benchmarks/make_vcf.py OUT.vcf.gz [--records 1000000] [--seed 7]
"""
from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np

GRCH38 = {
    "1": 248956422, "2": 242193529, "3": 198295559, "4": 190214555, "5": 181538259,
    "6": 170805979, "7": 159345973, "8": 145138636, "9": 138394717, "10": 133797422,
    "11": 135086622, "12": 133275309, "13": 114364328, "14": 107043718, "15": 101991189,
    "16": 90338345, "17": 83257441, "18": 80373285, "19": 58617616, "20": 64444167,
    "21": 46709983, "22": 50818468, "X": 156040895, "Y": 57227415,
}

CSQ_FIELDS = ("Allele|Consequence|IMPACT|SYMBOL|Gene|Feature_type|Feature|BIOTYPE|EXON|INTRON|"
              "HGVSc|HGVSp|cDNA_position|CDS_position|Protein_position|Amino_acids|Codons|"
              "Existing_variation|DISTANCE|STRAND|FLAGS|SYMBOL_SOURCE|HGNC_ID|CANONICAL|"
              "gnomADe_AF|gnomADg_AF|MAX_AF")

# (consequence term list, impact, weight)
TERMS = [
    ("intron_variant", "MODIFIER", 30),
    ("intergenic_variant", "MODIFIER", 12),
    ("upstream_gene_variant", "MODIFIER", 8),
    ("downstream_gene_variant", "MODIFIER", 8),
    ("intron_variant&non_coding_transcript_variant", "MODIFIER", 8),
    ("non_coding_transcript_exon_variant", "MODIFIER", 4),
    ("3_prime_UTR_variant", "MODIFIER", 3),
    ("5_prime_UTR_variant", "MODIFIER", 1),
    ("missense_variant", "MODERATE", 10),
    ("synonymous_variant", "LOW", 5),
    ("splice_region_variant&intron_variant", "LOW", 2),
    ("stop_gained", "HIGH", 1),
    ("frameshift_variant", "HIGH", 1),
    ("splice_donor_variant", "HIGH", 0.5),
    ("inframe_deletion", "MODERATE", 0.5),
    ("regulatory_region_variant", "MODIFIER", 3),
    ("missense_variant&splice_region_variant", "MODERATE", 1),
    ("NMD_transcript_variant&intron_variant", "MODIFIER", 2),
]

HEADER = """##fileformat=VCFv4.2
##FILTER=<ID=PASS,Description="All filters passed">
##FILTER=<ID=germline,Description="Evidence indicates this site is germline, not somatic">
##FILTER=<ID=weak_evidence,Description="Mutation does not meet likelihood threshold">
##FILTER=<ID=strand_bias,Description="Evidence for alt allele comes from one read direction only">
##GATKCommandLine=<ID=Mutect2,CommandLine="Mutect2 (synthetic benchmark data)",Version="4.2.0.0">
##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">
##FORMAT=<ID=AD,Number=R,Type=Integer,Description="Allelic depths for the ref and alt alleles">
##FORMAT=<ID=AF,Number=A,Type=Float,Description="Allele fractions of alternate alleles">
##FORMAT=<ID=DP,Number=1,Type=Integer,Description="Approximate read depth">
##INFO=<ID=DP,Number=1,Type=Integer,Description="Approximate read depth">
##INFO=<ID=gnomADg_AF,Number=A,Type=Float,Description="gnomAD genomes allele frequency">
##INFO=<ID=CSQ,Number=.,Type=String,Description="Consequence annotations from Ensembl VEP. Format: {fields}">
{contigs}##tumor_sample=TUMOR_S1
##normal_sample=NORMAL_S1
#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tNORMAL_S1\tTUMOR_S1
"""


def _writer(out: Path):
    if shutil.which("bgzip"):
        proc = subprocess.Popen(["bgzip", "-@", "2", "-c"], stdin=subprocess.PIPE,
                                stdout=open(out, "wb"))
        return proc.stdin, proc
    import pysam
    return pysam.BGZFile(str(out), "wb"), None


def make_vcf(out: Path, records: int, seed: int = 7) -> int:
    """Write ``records`` records to ``out`` (bgzipped); returns the number of ALT rows."""
    rng = np.random.default_rng(seed)
    names = list(GRCH38)
    lengths = np.array([GRCH38[n] for n in names], dtype=np.float64)
    per = rng.multinomial(records, lengths / lengths.sum())
    terms = [t for t, _, _ in TERMS]
    impacts = [i for _, i, _ in TERMS]
    w = np.array([x for _, _, x in TERMS])
    w = w / w.sum()
    contigs = "".join(f"##contig=<ID=chr{n},length={GRCH38[n]}>\n" for n in names)
    fh, proc = _writer(out)
    fh.write(HEADER.format(fields=CSQ_FIELDS, contigs=contigs).encode())
    rows = 0
    for ci, name in enumerate(names):
        n = int(per[ci])
        if n == 0:
            continue
        pos = np.sort(rng.choice(GRCH38[name] - 100, size=n, replace=False) + 1)
        kind = rng.random(n)                # <0.85 SNV, <0.92 del, <0.97 ins, else multi-allelic
        refi = rng.integers(0, 4, n)
        alto = rng.integers(1, 4, n)           # ALT base = REF base + 1..3 (mod 4)
        termi = rng.choice(len(terms), size=(n, 4), p=w)
        filt_r = rng.random(n)
        ntx = rng.integers(1, 5, n)
        tdp = rng.integers(20, 400, n)
        ndp = rng.integers(20, 300, n)
        vaf = rng.beta(2, 8, n)
        gaf = rng.random(n)
        lines = []
        for i in range(n):
            r = "ACGT"[refi[i]]
            a = "ACGT"[(refi[i] + alto[i]) % 4]
            k = kind[i]
            if k < 0.85:
                ref, alts = r, [a]
            elif k < 0.92:
                ref, alts = r + "TG", [r]
            elif k < 0.97:
                ref, alts = r, [r + "CA"]
            else:
                b = "ACGT"[(refi[i] + alto[i] % 3 + 1) % 4]
                ref, alts = r, [a, b]
            f = filt_r[i]
            filt = "PASS" if f < 0.6 else ("." if f < 0.7 else
                                           ("germline" if f < 0.8 else
                                            ("weak_evidence;strand_bias" if f < 0.9 else "weak_evidence")))
            na = len(alts)
            d = int(tdp[i])
            alt_reads = [max(1, int(d * vaf[i] / na)) for _ in alts]
            ref_reads = max(0, d - sum(alt_reads))
            nd = int(ndp[i])
            tad = ",".join(map(str, [ref_reads, *alt_reads]))
            taf = ",".join(f"{x / max(1, d):.3f}" for x in alt_reads)
            nad = ",".join(map(str, [nd] + [0] * na))
            naf = ",".join("0" for _ in alts)
            csq = []
            for ai, alt in enumerate(alts):
                # VEP drops the first base when all alleles share it (indels)
                trim = all(x[0] == ref[0] for x in alts)
                vep = (alt[1:] or "-") if trim else alt
                for t in range(int(ntx[i])):
                    j = int(termi[i, t])
                    can = "YES" if t == 0 else ""
                    af = f"{gaf[i] * 0.01:.3g}" if (i + t) % 3 == 0 else ""
                    csq.append(f"{vep}|{terms[j]}|{impacts[j]}|GENE{(i % 977)}|ENSG{ci:02d}{i % 9973:06d}|"
                               f"Transcript|ENST{ci:02d}{(i + t) % 99991:07d}|protein_coding|||||||"
                               f"||||||1||HGNC|{i % 5000}|{can}|{af}|{af}|{af}")
            gnomad = ",".join(f"{gaf[i] * 0.001:.3g}" for _ in alts) if i % 4 == 0 else None
            info = f"DP={d + nd}" + (f";gnomADg_AF={gnomad}" if gnomad else "") + ";CSQ=" + ",".join(csq)
            lines.append(f"chr{name}\t{pos[i]}\t.\t{ref}\t{','.join(alts)}\t.\t{filt}\t{info}\t"
                         f"GT:AD:AF:DP\t0/0:{nad}:{naf}:{nd}\t0/1:{tad}:{taf}:{d}\n")
            rows += na
            if len(lines) >= 20000:
                fh.write("".join(lines).encode())
                lines = []
        if lines:
            fh.write("".join(lines).encode())
    fh.close()
    if proc is not None:
        if proc.wait() != 0:
            raise SystemExit("bgzip failed")
    return rows


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out", type=Path)
    ap.add_argument("--records", type=int, default=1_000_000)
    ap.add_argument("--seed", type=int, default=7)
    a = ap.parse_args(argv)
    rows = make_vcf(a.out, a.records, a.seed)
    print(f"{a.out}: {a.records} records, {rows} ALT rows", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
