"""Outputs never hurt inputs, are published as one set, leave nothing behind; stream inputs
(issue #10 items 4-5, the disk-full message of item 6, issue #13 item 8).

One test per fault class; each asserts the exit code, ONE stderr line naming the file, no file
left behind (temporary folders, lock files, partial outputs) and inputs byte-unchanged.  Inputs
are real public files (../shared/data) copied into tmp_path where the test needs them writable.
Runs are signalled inside the publication window with the documented test hook
``TMBCALC_TEST_PAUSE_BEFORE_PUBLISH`` (the run announces the pause on stderr).
"""
from __future__ import annotations

import errno
import gzip
import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import run_cli

VCF = "somatic/pcgr_examples/T001-COAD.grch37.vcf.gz"     # real TCGA COAD calls (PCGR example), GRCh37
BED = "panels/msk_impact_gnomeR/IMPACT468_targets_GRCh37.bed"
FASTA = "bam/strelka_demo/demo20.fa"
BAM = "bam/strelka_demo/NA12891_demo20.bam"
GHGA = "bam/ghga_seqc2_hcc1395/seqc2_somatic_calling"
TMB_OUT = (".tmb.json", ".tmb.tsv", ".variants.tsv.gz", ".footprint.bed.gz", ".footprint.bed.gz.tbi")
TIMEOUT = 60


def exe() -> list[str]:
    path = shutil.which("tmbcalc")
    return [path] if path else [sys.executable, "-m", "tmbcalc"]


def tmb_args(shared: Path, prefix: Path | str, *extra: str, vcf: str | None = None) -> list[str]:
    return ["tmb", vcf or str(shared / VCF), "--bed", str(shared / BED), "--consequences", "all",
            "--quiet", "-o", str(prefix), *extra]


def digest(paths) -> dict[str, str]:
    return {str(p): hashlib.sha256(Path(p).read_bytes()).hexdigest() for p in paths}


def listing(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


def leftovers(folder: Path) -> list[str]:
    """Temporary folders/files and lock files of tmbcalc under ``folder``."""
    return [n for n in listing(folder) if "tmbcalc-tmp" in n or "tmbcalc-lock" in n or ".tmp-" in n]


def one_line(proc: subprocess.CompletedProcess, code: int, *needles: str) -> str:
    err = proc.stderr
    assert proc.returncode == code, (proc.returncode, err)
    assert err.count("\n") == 1 and "Traceback" not in err, err
    for n in needles:
        assert n in err, (n, err)
    return err


def without_times(data: bytes, name: str) -> str:
    """Output text with run times (created_utc, input modification times) blanked (a tabix index:
    its bytes, in hex)."""
    if name.endswith(".tbi"):
        return data.hex()
    text = gzip.decompress(data).decode() if name.endswith(".gz") else data.decode()
    text = re.sub(r'"(created_utc|modified_utc)": "[^"]*"', r'"\1": "T"', text)
    return re.sub(r"created \S+", "created T", text)


def outputs_text(prefix: Path) -> dict[str, str]:
    return {s: without_times(Path(str(prefix) + s).read_bytes(), s) for s in TMB_OUT}


def start_paused(args: list[str], cwd: Path | None = None, pause: float = 30) -> subprocess.Popen:
    """Start a run that pauses before publishing; returns once it announced the pause."""
    env = {**os.environ, "TMBCALC_TEST_PAUSE_BEFORE_PUBLISH": str(pause)}
    proc = subprocess.Popen([*exe(), *args], stderr=subprocess.PIPE, text=True, env=env, cwd=cwd)
    line = proc.stderr.readline()
    assert "test hook: pausing" in line, line
    return proc


# -- A. outputs never hurt inputs --------------------------------------------------------------------

def test_output_that_is_an_input_is_refused(shared, tmp_path):
    """tmb/msi scan/msi baseline/callable/calibrate apply with an output equal to an input (by
    name, symlink, hard link, or an input's index) -> exit 2 before any work, inputs unchanged."""
    ref = tmp_path / "ref.fa"
    shutil.copy(shared / FASTA, ref)
    (tmp_path / "link.fa").symlink_to(ref)
    os.link(ref, tmp_path / "hard.fa")
    loci = tmp_path / "loci.tsv"
    assert run_cli("msi", "scan", "--reference", str(ref), "-o", str(loci)).returncode == 0
    panel = tmp_path / "o.tmb.tsv"                     # a footprint BED that happens to be named like an output
    shutil.copy(shared / BED, panel)
    vcf = tmp_path / "calls.vcf.gz"
    shutil.copy(shared / VCF, vcf)
    shutil.copy(str(shared / VCF) + ".tbi", str(vcf) + ".tbi")
    tsv_in = tmp_path / "t.calibrated.tsv"
    tsv_in.write_text("sample\ttmb\nS1\t12.5\n")
    bed = shared / GHGA / "seqc2.bed"
    cov = tmp_path / "c.coverage.tsv"
    shutil.copy(bed, cov)
    cases = [
        (["tmb", str(vcf), "--bed", str(panel), "--consequences", "all", "-o", str(tmp_path / "o")], "o.tmb.tsv"),
        (["tmb", str(vcf), "--bed", str(panel), "--consequences", "all", "-o", str(vcf)[:-len(".gz")]],
         None),                                       # calls.vcf.tmb.json etc. do not clash: allowed
        (["msi", "scan", "--reference", str(ref), "-o", str(ref)], "ref.fa"),
        (["msi", "scan", "--reference", str(ref), "-o", str(tmp_path / "link.fa")], "link.fa"),
        (["msi", "scan", "--reference", str(tmp_path / "hard.fa"), "-o", str(ref)], "ref.fa"),
        (["msi", "scan", "--reference", str(tmp_path / "link.fa"), "-o", str(ref)], "ref.fa"),
        (["msi", "scan", "--reference", str(ref), "-o", str(ref) + ".fai"], "ref.fa.fai"),
        (["msi", "baseline", str(shared / BAM), "--loci", str(loci), "-o", str(loci)], "loci.tsv"),
        (["callable", str(shared / GHGA / "WES_LL_T_1_test.bam"), "--bed", str(cov), "--min-depth", "20",
          "-o", str(tmp_path / "c")], "c.coverage.tsv"),
        (["calibrate", "apply", "--model", "f1cdx__to__wes-merino__deming__v1", "--input", str(tsv_in),
          "-o", str(tmp_path / "t")], "t.calibrated.tsv"),
    ]
    for args, clash in cases:
        inputs = [p for p in tmp_path.iterdir() if p.is_file() and not p.is_symlink()]
        before, names = digest(inputs), listing(tmp_path)
        r = run_cli(*args)
        if clash is None:
            assert r.returncode == 0, r.stderr
            for p in tmp_path.glob("calls.vcf.*"):
                if p.name not in ("calls.vcf.gz", "calls.vcf.gz.tbi"):
                    p.unlink()
        else:
            one_line(r, 2, clash, "would overwrite an input")
            assert listing(tmp_path) == names, args
        assert digest(inputs) == before, args
    assert not leftovers(tmp_path)


def test_api_write_refuses_an_input(shared, tmp_path):
    """Library callers get the same protection: result.write(prefix) checks the result's inputs."""
    from tmbcalc.errors import UsageError
    from tmbcalc.tmb import compute_tmb

    bed = tmp_path / "x.tmb.tsv"
    shutil.copy(shared / BED, bed)
    res = compute_tmb(str(shared / VCF), bed=str(bed), consequences=["all"])
    with pytest.raises(UsageError, match="would overwrite an input"):
        res.write(tmp_path / "x")
    assert bed.read_bytes() == (shared / BED).read_bytes() and listing(tmp_path) == ["x.tmb.tsv"]


# -- B. one set, published under a lock --------------------------------------------------------------

def _min_vaf_of_set(prefix: Path) -> set:
    doc = json.loads(Path(str(prefix) + ".tmb.json").read_text())
    found = {doc["provenance"]["parameters"]["overrides"]["min_vaf"]}
    for s in (".tmb.tsv", ".variants.tsv.gz"):
        text = without_times(Path(str(prefix) + s).read_bytes(), s)
        found.add(float(re.search(r'"min_vaf": ([0-9.]+)', text).group(1)))
    return found


def test_concurrent_runs_on_one_prefix_leave_one_consistent_set(shared, tmp_path):
    """Two runs with different --min-vaf publishing to one prefix: the first renames slowly (as on a
    network filesystem, 0.5 s per file), the second starts publishing in the middle of that.  The
    JSON, TSV and variants report always come from one run (without the prefix lock: JSON from the
    second run, TSV and variants from the first, every round)."""
    prefix = tmp_path / "o"
    seen = set()
    slow = {**os.environ, "TMBCALC_TEST_PAUSE_BEFORE_PUBLISH": "0.3", "TMBCALC_TEST_RENAME_DELAY": "0.5"}
    fast = {**os.environ, "TMBCALC_TEST_PAUSE_BEFORE_PUBLISH": "0.8"}
    for _ in range(3):
        procs = [subprocess.Popen([*exe(), *tmb_args(shared, prefix, "--min-vaf", v)], stderr=subprocess.PIPE,
                                  text=True, env=env) for v, env in (("0.3", slow), ("0.05", fast))]
        for p in procs:
            _, err = p.communicate(timeout=TIMEOUT)
            assert p.returncode == 0, err
        got = _min_vaf_of_set(prefix)
        assert len(got) == 1, f"mixed output set: {got}"
        seen |= got
        assert not leftovers(tmp_path)
    assert seen <= {0.3, 0.05}


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_signal_during_writing_cleans_up(shared, tmp_path, sig):
    """SIGTERM/SIGINT while the files are written (before publishing): exit 128+N, one line,
    no temporary folder, no output; a rerun gives the outputs of an uninterrupted run."""
    ref_prefix = tmp_path / "ref" / "o"
    assert run_cli(*tmb_args(shared, ref_prefix)).returncode == 0
    expected = outputs_text(ref_prefix)
    out = tmp_path / "run"
    prefix = out / "o"
    proc = start_paused(tmb_args(shared, prefix))
    assert any("tmbcalc-tmp" in n for n in listing(out))           # the private temporary folder exists
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=TIMEOUT)
    one_line(subprocess.CompletedProcess([], proc.returncode, "", err), 128 + sig, "stopped by")
    assert not out.exists()                                       # created for the run, removed again
    assert run_cli(*tmb_args(shared, prefix)).returncode == 0
    assert outputs_text(prefix) == {k: v.replace(str(ref_prefix), str(prefix)) for k, v in expected.items()}
    assert not leftovers(out)


def test_sigkill_then_rerun_removes_stale_temporaries(shared, tmp_path):
    """SIGKILL cannot be handled: the temporary folder stays, previous outputs are untouched; the
    next run to the prefix removes it (its process is gone) and publishes identical outputs."""
    prefix = tmp_path / "o"
    assert run_cli(*tmb_args(shared, prefix)).returncode == 0
    expected = outputs_text(prefix)
    before = digest(Path(str(prefix) + s) for s in TMB_OUT)
    proc = start_paused(tmb_args(shared, prefix, "--min-vaf", "0.2"))
    proc.kill()
    proc.wait(timeout=TIMEOUT)
    assert len([p for p in tmp_path.iterdir() if p.name.startswith(".o.tmbcalc-tmp-")]) == 1
    assert digest(Path(str(prefix) + s) for s in TMB_OUT) == before   # the killed run published nothing
    assert run_cli(*tmb_args(shared, prefix)).returncode == 0
    assert outputs_text(prefix) == expected
    assert not leftovers(tmp_path)


def test_failed_publication_rolls_back(shared, tmp_path):
    """A rename that fails while publishing (a folder appears at PREFIX.variants.tsv.gz after the
    files were written): exit 1, one line naming that file, the files already moved get their
    previous content back, nothing temporary stays.  A folder there from the start: exit 2."""
    prefix = tmp_path / "o"
    assert run_cli(*tmb_args(shared, prefix)).returncode == 0
    before = digest(Path(str(prefix) + s) for s in TMB_OUT[:2])
    proc = start_paused(tmb_args(shared, prefix, "--min-vaf", "0.2"), pause=1.5)
    variants = Path(str(prefix) + ".variants.tsv.gz")
    variants.unlink()
    variants.mkdir()
    _, err = proc.communicate(timeout=TIMEOUT)
    one_line(subprocess.CompletedProcess([], proc.returncode, "", err), 1, "o.variants.tsv.gz",
             "cannot publish output")
    assert digest(Path(str(prefix) + s) for s in TMB_OUT[:2]) == before
    assert not leftovers(tmp_path)
    r = run_cli(*tmb_args(shared, prefix))
    one_line(r, 2, "o.variants.tsv.gz", "is a folder")
    assert digest(Path(str(prefix) + s) for s in TMB_OUT[:2]) == before and not leftovers(tmp_path)
    # callable: its .bed.gz and .tbi are published with the rest of the set or not at all
    cdir = tmp_path / "callable"
    proc = start_paused(["callable", str(shared / GHGA / "WES_LL_T_1_test.bam"), "--bed",
                         str(shared / GHGA / "seqc2.bed"), "--min-depth", "20", "-o", str(cdir / "c")], pause=1.5)
    (cdir / "c.coverage.tsv").mkdir()
    _, err = proc.communicate(timeout=TIMEOUT)
    one_line(subprocess.CompletedProcess([], proc.returncode, "", err), 1, "c.coverage.tsv", "cannot publish")
    assert listing(cdir) == ["c.coverage.tsv"]


def test_output_prefixes(shared, tmp_path):
    """``-o ''`` and ``-o dir/`` are refused (exit 2, nothing written); ``-o new/sub/S1`` creates
    the folders; a run that fails removes the folders it created."""
    for bad, needle in (("", "empty output prefix"), (str(tmp_path) + "/", "names a folder"),
                        (str(tmp_path) + "/.", "names a folder")):
        one_line(run_cli(*tmb_args(shared, bad)), 2, needle)
        one_line(run_cli("msi", "scan", "--reference", str(shared / FASTA), "-o", bad), 2, needle)
    assert listing(tmp_path) == []
    r = run_cli(*tmb_args(shared, tmp_path / "new" / "sub" / "S1"))
    assert r.returncode == 0, r.stderr
    assert sorted(p.name for p in (tmp_path / "new" / "sub").iterdir()) == sorted("S1" + s for s in TMB_OUT)
    one_line(run_cli("tmb", str(tmp_path / "missing.vcf"), "--bed", str(shared / BED), "-o",
                     str(tmp_path / "other" / "sub" / "S1")), 1, "missing.vcf")
    assert not (tmp_path / "other").exists()
    (tmp_path / "afile").write_text("x")
    one_line(run_cli(*tmb_args(shared, tmp_path / "afile" / "S1")), 2, "afile", "is not a folder")


# -- C. streams -----------------------------------------------------------------------------------------

def _numbers(prefix: Path) -> list[str]:
    """The data rows of PREFIX.tmb.tsv (no comment/provenance lines)."""
    return [ln for ln in Path(str(prefix) + ".tmb.tsv").read_text().splitlines() if not ln.startswith("#")]


def test_fifo_and_process_substitution_give_the_file_numbers(shared, tmp_path):
    """A named FIFO fed the VCF, ``<(zcat VCF)``, ``<(cat VCF)`` and a BED given as ``<(cat BED)``
    give the numbers of the files; provenance names the stream and carries the checksum of
    what was read; a FIFO nobody writes to is an error after the stream timeout, not a hang;
    a BAM given as a stream is refused."""
    vcf, bed = shared / VCF, shared / BED
    assert run_cli(*tmb_args(shared, tmp_path / "file")).returncode == 0
    expected = _numbers(tmp_path / "file")
    assert expected[1].split("\t")[2] == "80"                     # 80 eligible of this tumour (file run)
    fifo = tmp_path / "calls.fifo"
    os.mkfifo(fifo)
    feeder = subprocess.Popen(["sh", "-c", f"cat '{vcf}' > '{fifo}'"])
    r = subprocess.run([*exe(), *tmb_args(shared, tmp_path / "fifo", vcf=str(fifo))], capture_output=True,
                       text=True, timeout=TIMEOUT)
    feeder.wait(timeout=TIMEOUT)
    assert r.returncode == 0, r.stderr
    assert _numbers(tmp_path / "fifo") == expected
    tmbcalc = " ".join(exe())
    for name, cmd in (("zcat", f"{tmbcalc} tmb <(zcat '{vcf}')"), ("cat", f"{tmbcalc} tmb <(cat '{vcf}')"),
                      ("bed", f"{tmbcalc} tmb '{vcf}'")):
        bed_arg = f"<(cat '{bed}')" if name == "bed" else f"'{bed}'"
        r = subprocess.run(["bash", "-c", f"{cmd} --bed {bed_arg} --consequences all --quiet -o '{tmp_path / name}'"],
                           capture_output=True, text=True, timeout=TIMEOUT)
        assert r.returncode == 0, r.stderr
        assert _numbers(tmp_path / name) == expected, name
    prov = json.loads((tmp_path / "zcat.tmb.json").read_text())["provenance"]["inputs"]["input"]
    assert prov["path"].startswith("/dev/fd/") and prov["stream"] is True
    assert prov["sha256"] == hashlib.sha256(gzip.decompress(vcf.read_bytes())).hexdigest()
    env = {**os.environ, "TMBCALC_STREAM_TIMEOUT": "1"}
    r = subprocess.run([*exe(), *tmb_args(shared, tmp_path / "nowriter", vcf=str(fifo))], capture_output=True,
                       text=True, timeout=TIMEOUT, env=env)
    one_line(r, 1, "calls.fifo", "delivered no data")
    r = subprocess.run(["bash", "-c", f"{tmbcalc} callable <(cat '{shared / GHGA / 'WES_LL_T_1_test.bam'}') "
                        f"--bed '{shared / GHGA / 'seqc2.bed'}' --min-depth 20 -o '{tmp_path / 'bam'}'"],
                       capture_output=True, text=True, timeout=TIMEOUT)
    one_line(r, 1, "/dev/fd/", "pipe or stream")
    assert not list(tmp_path.glob("nowriter*")) and not list(tmp_path.glob("bam*"))
    assert not [p for p in Path(os.environ.get("TMPDIR", "/tmp")).glob(".tmbcalc-inputs*")
                if f"-{feeder.pid}-" in p.name]


def test_signal_while_reading_a_stream_removes_its_copy(shared, tmp_path):
    """SIGTERM while a stream is being copied (its writer stalls halfway): exit 143 at once, one
    line, the private copy removed, no output."""
    fifo = tmp_path / "calls.fifo"
    os.mkfifo(fifo)
    half = (shared / VCF).read_bytes()[:30000]
    feeder = subprocess.Popen([sys.executable, "-c", "import sys, time; f = open(sys.argv[1], 'wb'); "
                               "f.write(open(sys.argv[2], 'rb').read()); f.flush(); time.sleep(60)",
                               str(fifo), str(tmp_path / "half")])
    (tmp_path / "half").write_bytes(half)
    tmpdir = tmp_path / "tmp"
    tmpdir.mkdir()
    proc = subprocess.Popen([*exe(), *tmb_args(shared, tmp_path / "o", vcf=str(fifo))], stderr=subprocess.PIPE,
                            text=True, env={**os.environ, "TMPDIR": str(tmpdir)})
    try:
        for _ in range(200):                                    # until the copy has started
            copies = [p for p in tmpdir.rglob("calls.fifo") if p.stat().st_size > 0]
            if copies:
                break
            subprocess.run(["sleep", "0.05"])
        assert copies, "the stream copy never started"
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=TIMEOUT)
    finally:
        feeder.kill()
        feeder.wait()
    one_line(subprocess.CompletedProcess([], proc.returncode, "", err), 143, "stopped by SIGTERM")
    assert listing(tmpdir) == [] and not list(tmp_path.glob("o.*")) and not leftovers(tmp_path)


# -- D. write errors name the file --------------------------------------------------------------------

def test_write_error_names_the_output_and_publishes_nothing(shared, tmp_path, monkeypatch, capsys):
    """A real kernel write error (file size limit -> EFBIG) in a subprocess, and ENOSPC (disk full)
    in-process: exit 1, one line naming the output file (not a temporary one), nothing left."""
    import resource

    def small_files() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)

    r = subprocess.run([*exe(), *tmb_args(shared, tmp_path / "out" / "s")], capture_output=True, text=True,
                       preexec_fn=small_files, timeout=TIMEOUT)
    one_line(r, 1, "out/s.variants.tsv.gz", "cannot write output", "nothing was published")
    assert "tmbcalc-tmp" not in r.stderr and not (tmp_path / "out").exists()

    from tmbcalc import cli, output

    class Full:
        def __init__(self, path):
            self._fh = open(path, "wb")

        def write(self, data):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

        def __getattr__(self, name):
            return getattr(self._fh, name)

    monkeypatch.setattr(output, "_raw_open", Full)
    prefix = tmp_path / "full" / "s"
    code = cli.main(tmb_args(shared, prefix))
    err = capsys.readouterr().err
    assert code == 1 and err.count("\n") == 1, err
    assert f"{prefix}.tmb.json: cannot write output: No space left on device (disk full" in err
    assert not (tmp_path / "full").exists()


def test_lock_and_stale_sweep_units(tmp_path):
    """The prefix lock excludes a second holder until released and leaves no file; a temporary
    folder of a dead process on this host is swept, one of a live process is kept."""
    import fcntl

    from tmbcalc.output import OutputError, _PrefixLock, host_tag, remove_stale

    with _PrefixLock(tmp_path, "o", "o"):
        lock = tmp_path / ".o.tmbcalc-lock"
        fd = os.open(lock, os.O_RDWR)
        with pytest.raises(BlockingIOError):
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        os.close(fd)
        os.environ["TMBCALC_LOCK_TIMEOUT"] = "0.2"
        try:
            with pytest.raises(OutputError, match="another tmbcalc run"):
                with _PrefixLock(tmp_path, "o", "o"):
                    pass
        finally:
            del os.environ["TMBCALC_LOCK_TIMEOUT"]
    assert listing(tmp_path) == []
    dead = subprocess.Popen(["true"])
    dead.wait()
    stale = tmp_path / f".o.tmbcalc-tmp-{host_tag()}-{dead.pid}-abcd"
    live = tmp_path / f".o.tmbcalc-tmp-{host_tag()}-{os.getppid()}-abcd"
    other = tmp_path / f".o.tmbcalc-tmp-otherhost-{dead.pid}-abcd"
    for d in (stale, live, other):
        d.mkdir()
        (d / "o.tmb.json").write_text("{}")
    assert remove_stale(tmp_path, "o") == [stale]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([live.name, other.name])
