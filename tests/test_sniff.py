"""Format sniffing never raises on corrupt input: the reader chosen afterwards names the problem."""
from __future__ import annotations

import gzip
import zlib

from tmbcalc.io.sniff import is_tabular_text


def test_corrupt_deflate_data_is_not_an_exception(tmp_path):
    text = "".join(f"##INFO=<ID=X{i},Number=1,Type=Integer,Description=\"x\">\n" for i in range(400)).encode()
    good = gzip.compress(b"##fileformat=VCFv4.2\n" + text)
    raised = 0
    for at in range(20, len(good) - 20, 7):
        bad = bytearray(good)
        bad[at] ^= 0xFF
        p = tmp_path / "x.vcf.gz"
        p.write_bytes(bytes(bad))
        try:                                     # independent check: does Python's zlib choke on it?
            gzip.decompress(bytes(bad))
        except (zlib.error, OSError, EOFError):
            raised += 1
        assert is_tabular_text(p) in (True, False)
    assert raised > 0                            # the corruption really reached the sniffer


def test_maf_and_vcf_are_told_apart(tmp_path):
    maf = tmp_path / "a.maf"
    maf.write_text("Hugo_Symbol\tChromosome\tStart_Position\n")
    vcf = tmp_path / "a.vcf"
    vcf.write_text("##fileformat=VCFv4.2\n#CHROM\tPOS\n")
    assert is_tabular_text(maf) and not is_tabular_text(vcf)
