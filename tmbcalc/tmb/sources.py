"""The variant input of a TMB run as chunks of :class:`~tmbcalc.variants.VariantTable`.

A VCF/BCF is streamed (``chunk_rows`` rows per chunk, read one chunk ahead on a background thread
while the kernel releases the GIL); a MAF is read whole (one chunk).  Positions are 0-based inside.
Also: the header-level probe used to check rule requirements before reading records, the genome
build an input declares, and the optional population-frequency resource joined per chunk.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from ..errors import InputError, UsageError, require_readable
from ..io.sniff import is_tabular_text
from ..variants import COLUMNS, VariantTable
from .profiles import Profile


def read_variants(path: str | Path, *, tumor_sample: str | None = None, normal_sample: str | None = None,
                  profile: Profile, reference: str | Path | None = None, threads: int = 1) -> VariantTable:
    """Read VCF/BCF (htslib kernel) or MAF (detected by its header) into a VariantTable."""
    p = require_readable(path, "input")
    if is_tabular_text(p):           # not VCF/BCF: a MAF (read_maf names any missing column)
        from ..io.maf import read_maf

        table = read_maf(p, pop_af_fields=profile.pop_af_fields, reference=reference)
        if len(table) == 0:    # its samples come from the records: there is no tumor to report
            raise InputError("MAF has no variant records (header only): no tumor sample to report, so no TMB", p)
        if tumor_sample is not None:
            if tumor_sample not in table.samples:
                raise UsageError(f"tumor_sample '{tumor_sample}' is not a Tumor_Sample_Barcode of {p} "
                                 f"({len(table.samples)} samples, e.g. {', '.join(table.samples[:3])})",
                                 params=("tumor_sample",))
            idx = table.samples.index(tumor_sample)
            sub = table.take(table["sample"] == idx)
            sub.columns["sample"][:] = 0
            sub.samples = [tumor_sample]
            sub.allele_text = _take_text(table.allele_text, np.flatnonzero(table["sample"] == idx))
            table = sub
        return table
    from ..io.vcf import read_vcf

    return read_vcf(p, tumor_sample=tumor_sample, normal_sample=normal_sample,
                    pop_af_fields=tuple(profile.pop_af_fields), csq_pick=profile.csq_pick,
                    keep_alleles=True, threads=threads)


def _take_text(text, rows: np.ndarray):
    if text is None:
        return None
    buf, off = text
    starts, ends = off[rows], off[rows + 1]
    lens = ends - starts
    new_off = np.zeros(rows.size + 1, dtype=np.int64)
    np.cumsum(lens, out=new_off[1:])
    if rows.size == 0:
        return np.empty(0, np.uint8), new_off
    idx = np.repeat(starts - new_off[:-1], lens) + np.arange(int(new_off[-1]))
    return buf[idx], new_off


class VariantSource:
    """The variant input as chunks: a streamed VCF/BCF, or a MAF read whole (one chunk)."""

    def __init__(self, kind: str, source: str, samples: list[str], meta: dict[str, Any], chunks, closer=None,
                 final=None) -> None:
        self.kind, self.source, self.samples, self.meta = kind, source, samples, meta
        self._chunks, self._closer, self._final = chunks, closer, final

    def __iter__(self):
        return iter(self._chunks)

    def final_meta(self) -> dict[str, Any]:
        return dict(self._final() if self._final is not None else self.meta)

    def rename_sample(self, name: str) -> None:
        """Report the input's one tumor as ``name`` (``--sample``), in the tallies and every chunk."""
        if len(self.samples) != 1:
            raise UsageError(f"sample_name names one tumor but {Path(self.source).name} holds {len(self.samples)} "
                             f"({', '.join(self.samples[:5])}); pick one with tumor_sample",
                             params=("sample_name", "tumor_sample"))
        self.samples = [name]
        chunks = self._chunks

        def renamed():
            for chunk in chunks:
                chunk.samples = [name]
                yield chunk
        self._chunks = renamed()

    def close(self) -> None:
        if self._closer is not None:
            self._closer()


def prefetch(iterable, depth: int = 1):
    """Iterate ``iterable`` on a background thread, ``depth`` items ahead (the VCF kernel releases
    the GIL, so reading the next chunk overlaps evaluating and reporting the current one).
    Returns (generator, stop function)."""
    import queue
    import threading

    q: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()
    end = object()

    def produce() -> None:
        try:
            for item in iterable:
                while not stop.is_set():
                    try:
                        q.put(("item", item), timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    break
            else:
                q.put(("end", end))
                return
        except BaseException as exc:             # handed to the consumer
            q.put(("error", exc))
            return
        finally:
            if stop.is_set() and hasattr(iterable, "close"):
                iterable.close()

    th = threading.Thread(target=produce, name="tmbcalc-vcf-reader", daemon=True)
    th.start()

    def gen():
        while True:
            kind, item = q.get()
            if kind == "end":
                th.join()
                return
            if kind == "error":
                th.join()
                raise item
            yield item

    def halt() -> None:
        stop.set()
        while th.is_alive():
            try:
                q.get(timeout=0.05)
            except Exception:
                pass
        th.join()

    return gen(), halt


def open_source(path: str | Path, *, tumor_sample: str | None, normal_sample: str | None, profile: Profile,
                reference: str | Path | None, threads: int, chunk_rows: int) -> VariantSource:
    """Open VCF/BCF for chunked reading (header checked now), or read a MAF whole."""
    p = require_readable(path, "input")
    if is_tabular_text(p):
        table = read_variants(p, tumor_sample=tumor_sample, normal_sample=normal_sample, profile=profile,
                              reference=reference, threads=threads)
        return VariantSource("maf", table.source, list(table.samples), dict(table.meta), [table])
    from ..io.vcf import iter_vcf_chunks

    vc = iter_vcf_chunks(p, chunk_rows=chunk_rows, tumor_sample=tumor_sample, normal_sample=normal_sample,
                         pop_af_fields=tuple(profile.pop_af_fields), csq_pick=profile.csq_pick,
                         keep_alleles=True, threads=threads)
    it = iter(vc)
    gen, halt = prefetch(it, depth=2)
    return VariantSource("vcf", str(p), list(vc.samples), dict(vc.meta), gen, closer=halt,
                   final=lambda: getattr(vc, "final_meta", vc.meta))


def check_positions(table: VariantTable, source: str) -> None:
    """Refuse records placed beyond their contig's end (lengths from the VCF header's ##contig
    lines; contigs without a length are not checked).  Positions are 0-based."""
    lengths = table.meta.get("contig_lengths") or {}
    if not lengths or not len(table):
        return
    pos, contig = table["pos"], table["contig"]
    for ci, name in enumerate(table.contigs):
        size = lengths.get(name, 0)
        if size <= 0:
            continue
        sel = contig == ci
        if sel.any() and int(pos[sel].max()) >= size:
            bad = int(pos[sel].max())
            raise InputError(f"record at {name}:{bad + 1} lies beyond the end of contig {name} ({size:,} bp in the "
                             f"header): wrong genome build or a corrupt record", source)


def maf_header_probe(path: str | Path, profile: Profile, pop_af_resource: str | Path | None) -> VariantTable | None:
    """For a MAF: a probe of what its header offers (:func:`tmbcalc.io.maf.header_probe`); None for
    VCF/BCF (checked from its header by the reader) or a MAF the reader will refuse anyway."""
    p = require_readable(path, "input")
    if not is_tabular_text(p):
        return None
    from ..io.maf import header_probe

    probe = header_probe(p, profile.pop_af_fields)
    if probe is not None and pop_af_resource is not None:
        probe.meta["pop_af_resource"] = str(pop_af_resource)
    return probe


def probe_table(meta: dict[str, Any], source: str, samples: list[str], *, pop_af_checked_later: bool,
                 pop_af_resource: str | Path | None, pop_af_seen: bool = False) -> VariantTable:
    """One placeholder row carrying the input's metadata, for :func:`check_requirements`: what a VCF
    lacks is decided by its header (``missing_fields``); only whether a declared population-AF
    field ever holds a value depends on the data (``pop_af_seen``)."""
    cols = {k: np.full(1, np.nan, dtype=t) if np.dtype(t).kind == "f" else np.zeros(1, dtype=t)
            for k, t in COLUMNS.items()}
    m = dict(meta)
    if pop_af_resource is not None:
        m["pop_af_resource"] = str(pop_af_resource)
    m["has_pop_af"] = True if pop_af_checked_later else (bool(m.get("has_pop_af")) or pop_af_seen)
    return VariantTable(cols, ["1"], list(samples), source, m, None)


def read_pop_af_resource(resource: str | Path, prof: Profile) -> VariantTable:
    from ..io.vcf import read_vcf

    # in a population resource the plain INFO/AF is the population frequency: read it too
    fields = tuple(dict.fromkeys([*prof.pop_af_fields, "AF"]))
    return read_vcf(resource, pop_af_fields=fields, keep_alleles=False)


def join_pop_af(table: VariantTable, res: VariantTable) -> None:
    """pop_af := max(own, resource AF of the same contig, position and alleles), in place."""
    from .hotspots import join_sites

    af = join_sites(table, res, res["pop_af"].astype(np.float64))
    cur = table["pop_af"].astype(np.float64)
    table.columns["pop_af"] = np.fmax(cur, af).astype(np.float32)


__all__ = ["read_variants", "VariantSource", "open_source", "prefetch", "probe_table",
           "read_pop_af_resource", "join_pop_af"]
