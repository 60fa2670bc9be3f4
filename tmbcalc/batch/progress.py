"""Progress and logs of a batch: a tqdm bar on a terminal, plain log lines otherwise, nothing but
the final summary line with ``quiet``; every event is also appended to ``OUTDIR/batch.log``
(UTC time stamps), whatever the display."""
from __future__ import annotations

import datetime as _dt
import sys
from pathlib import Path
from typing import IO

from .job import Outcome


def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).replace(microsecond=0).isoformat()


class Progress:
    """``log(text)`` for events, ``start(total)`` / ``advance(outcome)`` / ``close()`` for the bar."""

    def __init__(self, log_path: Path, *, quiet: bool = False, stream: IO[str] | None = None,
                 bar: bool | None = None) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.quiet = quiet
        self.use_bar = (not quiet) and (self.stream.isatty() if bar is None else bar)
        self._log = open(log_path, "a", encoding="utf-8")
        self._bar = None
        self.done = self.total = 0

    def log(self, text: str, *, show: bool = True) -> None:
        """One event: to the log file; to the terminal unless quiet (above the bar when there is one)."""
        self._log.write(f"{_now()}\t{text}\n")
        self._log.flush()
        if self.quiet or not show:
            return
        if self._bar is not None:
            self._bar.write(f"tmbcalc batch: {text}", file=self.stream)
        else:
            print(f"tmbcalc batch: {text}", file=self.stream, flush=True)

    def start(self, total: int) -> None:
        self.total = total
        if self.use_bar and total:
            from tqdm import tqdm

            self._bar = tqdm(total=total, file=self.stream, unit="sample", dynamic_ncols=True,
                             desc="tmbcalc batch")

    def started(self, sample: str, worker: str) -> None:
        """A sample given to a worker (``worker`` "pid N"), or queued on a Dask cluster ("dask")."""
        self.log(f"{sample}: submitted to Dask" if worker == "dask" else f"{sample}: started ({worker})", show=False)

    def advance(self, o: Outcome) -> None:
        self.done += 1
        what = {"ok": "ok", "reused": "reused (outputs up to date)", "failed": f"FAILED: {o.error}"}[o.run_status]
        figures = "" if o.run_status == "reused" or o.seconds is None else \
            f" in {o.seconds:.2f} s, peak {o.peak_rss_mb} MB ({o.worker})"
        # on a terminal the bar shows progress; only failures get a line of their own
        self.log(f"[{self.done}/{self.total}] {o.sample}: {what}{figures}",
                 show=self._bar is None or o.run_status == "failed")
        if self._bar is not None:
            self._bar.update(1)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None
        self._log.close()
