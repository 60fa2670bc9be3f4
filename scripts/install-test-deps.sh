#!/usr/bin/env bash
# Install what the test suite needs on a fresh Debian machine, then tmbcalc itself (editable).
#  - Debian: bcftools, samtools, tabix, bedtools, mosdepth (+ libhts-dev, which provides the
#    libhts.so mosdepth loads), bwa: independent tools whose output the tests compare against;
#    libdeflate0: tmbcalc's fast BGZF readers (loaded at run time; tests cover both read paths).
#    chromium (+ fonts-dejavu-core): renders the HTML report headless in tests/test_report_browser.py.
#  - PyPI: tmbcalc with its [test] extra (pytest, pytest-benchmark, hypothesis, dask[distributed] for the
#    batch Dask executor, snakemake for workflows/Snakefile, multiqc).
set -euo pipefail
cd "$(dirname "$0")/.."

tools=(bcftools samtools tabix bedtools mosdepth bwa)
missing=()
for t in "${tools[@]}"; do command -v "$t" >/dev/null 2>&1 || missing+=("$t"); done
if [ ! -e /usr/lib/x86_64-linux-gnu/libhts.so ] && [ ! -e /usr/lib/libhts.so ]; then missing+=(libhts-dev); fi
if ! ldconfig -p 2>/dev/null | grep -q 'libdeflate\.so\.0'; then missing+=(libdeflate0); fi
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends \
    bcftools samtools tabix bedtools mosdepth libhts-dev libdeflate0 bwa chromium fonts-dejavu-core >/dev/null
fi
python -m pip install -q --disable-pip-version-check -e '.[test]'
