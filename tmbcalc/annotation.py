"""One consequence vocabulary for VEP ``CSQ``, SnpEff ``ANN`` and MAF ``Variant_Classification``.

Classes are ordered most severe first; the integer code of a class is its index in
:data:`CLASSES`, so "most severe" is the minimum code.  ``UNANNOTATED`` (-1) marks a record
without any consequence annotation.  Sequence Ontology terms follow the Ensembl VEP severity
table (https://www.ensembl.org/info/genome/variation/prediction/predicted_data.html); SnpEff
adds a few terms of its own, mapped here to the nearest class.
"""
from __future__ import annotations

from collections.abc import Iterable

CLASSES: tuple[str, ...] = (
    "splice_site",    # 0 splice donor/acceptor, transcript ablation
    "nonsense",       # 1 stop gained
    "frameshift",     # 2
    "stop_lost",      # 3
    "start_lost",     # 4
    "inframe",        # 5 in-frame insertion/deletion
    "missense",       # 6 (incl. protein_altering_variant)
    "splice_region",  # 7
    "synonymous",     # 8 (incl. stop/start retained)
    "coding_other",   # 9 coding_sequence_variant / incomplete terminal codon: coding, effect unknown
    "UTR",            # 10
    "noncoding",      # 11 non-coding transcript exon, miRNA, NMD transcript
    "intronic",       # 12
    "intergenic",     # 13 intergenic, up/downstream, regulatory, TFBS
)
CODE: dict[str, int] = {c: i for i, c in enumerate(CLASSES)}
UNANNOTATED = -1

# Sequence Ontology term (VEP and SnpEff) -> class
SO_TERMS: dict[str, str] = {
    "transcript_ablation": "splice_site",
    "splice_acceptor_variant": "splice_site",
    "splice_donor_variant": "splice_site",
    "exon_loss_variant": "splice_site",
    "stop_gained": "nonsense",
    "frameshift_variant": "frameshift",
    "stop_lost": "stop_lost",
    "start_lost": "start_lost",
    "initiator_codon_variant": "start_lost",
    "inframe_insertion": "inframe",
    "inframe_deletion": "inframe",
    "conservative_inframe_insertion": "inframe",
    "disruptive_inframe_insertion": "inframe",
    "conservative_inframe_deletion": "inframe",
    "disruptive_inframe_deletion": "inframe",
    "missense_variant": "missense",
    "protein_altering_variant": "missense",
    "transcript_amplification": "missense",
    "rare_amino_acid_variant": "missense",
    "splice_region_variant": "splice_region",
    "splice_donor_5th_base_variant": "splice_region",
    "splice_donor_region_variant": "splice_region",
    "splice_polypyrimidine_tract_variant": "splice_region",
    "synonymous_variant": "synonymous",
    "stop_retained_variant": "synonymous",
    "start_retained_variant": "synonymous",
    "coding_sequence_variant": "coding_other",
    "incomplete_terminal_codon_variant": "coding_other",
    "coding_transcript_variant": "coding_other",
    "5_prime_UTR_variant": "UTR",
    "3_prime_UTR_variant": "UTR",
    "5_prime_UTR_premature_start_codon_gain_variant": "UTR",
    "5_prime_UTR_truncation": "UTR",
    "3_prime_UTR_truncation": "UTR",
    "mature_miRNA_variant": "noncoding",
    "non_coding_transcript_exon_variant": "noncoding",
    "non_coding_exon_variant": "noncoding",
    "nc_transcript_variant": "noncoding",
    "non_coding_transcript_variant": "noncoding",
    "NMD_transcript_variant": "noncoding",
    "intron_variant": "intronic",
    "intragenic_variant": "intronic",
    "conserved_intron_variant": "intronic",
    "upstream_gene_variant": "intergenic",
    "downstream_gene_variant": "intergenic",
    "TFBS_ablation": "intergenic",
    "TFBS_amplification": "intergenic",
    "TF_binding_site_variant": "intergenic",
    "regulatory_region_ablation": "intergenic",
    "regulatory_region_amplification": "intergenic",
    "regulatory_region_variant": "intergenic",
    "feature_elongation": "intergenic",
    "feature_truncation": "intergenic",
    "intergenic_variant": "intergenic",
    "intergenic_region": "intergenic",
    "conserved_intergenic_variant": "intergenic",
    "gene_fusion": "intergenic",
    "bidirectional_gene_fusion": "intergenic",
    "sequence_feature": "intergenic",
    "structural_interaction_variant": "intergenic",
}

# MAF Variant_Classification (GDC / TCGA MC3 / cBioPortal) -> class
MAF_CLASSIFICATIONS: dict[str, str] = {
    "Missense_Mutation": "missense",
    "Nonsense_Mutation": "nonsense",
    "Nonstop_Mutation": "stop_lost",
    "Translation_Start_Site": "start_lost",
    "Frame_Shift_Del": "frameshift",
    "Frame_Shift_Ins": "frameshift",
    "In_Frame_Del": "inframe",
    "In_Frame_Ins": "inframe",
    "Splice_Site": "splice_site",
    "Splice_Region": "splice_region",
    "Silent": "synonymous",
    "3'UTR": "UTR",
    "5'UTR": "UTR",
    "RNA": "noncoding",
    "lincRNA": "noncoding",
    "Intron": "intronic",
    "5'Flank": "intergenic",
    "3'Flank": "intergenic",
    "IGR": "intergenic",
    "Targeted_Region": "intergenic",
    "De_novo_Start_InFrame": "UTR",
    "De_novo_Start_OutOfFrame": "UTR",
}

# Convenience groups used by the ``--consequences`` flag.
GROUPS: dict[str, tuple[str, ...]] = {
    "nonsynonymous": ("splice_site", "nonsense", "frameshift", "stop_lost", "start_lost", "inframe", "missense"),
    "coding": ("splice_site", "nonsense", "frameshift", "stop_lost", "start_lost", "inframe", "missense",
               "synonymous", "coding_other"),
    "all": CLASSES,
}


def so_term_code(term: str) -> int:
    """Class code of one SO term; unknown terms are UNANNOTATED."""
    cls = SO_TERMS.get(term)
    return CODE[cls] if cls else UNANNOTATED


def most_severe(terms: Iterable[str]) -> int:
    """Most severe class code among SO terms, splitting VEP/SnpEff ``&``-joined lists."""
    best = UNANNOTATED
    for t in terms:
        for part in t.split("&"):
            c = so_term_code(part.strip())
            if c != UNANNOTATED and (best == UNANNOTATED or c < best):
                best = c
    return best


def maf_class_code(classification: str) -> int:
    cls = MAF_CLASSIFICATIONS.get(classification)
    return CODE[cls] if cls else UNANNOTATED


def class_codes(names: Iterable[str]) -> list[int]:
    """Codes for class names or group names (``nonsynonymous``, ``coding``, ``all``)."""
    out: list[int] = []
    for n in names:
        if n in GROUPS:
            out.extend(CODE[c] for c in GROUPS[n])
        elif n in CODE:
            out.append(CODE[n])
        else:
            raise KeyError(n)
    return sorted(set(out))
