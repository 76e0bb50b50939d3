"""Backfill on several cores: worker processes read, parse and price whole files; the parent,
the only process with the database open, merges their batches and commits them.

Each worker runs the very same ``Ingestor.process`` as the serial path, on an Ingestor whose
store is never written (it only hands the file's stored position in), so both paths share one
implementation of reading, detection, state and pricing. Results are taken in the planned order,
so which copy of a duplicated event is stored first does not depend on scheduling.
"""

from __future__ import annotations

import atexit
import gc
import multiprocessing
import multiprocessing.pool
import os
import signal
from collections import Counter, deque
from collections.abc import Sequence
from dataclasses import fields
from typing import Any

from logscan.ingest.plan import Summary, planned_bytes, same_file
from logscan.store.store import Batch, FileState, utcnow

_WORKER: Any = None
FLUSH_EVENTS = 8192  # while workers parse, the parent commits every this many events
TAIL_SHARE = 0.05  # ... and in the last 5% of the bytes,
TAIL_FLUSH_EVENTS = 1024  # every this many
_PRESTARTED: tuple[Any, int, str, Any] | None = None  # (pool, workers, host, factory) from prestart()


class _PositionsOnly:
    """Just enough of a Store for a worker's Ingestor: the stored positions of its files."""

    def __init__(self) -> None:
        self.states: dict[str, FileState] = {}

    def file_states(self) -> dict[str, FileState]:
        return self.states


def _init_worker(host: str, factory: Any) -> None:
    global _WORKER
    # Ctrl-C reaches the whole process group: the parent stops the pool and reports what was
    # committed; a worker must not die on it with a traceback of its own.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _WORKER = factory(_PositionsOnly(), host=host, batch_events=1 << 62)  # type: ignore[arg-type]
    try:
        _WORKER.pricer.warm()  # load the price data now, not inside the first file
    except Exception:  # noqa: BLE001  (a bad override file is reported by the first task, not here:
        pass  # an initializer that raises makes the pool restart its workers forever)
    # Parsing allocates millions of short-lived dicts that trigger the cyclic collector again and
    # again for nothing (they are freed by reference counting). It runs once per file instead.
    gc.disable()
    _keep_freed_memory()


def _keep_freed_memory() -> None:
    """glibc gives freed memory back to the kernel (blocks above 128 KiB are unmapped, the top of
    the heap trimmed), and the next file's buffers then fault the same pages in again: about 55
    faults per MB of log, several microseconds each on a VM. A worker only parses, file after
    file, so it keeps what it freed (mallopt; a no-op where the C library has no mallopt)."""
    import ctypes

    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return
    mallopt(-3, 32 << 20)  # M_MMAP_THRESHOLD: read buffers (8 MiB) come from the heap
    mallopt(-1, 256 << 20)  # M_TRIM_THRESHOLD: and stay there once freed


def _context() -> Any:
    return multiprocessing.get_context("fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn")


class _Pool(multiprocessing.pool.Pool):
    """``multiprocessing.Pool`` whose worker-maintenance thread does not also wait on the result
    pipe. It watches the workers' exits and the "cache emptied" notifier (enough to restart a
    dead worker and to shut down); waiting on the result pipe as well woke it about 30 times per
    result while that result waited to be read (7,727 wake-ups for 255 files, each taking the GIL
    from the thread that reads results)."""

    def _get_sentinels(self) -> list[Any]:
        return [self._change_notifier._reader]  # type: ignore[attr-defined]


def _new_pool(workers: int, host: str, factory: Any) -> Any:
    if _context().get_start_method() == "fork":
        # The price data (importing genai_prices and building its snapshot: ~0.2 s of CPU) is
        # loaded once here and inherited, instead of once in every worker after the fork.
        from logscan.pricing import load_price_data

        load_price_data()
    # Objects that exist before the fork are shared copy-on-write; freezing them keeps the
    # workers' garbage collector from touching (and so copying) every inherited page.
    gc.freeze()
    try:
        return _Pool(workers, initializer=_init_worker, initargs=(host, factory), context=_context())
    finally:
        gc.unfreeze()


def prestart(workers: int, host: str, factory: Any, first_read: Sequence[tuple[str, os.stat_result]] | None = None) -> None:
    """Start the worker processes ahead of ``run_parallel``, so that they load the parsers and the
    price data while the caller opens the store (``logscan backfill`` does this for a first,
    large ingest). ``factory`` is the ingestor class the workers instantiate (``Ingestor``: passed in,
    so that this module does not import the one that drives it). An unused pool is terminated at exit.

    ``first_read``: when there is no store yet, nothing has been read and the work is known
    before the store opens: the files (as ``discover`` found them) are handed to the workers at
    once, so they parse while the store is created. ``run_parallel`` takes those results only if
    the tasks it computes are exactly these (same files, same stat, nothing read before);
    otherwise they are dropped unmerged and the files are parsed again."""
    global _PRESTARTED
    if _PRESTARTED is None:
        pool = _new_pool(workers, host, factory)
        early = None
        if first_read is not None:
            tasks = ordered_tasks([(path, st, None) for path, st in first_read])
            started = utcnow()  # before any task can be taken
            early = (_task_keys(tasks), pool.imap(_work_group, group_tasks(tasks), chunksize=1), started)
        _PRESTARTED = (pool, workers, host, factory, early)


def _task_keys(tasks: Sequence[tuple[str, os.stat_result, FileState | None]]) -> list[tuple[Any, ...]]:
    """What makes two task lists the same work: each file, its identity as stat saw it, and
    where reading starts."""
    return [(p, st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, prev is None) for p, st, prev in tasks]


def _take_pool(ing: Any, workers: int, tasks: Sequence[tuple[str, os.stat_result, FileState | None]]) -> tuple[Any, Any]:
    """A pool for ``tasks`` and the iterator of their results: the prestarted pool's, when it
    already runs exactly these tasks (the run then started when they did: ``ing``'s start time
    moves back, so that "events by tool" counts what they ingested); else new results (from the
    prestarted pool when it fits)."""
    host, factory = ing.host, type(ing)
    global _PRESTARTED
    pre, _PRESTARTED = _PRESTARTED, None
    pool = None
    if pre is not None:
        if pre[1:4] == (workers, host, factory):
            pool = pre[0]
            early = pre[4]
            if early is not None:
                if early[0] == _task_keys(tasks):
                    ing._started = min(ing._started, early[2])
                    return pool, early[1]
                # Other work than was started early: its results are never merged. The pool is
                # replaced, so that no worker is still busy with the early tasks.
                pool.terminate()
                pool = None
        else:
            pre[0].terminate()
    if pool is None:
        pool = _new_pool(workers, host, factory)
    return pool, pool.imap(_work_group, group_tasks(tasks), chunksize=1)


@atexit.register
def _drop_prestarted() -> None:
    global _PRESTARTED
    if _PRESTARTED is not None:
        _PRESTARTED[0].terminate()
        _PRESTARTED = None


def ordered_tasks(tasks: list[tuple[str, os.stat_result, FileState | None]]) -> list[tuple[str, os.stat_result, FileState | None]]:
    """The order tasks are run in. A database (OpenCode's) is one task that cannot be split and
    takes as long as hundreds of log files: started last, it would run alone on one core at the
    end. Databases go first (stable: the rest keep the planned order, the same on every run)."""
    return sorted(tasks, key=lambda t: not t[0].endswith(".db"))


def _work(task: tuple[str, os.stat_result, FileState | None]) -> tuple[Batch, Any]:
    path, st, prev = task
    ing = _WORKER
    ing.states = {path: prev} if prev is not None else {}
    ing.batch = Batch()
    ing.summary = Summary()
    ing.process(path, st)
    gc.collect(0)  # the cycles of this file, if any (everything it allocated is still young)
    return ing.batch, ing.summary


def _work_group(group: list[tuple[str, os.stat_result, FileState | None]]) -> list[tuple[Batch, Any]]:
    """Several small files in one task: each file still gets its own batch and summary (exactly
    what ``_work`` returns for it), only the round-trips to the parent are shared."""
    return [_work(task) for task in group]


GROUP_FILE_BYTES = 256 * 1024  # files at most this big (to read) are sent to workers in groups
GROUP_FILES = 64  # of at most this many files
GROUP_BYTES = 4 * 1024 * 1024  # and this many bytes


def group_tasks(tasks: Sequence[tuple[str, os.stat_result, FileState | None]]) -> list[list[tuple[str, os.stat_result, FileState | None]]]:
    """``tasks`` in the same order, cut into groups: consecutive small files (thousands of
    OpenCode message files of a few KB each) share a group, up to GROUP_FILES files or
    GROUP_BYTES bytes; a bigger file or a database is a group of its own, so the big ones still
    spread over the workers one by one."""
    groups: list[list[tuple[str, os.stat_result, FileState | None]]] = []
    size = 0
    open_group = False
    for task in tasks:
        path, st, prev = task
        n = max(st.st_size - (prev.offset if prev else 0), 0)
        small = n <= GROUP_FILE_BYTES and not path.endswith(".db")
        if small and open_group and len(groups[-1]) < GROUP_FILES and size + n <= GROUP_BYTES:
            groups[-1].append(task)
            size += n
            continue
        groups.append([task])
        size, open_group = n, small
    return groups


def merge_batch(into: Batch, part: Batch) -> None:
    for f in fields(Batch):
        mine, theirs = getattr(into, f.name), getattr(part, f.name)
        if isinstance(mine, list):
            mine.extend(theirs)
        elif isinstance(mine, dict):
            mine.update(theirs)


def merge_summary(into: Any, part: Any) -> None:
    for f in fields(into):
        mine, theirs = getattr(into, f.name), getattr(part, f.name)
        if isinstance(mine, Counter):
            mine.update(theirs)
        elif isinstance(mine, int):  # counters (a worker never commits: its new_* stay 0)
            setattr(into, f.name, mine + theirs)


def run_parallel(ing: Any, todo: Sequence[tuple[str, os.stat_result]], workers: int) -> None:
    """Process ``todo`` with ``workers`` processes into ``ing``'s batches (flushed by ``ing``)."""
    tasks = []
    for path, st in todo:
        prev = ing.states.get(path)
        if prev is not None and prev.missing_since is None and same_file(prev, path, st):
            ing.summary.files_seen += 1
            ing.summary.files_unchanged += 1  # nothing to read: no need to ship it to a worker
            continue
        tasks.append((path, st, prev))
    if not tasks:
        return
    tasks = ordered_tasks(tasks)
    # Commit as results come in, so the parent's commits overlap the workers' parsing. Near the
    # end (the last TAIL_SHARE of the bytes) it checkpoints the store once and then commits in
    # smaller batches, so that little is left to do after the last file is parsed.
    left = sum(st.st_size - (prev.offset if prev else 0) for _, st, prev in tasks)
    tail = left * TAIL_SHARE
    # The workers have the cores: the parent's DuckDB works on one thread meanwhile instead of
    # having its threads contend with them (less CPU in all, measured).
    ing.store.set_threads(1)
    try:
        _run_tasks(ing, tasks, workers, left, tail)
    finally:
        ing.store.set_threads(None)


def _run_tasks(ing: Any, tasks: list[tuple[str, os.stat_result, FileState | None]], workers: int, left: int, tail: float) -> None:
    checkpointed = False
    pool, results = _take_pool(ing, workers, tasks)
    with pool:
        pending: deque[tuple[Batch, Any]] = deque()  # the results of a group, in task order
        for i, (path, st, prev) in enumerate(tasks):
            if not pending:
                pending.extend(results.next())
            batch, summary = pending.popleft()
            merge_batch(ing.batch, batch)
            merge_summary(ing.summary, summary)
            for fs in batch.files.values():
                ing.states[fs.path] = fs
            if ing.progress:
                ing.progress(planned_bytes(prev, path, st))  # the file's share, as planned
            left -= st.st_size - (prev.offset if prev else 0)
            if left > tail:
                ing._maybe_flush(FLUSH_EVENTS)
                continue
            if not checkpointed:
                checkpointed = True
                ing.flush()
                ing.store.checkpoint()
            if i + 1 == len(tasks):
                break  # the caller's last flush commits the rest
            if pending:
                continue  # the next result is already here (see below)
            try:
                # When the next result is already here, take it before committing: the last
                # results tend to arrive together, and each commit has a fixed cost.
                pending.extend(results.next(timeout=0))
                continue
            except multiprocessing.TimeoutError:
                pass
            ing._maybe_flush(TAIL_FLUSH_EVENTS)
