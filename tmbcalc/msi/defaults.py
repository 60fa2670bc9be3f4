"""Default parameters of the MSI commands (one place; imported by the CLI without heavy deps).

Scan defaults follow MSIsensor-pro's documented ``scan`` defaults (Jia et al. 2020): homopolymers
8-50 bp, >= 5 copies of 2-6 bp units; flanks are 10 bp (MSIsensor-pro: 5) to anchor reads.
"""
from __future__ import annotations

# scan
MIN_HOMOPOLYMER = 8  # bp
MAX_HOMOPOLYMER = 50  # bp
MIN_COPIES = 5  # copies of a 2-6 bp unit
MAX_REPEAT_LENGTH = 60  # bp, 2-6 bp units
FLANK = 10  # bp each side

# profile (read selection)
MAPQ = 20
EXCLUDE_FLAGS = 0xF04  # unmapped | secondary | QC-fail | duplicate | supplementary
ANCHOR = 5  # flank bases each side, aligned and identical to the reference flank

# scoring
MIN_COVERAGE = 20  # measured reads per locus (tumor, and normal in paired mode)
ALPHA = 0.05  # BH FDR per locus
# the sample call's rules (statistic-based) are in tmbcalc.msi.call
MIN_SUPPORT = 5  # normals with coverage needed to score a locus tumor-only
