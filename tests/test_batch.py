"""``tmbcalc batch``: a generated cohort of 20 samples (small VCFs and BAMs made here) with one
truncated VCF, one BAM without index and one GRCh38 VCF on a GRCh37 panel.

Expectations are independent of the batch code: every good sample's numbers are compared with
the single commands run separately (command lines written out here by hand), bad rows with the
problems we planted, and reruns / other executors with a first uninterrupted run byte for byte
(time stamps and the per-sample seconds / peak-memory figures aside)."""
from __future__ import annotations

import csv
import gzip
import json
import os
import re
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests._batch_data import make_cohort, make_pair, panel_vcf, sample_records, truncated_vcf, write_vcf
from tests.conftest import run_cli

N_FULL = 10          # calls + BAMs + loci: TMB on the callable footprint, paired MSI, MSI from calls
GOOD = [f"S{i:02d}" for i in range(1, 18)]
HEADER = ["sample", "calls", "tumor_bam", "normal_bam", "bed", "panel", "loci", "baseline", "calibrate_to",
          "consequences", "msi_min_evaluable", "min_vaf"]
TIME = re.compile(rb"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00")


@pytest.fixture(scope="module")
def cohort(tmp_path_factory):
    """20 rows (paths relative to the sheet's folder): S01-S10 full, S11-S13 TMB only (S12 with a
    min_vaf override), S14-S15 tumor-only MSI, S16-S17 GRCh37 panel + harmonization, S18 a
    truncated VCF, S19 a GRCh38 VCF on the GRCh37 panel, S20 a tumor BAM without index."""
    root = tmp_path_factory.mktemp("batchcohort")
    c = make_cohort(root / "data")
    rows = []
    pairs = {}
    for i in range(1, 21):
        rows.append({"sample": f"S{i:02d}"})
    for i in range(1, N_FULL + 1):
        t, n = make_pair(c, f"S{i:02d}", seed=i, unstable=i % 2 == 1)
        pairs[i] = (t, n)
        v = write_vcf(root / "data" / f"S{i:02d}.vcf.gz", sample_records(c, i, 20 + i), {"chrS": len(c.seq)})
        rows[i - 1].update(calls=v, tumor_bam=t, normal_bam=n, bed=c.bed, loci=c.loci, consequences="all",
                           msi_min_evaluable="5")
    for i in (11, 12, 13):
        v = write_vcf(root / "data" / f"S{i}.vcf.gz", sample_records(c, i, 25), {"chrS": len(c.seq)})
        rows[i - 1].update(calls=v, bed=c.bed, consequences="all")
    rows[11]["min_vaf"] = "0.2"
    base = root / "data" / "baseline.tsv"
    r = run_cli("msi", "baseline", str(pairs[2][1]), str(pairs[4][1]), str(pairs[6][1]), "--loci", str(c.loci),
                "--min-support", "2", "-o", str(base))
    assert r.returncode == 0, r.stderr
    for i, src in ((14, 1), (15, 2)):
        rows[i - 1].update(tumor_bam=pairs[src][0], loci=c.loci, baseline=base, msi_min_evaluable="5")
    for i in (16, 17):
        rows[i - 1].update(calls=panel_vcf(root / "data" / f"S{i}.vcf.gz", "GRCh37", seed=i),
                           panel="msk-impact-468", calibrate_to="exome-wes-merino")
    rows[17].update(calls=truncated_vcf(c, root / "data" / "S18.vcf.gz", 18), bed=c.bed, consequences="all")
    rows[18].update(calls=panel_vcf(root / "data" / "S19.vcf.gz", "GRCh38", seed=19), panel="msk-impact-468",
                    consequences="all")
    nobai = root / "data" / "S20.tumor.bam"
    nobai.write_bytes(pairs[1][0].read_bytes())
    rows[19].update(calls=rows[0]["calls"], tumor_bam=nobai, normal_bam=pairs[1][1], bed=c.bed,
                    consequences="all")
    full = _write_sheet(root / "sheet.tsv", rows)
    valid = _write_sheet(root / "valid.tsv", rows[:18])
    return {"root": root, "rows": rows, "full": full, "valid": valid, "cohort": c}


def _write_sheet(path: Path, rows: list[dict]) -> Path:
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh, delimiter="\t", lineterminator="\n")
        w.writerow(HEADER)
        for r in rows:
            w.writerow([os.path.relpath(r[h], path.parent) if isinstance(r.get(h), Path) else r.get(h, "")
                        for h in HEADER])
    return path


def _batch(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    exe = [sys.executable, "-m", "tmbcalc"]
    return subprocess.run([*exe, "batch", *args], capture_output=True, text=True,
                          env={**os.environ, **(env or {})})


def _table(path: Path) -> dict[str, dict[str, str]]:
    with open(path) as fh:
        return {r["sample"]: r for r in csv.DictReader(fh, delimiter="\t")}


@pytest.fixture(scope="module")
def reference_run(cohort, tmp_path_factory):
    """The uninterrupted local-pool run of the valid sheet (S18 fails: truncated VCF)."""
    out = tmp_path_factory.mktemp("ref") / "out"
    r = _batch(str(cohort["valid"]), "-o", str(out), "--workers", "2")
    assert r.returncode == 1, r.stderr
    return out


def snapshot(outdir: Path) -> dict[str, bytes]:
    """Every output file, time stamps and the output folder's own path masked, gz content decompressed, run-dependent figures
    (seconds, peak memory) removed from markers and summary, and 'reused' read as 'ok'."""
    snap = {}
    for p in sorted(outdir.rglob("*")):
        # batch.html renders batch.json (run times, memory): compared through batch.tsv instead
        if not p.is_file() or p.name in ("batch.log", "batch.json", "batch.html"):
            continue
        data = gzip.decompress(p.read_bytes()) if p.suffix == ".gz" else p.read_bytes()
        if p.name.endswith(".batch.json"):
            doc = json.loads(data)
            doc.pop("seconds"), doc.pop("peak_rss_mb")
            doc["outputs"] = sorted(doc["outputs"])      # their sha256 cover the time stamps
            data = json.dumps(doc, sort_keys=True).encode()
        if p.name == "batch.tsv":
            lines = [ln.split(b"\t")[:-2] for ln in data.splitlines()]
            data = b"\n".join(b"\t".join(ln) for ln in lines).replace(b"\treused\t", b"\tok\t")
        # the folder itself differs between the runs compared (it is named in the command lines)
        snap[str(p.relative_to(outdir))] = TIME.sub(b"TIME", data).replace(str(outdir).encode(), b"OUTDIR")
    return snap


def assert_same_outputs(a: Path, b: Path) -> None:
    sa, sb = snapshot(a), snapshot(b)
    assert sorted(sa) == sorted(sb)
    for k in sa:
        assert sa[k] == sb[k], k


# -- validation ------------------------------------------------------------------------------------
def test_invalid_rows_rejected_up_front(cohort, tmp_path):
    out = tmp_path / "out"
    r = _batch(str(cohort["full"]), "-o", str(out))
    assert r.returncode == 2, r.stderr
    assert "Traceback" not in r.stderr
    lines = r.stderr.strip().splitlines()
    assert lines[0].startswith("tmbcalc: error:") and "2 problems" in lines[0]
    # the GRCh38 VCF is row 19 (line 20), the BAM without index row 20 (line 21)
    assert re.search(r"line 20, column calls: .*S19\.vcf\.gz: genome build mismatch.*GRCh38.*GRCh37", r.stderr)
    assert re.search(r"line 21, column tumor_bam: .*S20\.tumor\.bam: no index", r.stderr)
    assert not out.exists()


def test_skip_invalid_isolates_bad_rows(cohort, reference_run, tmp_path):
    out = tmp_path / "out"
    r = _batch(str(cohort["full"]), "-o", str(out), "--skip-invalid", "--workers", "2")
    assert r.returncode == 1, r.stderr
    t = _table(out / "batch.tsv")
    assert [s for s, row in t.items() if row["run_status"] == "failed"] == ["S18", "S19", "S20"]
    assert "genome build mismatch" in t["S19"]["error"] and "no index" in t["S20"]["error"]
    assert "truncated" in t["S18"]["error"]
    assert "3 of 20 samples failed (S18, S19, S20)" in r.stderr
    ref = _table(reference_run / "batch.tsv")
    for s in GOOD:
        assert t[s]["tmb"] == ref[s]["tmb"] and t[s]["msi_score"] == ref[s]["msi_score"]


# -- numbers equal those of the single commands ----------------------------------------------------
def _single_commands(row: dict, prefix: Path) -> list[list[str]]:
    cmds = []
    foot = ["--panel", row["panel"]] if row.get("panel") else ["--bed", str(row.get("bed"))]
    if row.get("calls"):
        cmd = ["tmb", str(row["calls"]), *foot, "--sample", row["sample"], "--threads", "1", "-o", str(prefix)]
        if row.get("tumor_bam"):
            cmd += ["--tumor-bam", str(row["tumor_bam"]), "--normal-bam", str(row["normal_bam"])]
        if row.get("consequences"):
            cmd += ["--consequences", row["consequences"]]
        if row.get("min_vaf"):
            cmd += ["--min-vaf", row["min_vaf"]]
        if row.get("calibrate_to"):
            cmd += ["--calibrate-to", row["calibrate_to"]]
        cmds.append(cmd)
    if row.get("tumor_bam") and row.get("loci"):
        mode = ["--baseline", str(row["baseline"])] if row.get("baseline") else ["--normal-bam", str(row["normal_bam"])]
        cmds.append(["msi", "score", str(row["tumor_bam"]), *mode, "--loci", str(row["loci"]), "--min-evaluable",
                     row["msi_min_evaluable"], "--sample", row["sample"], "-o", str(prefix)])
    if row.get("calls") and row.get("loci"):
        cmds.append(["msi", "mutations", str(row["calls"]), "--loci", str(row["loci"]), *foot,
                     "--sample", row["sample"], "-o", f"{prefix}.calls"])
    return cmds


def _same_file(a, b) -> None:
    """Same content, time stamps aside (gz compared decompressed)."""
    read = lambda p: gzip.open(p).read() if str(p).endswith(".gz") else Path(p).read_bytes()  # noqa: E731
    assert TIME.sub(b"", read(a)) == TIME.sub(b"", read(b)), (a, b)


def test_every_good_sample_equals_the_single_commands(cohort, reference_run, tmp_path):
    rows = {r["sample"]: r for r in cohort["rows"]}
    jobs = [(s, cmd) for s in GOOD for cmd in _single_commands(rows[s], tmp_path / s)]
    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(lambda j: run_cli(*j[1]), jobs))
    for (s, cmd), r in zip(jobs, results):
        assert r.returncode == 0, (cmd, r.stderr)
    t = _table(reference_run / "batch.tsv")
    assert t["S18"]["run_status"] == "failed" and "S18.vcf.gz: compressed data is truncated" in t["S18"]["error"]
    assert not list((reference_run / "S18").glob("S18.*"))      # a failed sample leaves no output
    for s in GOOD:
        b = reference_run / s / s
        assert t[s]["run_status"] == "ok", (s, t[s]["error"])
        if rows[s].get("calls"):
            single = json.loads((tmp_path / f"{s}.tmb.json").read_text())
            batch = json.loads(Path(f"{b}.tmb.json").read_text())
            assert batch["samples"] == single["samples"] and batch["denominator"] == single["denominator"]
            assert single["samples"][0]["sample"] == s
            assert float(t[s]["tmb"]) == single["samples"][0]["tmb"]
            assert float(t[s]["footprint_mb"]) == single["denominator"]["footprint_mb"]
            assert t[s]["footprint_kind"] == single["denominator"]["kind"]
            assert t[s]["status_ge_10"] == single["samples"][0]["status"]["10"]
            _same_file(tmp_path / f"{s}.tmb.tsv", f"{b}.tmb.tsv")
            _same_file(tmp_path / f"{s}.variants.tsv.gz", f"{b}.variants.tsv.gz")
            if rows[s].get("calibrate_to"):
                harmonized = single["samples"][0]["harmonized"]
                assert float(t[s]["tmb_harmonized"]) == harmonized["value"]
                assert t[s]["harmonized_to"] == rows[s]["calibrate_to"] == harmonized["reference"]
        if rows[s].get("loci") and rows[s].get("tumor_bam"):
            single = json.loads((tmp_path / f"{s}.msi.json").read_text())
            batch = json.loads(Path(f"{b}.msi.json").read_text())
            for k in ("msi_score", "status", "evaluable_loci", "unstable_loci", "mode", "sample"):
                assert batch[k] == single[k], (s, k)
            assert t[s]["msi_status"] == single["status"]
            _same_file(tmp_path / f"{s}.msi_loci.tsv.gz", f"{b}.msi_loci.tsv.gz")
        if rows[s].get("loci") and rows[s].get("calls"):
            single = json.loads((tmp_path / f"{s}.calls.msi.json").read_text())
            batch = json.loads(Path(f"{b}.calls.msi.json").read_text())
            assert batch["samples"] == single["samples"]
    # the planted differences show: unstable tumors (odd S01-S09) are MSI-H, stable ones not
    assert [t[f"S{i:02d}"]["msi_status"] == "MSI-H" for i in range(1, 11)] == [i % 2 == 1 for i in range(1, 11)]
    assert t["S14"]["msi_mode"] == "tumor-only"


# -- resume ----------------------------------------------------------------------------------------
def _wait_for(path: Path, pattern: str, count: int, timeout: float = 60) -> list[str]:
    end = time.time() + timeout
    while time.time() < end:
        if path.exists():
            hits = re.findall(pattern, path.read_text())
            if len(hits) >= count:
                return hits
        time.sleep(0.05)
    raise AssertionError(f"{pattern!r} x{count} not seen in {path}")


def test_sigkill_of_whole_batch_then_resume_is_byte_identical(cohort, reference_run, tmp_path):
    out = tmp_path / "out"
    proc = subprocess.Popen([sys.executable, "-m", "tmbcalc", "batch", str(cohort["valid"]), "-o", str(out),
                             "--workers", "2"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            env={**os.environ, "TMBCALC_BATCH_DEBUG_SLEEP": "0.4"}, start_new_session=True)
    _wait_for(out / "batch.log", r"\] S\d+: ok", 5)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert not (out / "batch.tsv").exists()
    r = _batch(str(cohort["valid"]), "-o", str(out), "--workers", "2")
    assert r.returncode == 1, r.stderr
    t = _table(out / "batch.tsv")
    assert sum(row["run_status"] == "reused" for row in t.values()) >= 5
    assert not list(out.rglob(".*tmp*"))
    assert_same_outputs(reference_run, out)
    # a third run reuses everything that succeeded and retries only the failed sample; an output
    # edited since its run is noticed and its sample redone
    tsv = out / "S02" / "S02.tmb.tsv"
    tsv.write_text(tsv.read_text().replace("\tS02\t", "\tS02\t"))       # same bytes: still reused
    (out / "S03" / "S03.msi.json").write_text("{}")
    r = _batch(str(cohort["valid"]), "-o", str(out), "--workers", "2")
    assert "16 up to date" in r.stderr
    t = _table(out / "batch.tsv")
    assert t["S02"]["run_status"] == "reused" and t["S03"]["run_status"] == "ok"
    assert_same_outputs(reference_run, out)
    # --force recomputes (and an input changed since is never reused)
    r = _batch(str(cohort["valid"]), "-o", str(out), "--workers", "2", "--force")
    assert not any(row["run_status"] == "reused" for row in _table(out / "batch.tsv").values())


def test_worker_killed_mid_sample_is_retried(cohort, reference_run, tmp_path):
    out = tmp_path / "out"
    proc = subprocess.Popen([sys.executable, "-m", "tmbcalc", "batch", str(cohort["valid"]), "-o", str(out),
                             "--workers", "2"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "TMBCALC_BATCH_DEBUG_SLEEP": "0.5"})
    pid = int(_wait_for(out / "batch.log", r"S05: started \(pid (\d+)\)", 1)[0])
    os.kill(pid, signal.SIGKILL)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 1, err
    assert _table(out / "batch.tsv")["S05"]["run_status"] == "ok"
    assert_same_outputs(reference_run, out)


def test_worker_killed_without_retry_is_recorded_not_hung(cohort, tmp_path):
    out = tmp_path / "out"
    proc = subprocess.Popen([sys.executable, "-m", "tmbcalc", "batch", str(cohort["valid"]), "-o", str(out),
                             "--workers", "2", "--attempts", "1"], stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True, env={**os.environ, "TMBCALC_BATCH_DEBUG_SLEEP": "0.3"})
    pid = int(_wait_for(out / "batch.log", r"S03: started \(pid (\d+)\)", 1)[0])
    os.kill(pid, signal.SIGKILL)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 1
    t = _table(out / "batch.tsv")
    assert t["S03"]["run_status"] == "failed" and "killed by signal SIGKILL" in t["S03"]["error"]
    assert sum(row["run_status"] == "ok" for row in t.values()) == 16


# -- executors -------------------------------------------------------------------------------------
def test_dask_local_cluster_gives_the_same_outputs(cohort, reference_run, tmp_path):
    out = tmp_path / "out"
    r = _batch(str(cohort["valid"]), "-o", str(out), "--dask-workers", "3", "--quiet")
    assert r.returncode == 1, r.stderr
    assert json.loads((out / "batch.json").read_text())["provenance"]["parameters"]["executor"] == "dask"
    assert_same_outputs(reference_run, out)


def test_dask_worker_killed_mid_sample_is_rescheduled(cohort, reference_run, tmp_path):
    psutil = pytest.importorskip("psutil")        # installed with distributed
    out = tmp_path / "out"
    proc = subprocess.Popen([sys.executable, "-m", "tmbcalc", "batch", str(cohort["valid"]), "-o", str(out),
                             "--dask-workers", "2", "--quiet"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            text=True, env={**os.environ, "TMBCALC_BATCH_DEBUG_SLEEP": "0.8"})
    _wait_for(out / "batch.log", r"\] S\d+: ok", 1, timeout=120)   # workers are busy with samples now
    workers = [c for c in psutil.Process(proc.pid).children() if "spawn_main" in " ".join(c.cmdline())]
    assert len(workers) == 2
    workers[0].kill()
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 1, err
    t = _table(out / "batch.tsv")
    assert [s for s, row in t.items() if row["run_status"] != "ok"] == ["S18"]
    assert_same_outputs(reference_run, out)


def test_api_in_process(cohort, reference_run, tmp_path):
    import tmbcalc

    res = tmbcalc.run_batch(cohort["valid"], tmp_path / "out", workers=0)
    assert isinstance(res, tmbcalc.BatchResult)
    assert res.exit_code == 1 and res.counts == {"samples": 18, "ok": 17, "reused": 0, "failed": 1}
    assert res.to_dict()["samples"][0]["sample"] == "S01"
    assert_same_outputs(reference_run, tmp_path / "out")


def test_cohort_report_and_multiqc_on_the_batch_folder(reference_run, tmp_path):
    """`multiqc OUTDIR` finds tmbcalc's general-statistics columns with each sample's TMB and status
    as its own PREFIX.tmb.json says; OUTDIR/batch.html lists every sample, the failed one with its error."""
    import pandas as pd

    r = subprocess.run([sys.executable, "-m", "multiqc", str(reference_run), "-o", str(tmp_path / "mq"), "--no-ansi",
                        "-q", "--force"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    gs = pd.read_csv(tmp_path / "mq/multiqc_data/multiqc_general_stats.txt", sep="\t", dtype={"Sample": str})
    cols = {c.split("-", 1)[-1]: c for c in gs.columns if c.startswith("custom_content_tmbcalc")}
    gs = gs.set_index("Sample")
    t = _table(reference_run / "batch.tsv")
    ok = [s for s, row in t.items() if row["run_status"] == "ok" and (reference_run / s / f"{s}.tmb.json").is_file()]
    assert len(ok) >= 10
    for s in ok:
        doc = json.loads((reference_run / s / f"{s}.tmb.json").read_text())["samples"][0]
        assert gs.loc[s, cols["tmb"]] == pytest.approx(doc["tmb"], rel=1e-12)
        assert gs.loc[s, cols["tmb_status_10"]] == doc["status"]["10"]
    html = (reference_run / "batch.html").read_text()
    assert all(f">{s}<" in html for s in t) and "truncated" in html


def test_progress_log_and_quiet(cohort, reference_run, tmp_path):
    out = tmp_path / "out"
    r = _batch(str(cohort["valid"]), "-o", str(out), "--workers", "1", "--quiet")
    assert r.returncode == 1
    # quiet: only the final one-line error naming the failed sample
    assert r.stderr.strip().splitlines() == [f"tmbcalc: error: 1 of 18 samples failed (S18); see {out / 'batch.tsv'}"]
    log = (out / "batch.log").read_text()
    assert len(re.findall(r"\[\d+/18\] S\d+: (ok|FAILED)", log)) == 18
    r = _batch(str(cohort["valid"]), "-o", str(out))      # not a terminal: plain log lines
    assert re.search(r"\[\d+/18\] S01: reused", r.stderr)
    t = _table(out / "batch.tsv")
    assert float(t["S01"]["seconds"]) > 0 and float(t["S01"]["peak_rss_mb"]) > 10


def test_tqdm_bar_on_a_terminal(tmp_path):
    import io

    from tmbcalc.batch.job import Outcome
    from tmbcalc.batch.progress import Progress

    class Tty(io.StringIO):
        def isatty(self):
            return True

    s = Tty()
    p = Progress(tmp_path / "log", stream=s)
    p.start(2)
    p.advance(Outcome("A", "ok", seconds=0.1, peak_rss_mb=1.0))
    p.advance(Outcome("B", "failed", "bad input"))
    p.close()
    text = s.getvalue()
    assert "2/2" in text and "B: FAILED: bad input" in text and "A: ok" not in text
    assert "A: ok" in (tmp_path / "log").read_text()


# -- workflow engine -------------------------------------------------------------------------------
def test_snakemake_workflow_runs_the_single_commands_and_aggregates(cohort, reference_run, tmp_path):
    """Three kinds of rows (full, TMB only, tumor-only MSI): Snakemake runs the per-sample commands
    and the aggregation; the numbers equal the batch run's."""
    pytest.importorskip("snakemake", reason="snakemake is in the [test] extra")
    rows = [r for r in cohort["rows"] if r["sample"] in ("S01", "S11", "S14")]
    sheet = _write_sheet(tmp_path / "three.tsv", rows)
    out = tmp_path / "out"
    repo = Path(__file__).resolve().parent.parent
    r = subprocess.run([sys.executable, "-m", "snakemake", "-s", str(repo / "workflows" / "Snakefile"), "--cores", "2",
                        "--directory", str(tmp_path), "--config", f"sheet={sheet}", f"outdir={out}", "--quiet"],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr[-3000:]
    t, ref = _table(out / "batch.tsv"), _table(reference_run / "batch.tsv")
    assert list(t) == ["S01", "S11", "S14"]
    for s, row in t.items():
        assert row["run_status"] == "ok"
        for col in row:
            if col not in ("seconds", "peak_rss_mb"):
                assert row[col] == ref[s][col], (s, col)
    cmd = json.loads((out / "S01" / "S01.tmb.json").read_text())["provenance"]["command_line"]
    assert " tmb " in cmd and "--sample S01" in cmd
    _same_file(out / "S01" / "S01.variants.tsv.gz", reference_run / "S01" / "S01.variants.tsv.gz")


def test_two_calls_files_in_one_row(shared, tmp_path):
    """Strelka2 writes SNVs and indels to two VCFs: one row, both files, one TMB = the sum of the
    eligible variants of each file alone (same footprint, so the same denominator)."""
    sd = shared / "bam/strelka_demo"
    length = int((sd / "demo20.fa.fai").read_text().split("\t")[1])
    bed = tmp_path / "demo.bed"
    bed.write_text(f"demo20\t0\t{length}\n")
    each = []
    for name in ("somatic.snvs.vcf.gz", "somatic.indels.vcf.gz"):
        r = run_cli("tmb", str(sd / name), "--bed", str(bed), "--consequences", "all", "-o", str(tmp_path / name))
        assert r.returncode == 0, r.stderr
        each.append(json.loads((tmp_path / f"{name}.tmb.json").read_text())["samples"][0]["eligible_variants"])
    sheet = tmp_path / "s.csv"
    sheet.write_text(f"sample,calls,bed,consequences\nDEMO,{sd / 'somatic.snvs.vcf.gz'};{sd / 'somatic.indels.vcf.gz'},"
                     f"{bed},all\n")
    r = _batch(str(sheet), "-o", str(tmp_path / "out"), "--workers", "0")
    assert r.returncode == 0, r.stderr
    assert int(_table(tmp_path / "out" / "batch.tsv")["DEMO"]["eligible_variants"]) == sum(each)
