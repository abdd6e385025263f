"""The sweep engine: a spec in, a tidy table out (Parquet on disk), resumable, local or on Dask.

>>> df = fastinit.sweep("examples/quick.toml", out="results/quick")
>>> df = fastinit.load("results/quick")
"""
from __future__ import annotations

import importlib
import os
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:   # imported when first used: ``import fastinit`` stays light
    import pandas as pd

    from .plan import Chunk
    from .spec import Spec

BACKENDS = ("local", "dask")

__all__ = ["sweep", "load", "load_spec", "Spec", "SpecError", "plan_sweep"]


def __getattr__(name):
    if name in ("Spec", "SpecError", "load_spec"):
        return getattr(importlib.import_module("fastinit.sweep.spec"), name)
    raise AttributeError(f"module 'fastinit.sweep' has no attribute {name!r}")


def available_memory() -> int:
    """Bytes of memory available now (MemAvailable), or physical memory where unknown."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


def plan_sweep(spec, max_memory: int | None = None, threads: int | None = None) -> tuple[Spec, list[Chunk]]:
    """Validate a spec, cut it into chunks and check each fits in memory, before any work."""
    from .plan import check_networks, chunk_memory, chunks, describe
    from .spec import SpecError, load_spec
    from .training import check_training, training_chunks, training_memory
    spec = load_spec(spec)
    try:
        parts = training_chunks(spec) if spec.train else chunks(spec)
        for c in parts:
            (check_training if spec.train else check_networks)(c)
    except (ValueError, TypeError) as e:
        raise SpecError(f"invalid sweep spec:\n  {e}") from None
    limit = max_memory if max_memory is not None else available_memory()
    for c in parts:
        need = training_memory(c, threads) if spec.train else chunk_memory(c, threads)
        if need > limit:
            raise MemoryError(f"configuration config_id={c.config_ids[0]} ({describe(c)}) needs about "
                              f"{need / 2**30:.2f} GiB for a chunk of {c.size}, more than the "
                              f"{limit / 2**30:.2f} GiB allowed (max_memory / available); lower batch, width "
                              f"or settings.chunk_size")
    return spec, parts


def _progress(total: int, initial: int, enabled: bool, name: str):
    from tqdm.auto import tqdm
    return tqdm(total=total, initial=initial, unit="config", desc=name, dynamic_ncols=True,
                disable=not enabled or not sys.stderr.isatty())


def check_sweep_options(out, backend, progress, resume, overwrite, threads, max_memory) -> None:
    """The options of :func:`sweep`, checked before anything runs or is written."""
    from .._validate import check_bool, check_choice, check_int
    check_choice("backend", backend, BACKENDS)
    for name, flag in (("progress", progress), ("resume", resume), ("overwrite", overwrite)):
        check_bool(name, flag)
    if threads is not None:
        check_int("threads", threads, 1)
    if max_memory is not None:
        check_int("max_memory (bytes)", max_memory, 1)
    if out is not None:
        if not isinstance(out, (str, os.PathLike)):
            raise TypeError(f"out={out!r} must be a folder path")
        if os.path.exists(out) and not os.path.isdir(out):
            raise ValueError(f"out={os.fspath(out)!r} is a file, not a folder")


def sweep(spec, out=None, *, backend: str = "local", progress: bool = True, resume: bool = True,
          overwrite: bool = False, scheduler: str | None = None, threads: int | None = None,
          max_memory: int | None = None) -> pd.DataFrame:
    """Run every configuration of a spec and return the tidy table.

    Parameters
    ----------
    spec : path, TOML text, dict or Spec
    out : path, optional
        Result folder; finished chunks are stored there as they complete, and a rerun computes
        only what is missing. Without ``out`` nothing is written.
    backend : {"local", "dask"}
        ``"dask"`` runs chunks on a ``dask.distributed`` cluster (``scheduler`` address, or a
        ``LocalCluster`` of 2 single-threaded workers); the client alone writes results.
    progress : bool
        A progress bar on a terminal.
    resume, overwrite : bool
        Skip stored chunks; replace another spec's results in ``out``.
    threads : int, optional
        Numba threads per process.
    max_memory : int, optional
        Bytes a chunk may use (default: the memory available now).

    Returns
    -------
    pandas.DataFrame
        One row per configuration and layer, sorted by ``config_id`` and ``layer``.
    """
    import pandas as pd

    from .plan import compute_chunk, expected_parts, layout
    from .store import Store, table
    from .training import compute_training_chunk, expected_training_parts
    check_sweep_options(out, backend, progress, resume, overwrite, threads, max_memory)
    spec, parts = plan_sweep(spec, max_memory, threads)
    compute = compute_training_chunk if spec.train else compute_chunk
    expected = expected_training_parts(parts) if spec.train else expected_parts(parts)
    store = Store(out) if out is not None else None
    done = store.open(spec, len(parts), layout(parts), expected, resume=resume,
                      overwrite=overwrite) if store else set()
    todo = [c for c in parts if c.chunk_id not in done]
    results: list[pd.DataFrame] = []
    bar = _progress(spec.n_configs, sum(c.size for c in parts if c.chunk_id in done), progress, spec.name)

    def finished(chunk: Chunk, df: pd.DataFrame) -> None:
        if store is not None:
            store.write(chunk.chunk_id, df, chunk.size)
        else:
            results.append(df)
        bar.update(chunk.size)

    try:
        if backend == "local":
            for c in todo:
                finished(c, compute(c, threads))
        else:
            _run_dask(todo, compute, scheduler, threads, finished)
    finally:
        bar.close()
        if store is not None:
            store.close()
    if store is not None:
        return store.load()
    if not results:
        return pd.DataFrame()
    return table(results)


def _run_dask(todo: list[Chunk], compute, scheduler: str | None, threads: int | None, finished) -> None:
    try:
        from dask.distributed import Client, LocalCluster, as_completed
    except ImportError:  # pragma: no cover
        raise ImportError(
            "backend='dask' needs the 'distributed' extra: pip install 'fastinit[distributed]'"
        ) from None
    cluster = None
    if scheduler:
        client = Client(scheduler)
    else:
        cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None)
        client = Client(cluster)
    try:
        by_key = {}
        futures = []
        for c in todo:
            fut = client.submit(
                compute,
                c,
                threads or 1,
                pure=False,
                retries=3,
                key=f"fastinit-chunk-{c.chunk_id}-{os.getpid()}",
            )
            by_key[fut.key] = c
            futures.append(fut)
        for fut in as_completed(futures):
            finished(by_key[fut.key], fut.result())
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def load(out) -> pd.DataFrame:
    """Read a sweep's stored table back (sorted by ``config_id`` and ``layer``)."""
    from .store import Store
    return Store(out).load()
