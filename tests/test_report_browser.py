"""The HTML reports in a real browser: headless Chromium (Debian ``chromium``) with no network
(a fresh network namespace via ``unshare -n``), no console messages at all, every section in the
rendered DOM, the batch page's sorting script allowed by the page's CSP, and a screenshot whose
content bands are not blank."""
from __future__ import annotations

import json
import shutil
import subprocess

import pytest

from tests._html import parse, with_attr
from tests._report_fixtures import results  # noqa: F401  (session fixture)
from tests.conftest import run_cli

SECTIONS = ["summary", "tmb", "context", "variants", "denominator", "msi", "harmonized", "provenance",
            "limitations"]


def _chromium() -> str:
    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    if exe is None:
        pytest.fail("chromium is not installed: run scripts/install-test-deps.sh")
    return exe


def _offline_prefix() -> list[str]:
    """``unshare -n`` (an empty network namespace) when this user may create one."""
    if shutil.which("unshare") and subprocess.run(["unshare", "-n", "true"], capture_output=True).returncode == 0:
        return ["unshare", "-n"]
    return []


def _browse(page, tmp_path, *extra) -> subprocess.CompletedProcess:
    cmd = [*_offline_prefix(), _chromium(), "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run",
           f"--user-data-dir={tmp_path / 'profile'}", "--enable-logging=stderr", "--v=0", "--hide-scrollbars",
           *extra, page.as_uri()]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr[-2000:]
    return r


def _console(stderr: str) -> list[str]:
    return [ln for ln in stderr.splitlines() if ":CONSOLE" in ln]


@pytest.fixture(scope="module")
def pages(results, tmp_path_factory):  # noqa: F811
    d = tmp_path_factory.mktemp("browser")
    r = run_cli("report", str(results["TUMOR"]), "--tumor-type", "COAD", "-o", str(d / "sample.html"))
    assert r.returncode == 0, r.stderr
    rows = [{"sample": "TUMOR", "run_status": "ok", "prefix": str(results["TUMOR"])},
            {"sample": "broken", "run_status": "failed", "error": "tmbcalc: error: b.vcf: truncated gzip"}]
    chol = json.loads((results["chol"].parent / "chol.tmb.json").read_text())
    rows += [{"sample": s["sample"], "run_status": "ok", "prefix": str(results["chol"])} for s in chol["samples"][:8]]
    (d / "batch.json").write_text(json.dumps({"samples": rows}))
    r = run_cli("report", "--batch", str(d / "batch.json"), "-o", str(d / "batch.html"))
    assert r.returncode == 0, r.stderr
    return d


def test_sample_page_renders_offline_without_console_messages(pages, tmp_path):
    r = _browse(pages / "sample.html", tmp_path, "--dump-dom")
    assert _console(r.stderr) == []
    els = parse(r.stdout)
    assert [e["attrs"]["data-section"] for e in with_attr(els, "data-section")] == SECTIONS
    assert len([e for e in els if e["tag"] == "svg"]) >= 8


def test_batch_page_script_runs_under_its_csp(pages, tmp_path):
    r = _browse(pages / "batch.html", tmp_path, "--dump-dom")
    assert _console(r.stderr) == []
    table = [e for e in parse(r.stdout) if e["tag"] == "table" and e["attrs"].get("id") == "samples"][0]
    assert "sort-ready" in table["attrs"]["class"].split()       # the inline script executed


def test_screenshot_has_content(pages, tmp_path):
    from PIL import Image

    shot = tmp_path / "sample.png"
    _browse(pages / "sample.html", tmp_path, f"--screenshot={shot}", "--window-size=1200,4200")
    img = Image.open(shot).convert("RGB")
    w, h = img.size
    assert (w, h) == (1200, 4200)
    px = img.load()
    bg = px[5, h // 2]                                           # page margin colour

    def busy(y0: int, y1: int) -> float:
        n = hits = 0
        for y in range(y0, y1, 4):
            for x in range(60, w - 60, 4):
                n += 1
                hits += px[x, y] != bg
        return hits / n

    assert px[20, 20][2] > px[20, 20][0] and sum(px[20, 20]) < 300   # dark-blue title bar
    bands = [busy(y, y + 300) for y in range(0, 3900, 300)]
    assert min(bands) > 0.05, bands                              # no blank band: every region has content
    bars = sum(1 for y in range(300, h, 3) for x in range(0, w, 3) if px[x, y] == (0x4a, 0x78, 0xb5))
    red = sum(1 for y in range(300, h, 3) for x in range(0, w, 3) if px[x, y] == (0xc0, 0x39, 0x2b))
    assert bars > 1000 and red > 200                             # the figures' bars are drawn
