"""Executors: where the samples of a batch run.  Every executor runs :func:`tmbcalc.batch.job.run_sample`
once per sample (one task per sample) and reports each :class:`Outcome` as it arrives; outputs do
not depend on the executor (each sample is computed single-threaded by the same code).

* :class:`InProcess` - in the calling process, one sample after another (``workers=0``; for
  debugging and for API users who want no extra processes).
* :class:`LocalPool` - N long-lived worker processes on this machine (``--workers N``), each
  started once and fed samples over a pipe: no interpreter start-up per sample.  The pool knows
  which sample each worker holds, so a worker that dies (killed, out of memory, a crash in a
  kernel) costs only that sample: it is retried on a fresh worker up to ``attempts`` times, then
  recorded as failed.  Never waits on a dead worker.
* :class:`DaskExecutor` - Dask distributed (``--scheduler tcp://HOST:PORT`` for an existing
  cluster, e.g. started by dask-jobqueue on Slurm, or a LocalCluster of ``--dask-workers N``
  processes).  A task whose worker dies is rescheduled by the scheduler up to ``attempts``
  times in all (``distributed.scheduler.allowed-failures``), then recorded as failed.  Workers
  must see OUTDIR and the inputs at the same paths (a shared file system).
"""
from __future__ import annotations

import multiprocessing as mp
from collections import deque
from collections.abc import Callable, Sequence
from multiprocessing.connection import wait

from .job import Outcome, SampleJob, run_sample

Done = Callable[[Outcome], None]
Started = Callable[[SampleJob, str], None]


def _noop(*_args) -> None:
    return None


class InProcess:
    name = "in-process"

    def run(self, jobs: Sequence[SampleJob], done: Done, started: Started = _noop) -> None:
        import os

        for job in jobs:
            started(job, f"pid {os.getpid()}")
            done(run_sample(job))


def _worker_main(conn) -> None:
    """Loop of a pool worker: receive a job, send back its outcome; None ends the loop."""
    from .job import warm_up

    warm_up()
    while True:
        try:
            job = conn.recv()
        except EOFError:
            return
        if job is None:
            return
        conn.send(run_sample(job))


class _Worker:
    def __init__(self, ctx) -> None:
        self.conn, child = ctx.Pipe()
        self.proc = ctx.Process(target=_worker_main, args=(child,), daemon=True)
        self.proc.start()
        child.close()
        self.job: SampleJob | None = None

    @property
    def name(self) -> str:
        return f"pid {self.proc.pid}"

    def death(self) -> str:
        self.proc.join(timeout=5)
        code = self.proc.exitcode
        if code is not None and code < 0:
            import signal

            return f"killed by signal {signal.Signals(-code).name}" + (" (out of memory?)" if code == -9 else "")
        return f"exited with code {code}"


class LocalPool:
    name = "local"

    def __init__(self, workers: int, attempts: int = 2) -> None:
        if workers < 1:
            raise ValueError("workers must be >= 1")
        self.workers, self.attempts = workers, max(1, attempts)

    def run(self, jobs: Sequence[SampleJob], done: Done, started: Started = _noop) -> None:
        ctx = mp.get_context("forkserver")
        ctx.set_forkserver_preload(["tmbcalc.batch.job"])
        pending = deque(jobs)
        tries: dict[str, int] = {}
        idle = [_Worker(ctx) for _ in range(min(self.workers, len(jobs)))]
        busy: list[_Worker] = []
        try:
            while pending or busy:
                while idle and pending:
                    w, job = idle.pop(), pending.popleft()
                    tries[job.spec.sample] = tries.get(job.spec.sample, 0) + 1
                    w.job = job
                    w.conn.send(job)
                    busy.append(w)
                    started(job, w.name)
                ready = set(wait([w.conn for w in busy] + [w.proc.sentinel for w in busy]))
                for w in list(busy):
                    if w.conn not in ready and w.proc.sentinel not in ready:
                        continue
                    outcome = None
                    if w.conn in ready:
                        try:
                            outcome = w.conn.recv()
                        except (EOFError, OSError):
                            outcome = None
                    busy.remove(w)
                    job, w.job = w.job, None
                    assert job is not None
                    if outcome is not None:
                        outcome.attempts = tries[job.spec.sample]
                        done(outcome)
                        idle.append(w)
                        continue
                    why = w.death()
                    n = tries[job.spec.sample]
                    if n < self.attempts:
                        pending.appendleft(job)
                    else:
                        done(Outcome(job.spec.sample, "failed", f"worker process {why} while scoring this "
                                     f"sample ({n} attempt{'s' if n > 1 else ''})", worker=w.name, attempts=n))
                    if pending:
                        idle.append(_Worker(ctx))
        finally:
            for w in idle + busy:
                _stop(w)


def _stop(w: _Worker) -> None:
    try:
        w.conn.send(None)
    except (OSError, ValueError):
        pass
    w.proc.join(timeout=2)
    if w.proc.is_alive():
        w.proc.kill()
        w.proc.join()


class DaskExecutor:
    name = "dask"

    def __init__(self, scheduler: str | None = None, n_workers: int | None = None, attempts: int = 2) -> None:
        if scheduler is None and not n_workers:
            raise ValueError("give a scheduler address or a number of local Dask workers")
        self.scheduler, self.n_workers, self.attempts = scheduler, n_workers, max(1, attempts)

    def run(self, jobs: Sequence[SampleJob], done: Done, started: Started = _noop) -> None:
        try:
            import dask
            from distributed import Client, LocalCluster, as_completed
        except ModuleNotFoundError:
            from ..errors import UsageError

            raise UsageError("scheduler/dask_workers need Dask distributed: pip install 'tmbcalc[cluster]'",
                             params=("scheduler", "dask_workers")) \
                from None
        from .job import error_line

        with dask.config.set({"distributed.scheduler.allowed-failures": self.attempts - 1}):
            cluster = None
            if self.scheduler is None:
                cluster = LocalCluster(n_workers=self.n_workers, threads_per_worker=1, processes=True,
                                       dashboard_address=None, silence_logs=50)
            try:
                with Client(cluster if cluster is not None else self.scheduler) as client:
                    futures = {}
                    for job in jobs:
                        fut = client.submit(run_sample, job, key=f"tmbcalc-batch-{job.spec.sample}", pure=False,
                                            retries=0)
                        futures[fut] = job
                        started(job, "dask")
                    for fut in as_completed(futures):
                        job = futures[fut]
                        try:
                            outcome = fut.result()
                        except Exception as exc:  # KilledWorker, a lost scheduler, ...
                            name = type(exc).__name__
                            msg = (f"Dask worker died while scoring this sample ({self.attempts} attempts)"
                                   if name == "KilledWorker" else error_line(exc))
                            outcome = Outcome(job.spec.sample, "failed", msg, worker="dask",
                                              attempts=self.attempts)
                        done(outcome)
            finally:
                if cluster is not None:
                    cluster.close()
