"""Counting profiles: bundled contents vs the publications, validation errors, overrides."""
from __future__ import annotations

import pytest

from tmbcalc.errors import InputError, UsageError
from tmbcalc.tmb.profiles import list_profiles, load_profile


def test_bundled_profiles_present_and_documented():
    names = set(list_profiles())
    assert {"wes-merino", "f1cdx-like", "msk-impact-like", "tso500-like"} <= names
    for n in names:
        p = load_profile(n)
        assert p.citation and "doi" in p.citation.lower(), n
        assert len(p.approximations) > 40, n
        assert p.cutpoints == (10.0,)


def test_wes_merino_matches_publication():
    # Merino et al. 2020 (J Immunother Cancer 8:e000147): missense, nonsense, stop lost, start lost,
    # frameshift and in-frame indels; FILTER PASS; VAF >= 5%; depth >= 25; >= 3 alt reads.
    p = load_profile("wes-merino")
    assert set(p.consequences) == {"missense", "nonsense", "stop_lost", "start_lost", "frameshift", "inframe"}
    assert (p.require_pass, p.filter_missing_is_pass) == (True, False)
    assert (p.min_vaf, p.min_depth, p.min_alt_reads) == (0.05, 25, 3)
    assert "synonymous" not in p.consequences and "splice_site" not in p.consequences


def test_other_profiles_key_rules():
    f1 = load_profile("f1cdx-like")
    assert "synonymous" in _classes(f1) and f1.hotspots == "required" and f1.germline_filter != "off"
    assert f1.min_vaf == 0.05
    msk = load_profile("msk-impact-like")
    assert "synonymous" not in _classes(msk) and "missense" in _classes(msk)
    tso = load_profile("tso500-like")
    assert "synonymous" in _classes(tso) and "mnv" not in tso.type_names()


def _classes(p):
    from tmbcalc.annotation import CLASSES

    return {CLASSES[c] for c in p.consequence_codes()}


@pytest.mark.parametrize("body,key", [
    ('name = "x"\nmin_vaff = 0.1\n', "min_vaff"),
    ('name = "x"\nmin_vaf = 1.5\n', "min_vaf"),
    ('name = "x"\nmin_depth = "many"\n', "min_depth"),
    ('name = "x"\nvariant_types = ["snv", "sv"]\n', "variant_types"),
    ('name = "x"\nconsequences = ["missense", "bogus"]\n', "consequences"),
    ('name = "x"\nmultiallelic = "most"\n', "multiallelic"),
    ('name = "x"\nrequire_pass = "yes"\n', "require_pass"),
    ('name = "x"\ngermline_vaf_windows = [[0.6, 0.4]]\n', "germline_vaf_windows"),
])
def test_validation_names_file_and_key(tmp_path, body, key):
    f = tmp_path / "bad.toml"
    f.write_text(body)
    with pytest.raises(InputError) as ei:
        load_profile(f)
    msg = str(ei.value)
    assert str(f) in msg and f"'{key}'" in msg and "\n" not in msg


def test_invalid_toml(tmp_path):
    f = tmp_path / "broken.toml"
    f.write_text("name = \n")
    with pytest.raises(InputError, match="not valid TOML"):
        load_profile(f)


def test_unknown_bundled_name():
    with pytest.raises(UsageError, match="unknown profile"):
        load_profile("no-such-profile")


def test_override_and_off(tmp_path):
    p = load_profile("wes-merino")
    q = p.override(min_vaf=0.1, min_depth="off", consequences=["coding"])
    assert q.min_vaf == 0.1 and q.min_depth is None and "synonymous" in _classes(q)
    assert p.min_vaf == 0.05  # original untouched
    assert p.override(min_vaf=None) is p
    with pytest.raises(UsageError):
        p.override(min_vaf=2.0)
    f = tmp_path / "mine.toml"
    f.write_text('name = "mine"\nmin_vaf = 0.1\nvariant_types = "snv,indel"\nfilter_missing_is_pass = true\n')
    m = load_profile(f)
    assert m.type_names() == ("snv", "ins", "del", "complex") and m.filter_missing_is_pass
    assert m.to_dict()["source"] == str(f)
