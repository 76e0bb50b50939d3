"""The daemon's eyes: which files changed, and nothing else.

``Pending`` is what changed and is not read yet: dirty files (each with the monotonic time it was
first marked, so the writer can tell the lag), dirty directories, and two requests (re-check the
roots; reconcile everything). The observer threads fill it, the writer empties it (``take``).

``Watcher`` owns the watchdog observer (inotify on Linux, FSEvents on macOS, ``PollingObserver``
with ``poll=True``): one recursive watch per root, never per file, with an ``event_filter`` so
the watch ignores open/access noise. Handlers do no I/O: they only mark paths. A root that does
not exist yet is waited for by a directory-only watch on its nearest existing parent (and
re-checked at every health check). When native watching fails (inotify limits), it falls back
to polling and says so once, with the sysctl to raise.
"""

from __future__ import annotations

import errno
import logging
import os
import threading
import time
from pathlib import Path
from typing import Any

from logscan.service.logs import event


class Pending:
    """Changes seen but not read yet. Thread-safe; ``wake`` is set on every change."""

    def __init__(self, wake: threading.Event) -> None:
        self.wake = wake
        self._lock = threading.Lock()
        self.files: dict[str, float] = {}  # path -> monotonic time it was first marked
        self.dirs: set[str] = set()
        self.roots_changed = False
        self.reconcile_requested = False

    def mark(self, path: str) -> None:
        from logscan.sources.parsers import candidates

        if path.endswith("-wal"):  # SQLite sources (OpenCode): the WAL changes, not the db
            path = path[:-4]
        if not candidates(path):
            return
        with self._lock:
            self.files.setdefault(path, time.monotonic())
        self.wake.set()

    def mark_dir(self, path: str) -> None:
        with self._lock:
            self.dirs.add(path)
        self.wake.set()

    def request_reconcile(self) -> None:
        self.reconcile_requested = True
        self.wake.set()

    def request_root_check(self) -> None:
        self.roots_changed = True
        self.wake.set()

    def take(self) -> tuple[dict[str, float], set[str]]:
        """Everything marked so far, and an empty set in its place."""
        with self._lock:
            files, self.files = self.files, {}
            dirs, self.dirs = self.dirs, set()
        return files, dirs

    def oldest(self) -> tuple[float | None, int]:
        """(monotonic time of the oldest unread change or None, number of dirty files)."""
        with self._lock:
            return min(self.files.values(), default=None), len(self.files)


class _DirtyHandler:
    """Marks paths dirty. No I/O and nothing that can raise: an exception here kills the observer."""

    def __init__(self, pending: Pending) -> None:
        self.pending = pending

    def dispatch(self, ev: Any) -> None:
        try:
            paths = [ev.src_path, getattr(ev, "dest_path", "") or ""]
            if ev.is_directory:
                if ev.event_type in ("created", "moved", "deleted"):
                    for p in paths:
                        if p:
                            self.pending.mark_dir(os.fsdecode(p))
                    # A root may have appeared here (OpenCode's storage/ beside opencode.db: this
                    # watch also stands in for a parent watch on the same folder, see check_roots).
                    self.pending.request_root_check()
                return
            if ev.event_type == "closed" and os.fsdecode(ev.src_path).endswith(("-wal", "-shm")):
                return  # SQLite opens its -wal/-shm for writing even to read: a close is no write
            for p in paths:
                if p:
                    self.pending.mark(os.fsdecode(p))
        except Exception:  # noqa: S110 - see the class docstring
            pass


class _ParentHandler:
    """On the nearest existing parent of a root that does not exist yet: any directory change
    makes the writer re-check the roots."""

    def __init__(self, pending: Pending) -> None:
        self.pending = pending

    def dispatch(self, ev: Any) -> None:
        try:
            self.pending.request_root_check()
        except Exception:  # noqa: S110
            pass


class OverflowHook(logging.Handler):
    """watchdog logs an inotify queue overflow but does not tell the handler what changed."""

    def __init__(self, pending: Pending) -> None:
        super().__init__(logging.WARNING)
        self.pending = pending

    def emit(self, record: logging.LogRecord) -> None:
        if "overflow" in record.getMessage().lower():
            self.pending.request_reconcile()


def _watch_filter() -> list[Any]:
    from watchdog.events import (
        DirCreatedEvent,
        DirDeletedEvent,
        DirMovedEvent,
        FileClosedEvent,
        FileCreatedEvent,
        FileDeletedEvent,
        FileModifiedEvent,
        FileMovedEvent,
    )

    return [FileModifiedEvent, FileCreatedEvent, FileMovedEvent, FileDeletedEvent, FileClosedEvent,
            DirCreatedEvent, DirMovedEvent, DirDeletedEvent]


def inotify_watches_in_use() -> int | None:
    """Watches this process holds on its inotify instances, read from the kernel
    (``/proc/self/fdinfo``); None where that cannot be read (not Linux)."""
    try:
        fds = os.listdir("/proc/self/fd")
    except OSError:
        return None
    n = 0
    for fd in fds:
        try:
            if os.readlink(f"/proc/self/fd/{fd}") != "anon_inode:inotify":
                continue
            with open(f"/proc/self/fdinfo/{fd}") as f:
                n += sum(1 for line in f if line.startswith("inotify wd:"))
        except OSError:
            continue
    return n


def directories_under(root: Path) -> int:
    """The folders a recursive inotify watch of ``root`` needs (root included; links not followed,
    as watchdog does)."""
    n = 0
    stack = [str(root)]
    while stack:
        d = stack.pop()
        n += 1
        try:
            with os.scandir(d) as it:
                stack.extend(e.path for e in it if e.is_dir(follow_symlinks=False))
        except OSError:
            continue
    return n


INOTIFY_HINT = ("inotify watch limit reached; raise it with: sudo sysctl fs.inotify.max_user_watches=524288 "
                "(and add fs.inotify.max_user_watches=524288 to /etc/sysctl.d/90-logscan.conf to keep it)")


class Watcher:
    """The observer and its watches over ``roots`` (a list the daemon fills at start)."""

    def __init__(self, roots: list[Path], pending: Pending, *, poll: bool = False, poll_interval: float = 10.0) -> None:
        self.roots = roots
        self.pending = pending
        self.poll = poll
        self.poll_requested = poll  # polling by choice (--poll), not as a fallback
        self.poll_interval = poll_interval
        self.observer: Any = None
        self.root_watches: dict[Path, Any] = {}
        self.parent_watches: dict[str, Any] = {}
        self.dir_watches: dict[str, Any] = {}  # folder -> the one non-recursive watch of file roots in it
        self.restarts = 0
        self.degraded: str | None = None  # why native watching was given up for polling
        self.overflow_hook = OverflowHook(pending)

    @property
    def kind(self) -> str:
        if self.observer is None:
            return "none"
        name = type(self.observer).__name__
        return {"InotifyObserver": "inotify", "FSEventsObserver": "fsevents", "PollingObserver": "polling"}.get(name, name)

    @property
    def alive(self) -> bool:
        obs = self.observer
        return bool(obs is not None and obs.is_alive())

    def pending_roots(self) -> list[Path]:
        return [r for r in self.roots if r not in self.root_watches]

    # -- lifecycle -----------------------------------------------------------------------
    def start(self) -> None:
        logging.getLogger("watchdog.observers").addHandler(self.overflow_hook)
        self._start_observer()
        self.check_watch_budget()

    def stop(self) -> None:
        logging.getLogger("watchdog.observers").removeHandler(self.overflow_hook)
        if self.observer is not None:
            self._stop_observer(self.observer)
            self.observer = None

    def _new_observer(self) -> Any:
        if self.poll:
            from watchdog.observers.polling import PollingObserver

            return PollingObserver(timeout=self.poll_interval)
        from watchdog.observers import Observer

        return Observer()

    def _start_observer(self) -> None:
        try:
            obs = self._new_observer()
            self.observer = obs
            self.root_watches.clear()
            self.parent_watches.clear()
            self.dir_watches.clear()
            obs.start()
            self.check_roots(scan_new=False)
        except OSError as e:
            if self.poll:
                raise
            self._fall_back_to_polling(e)

    def _fall_back_to_polling(self, e: OSError) -> None:
        hint = ""
        if e.errno == errno.ENOSPC:
            hint = INOTIFY_HINT
        elif e.errno == errno.EMFILE:
            hint = "inotify instance limit reached; raise it with: sudo sysctl fs.inotify.max_user_instances=512"
        event(logging.WARNING, "native file watching failed; polling instead", error=str(e), hint=hint or "-",
              poll_interval=self.poll_interval)
        self.degraded = f"{e.strerror or e}; {hint}" if hint else str(e)
        if self.observer is not None:
            self._stop_observer(self.observer)
        self.poll = True
        self._start_observer()
        self.pending.reconcile_requested = True

    def watch_shortfall(self) -> int:
        """How many folders the native observer should watch but does not. watchdog skips a
        subfolder whose watch fails (the kernel's max_user_watches ran out) without a word, so
        the watches the kernel holds for this process are counted against the folders that need
        one. 0 when polling or where the kernel cannot be asked."""
        if self.kind != "inotify":
            return 0
        held = inotify_watches_in_use()
        if held is None:
            return 0
        recursive = [r for r, w in self.root_watches.items() if getattr(w, "is_recursive", False)]
        folders = {str(r) for r in recursive}
        need = sum(directories_under(r) for r in recursive) + len(set(self.dir_watches) - folders) + len(set(self.parent_watches) - folders)
        return max(0, need - held)

    def check_watch_budget(self) -> None:
        """Fall back to polling when folders went unwatched (checked twice: a folder created a
        moment ago may not have its watch yet)."""
        if self.watch_shortfall() <= 0:
            return
        time.sleep(0.3)
        missing = self.watch_shortfall()
        if missing > 0:
            self._fall_back_to_polling(OSError(errno.ENOSPC, f"inotify watch limit reached: {missing} folder(s) could not be watched"))

    def _stop_observer(self, obs: Any) -> None:
        try:
            obs.stop()
            obs.join(timeout=5)
        except Exception as e:  # a dead observer may complain; it is being replaced anyway
            event(logging.WARNING, "observer stop failed", error=f"{type(e).__name__}: {e}")

    # -- roots ---------------------------------------------------------------------------
    def check_roots(self, scan_new: bool = True) -> None:
        """Watch roots that exist now; wait for the others on their nearest existing parent.

        One folder never gets two watches. watchdog's inotify emitters share one inotify
        instance, where a second watch on a folder replaces the first one's event mask and
        removing either removes both: a parent watch (created/moved only) on the folder that
        holds opencode.db made its -wal writes invisible. So a folder watched for file roots
        (non-recursively, full mask) also serves as the parent watch (its handler asks for a
        root check on folder events), and unwanted parent watches are removed before new
        watches are added."""
        from watchdog.events import DirCreatedEvent, DirMovedEvent, FileCreatedEvent, FileMovedEvent

        obs = self.observer
        if obs is None:
            return
        self.pending.roots_changed = False
        for root, watch in list(self.root_watches.items()):
            if not root.exists():
                event(logging.WARNING, "root disappeared; waiting for it", root=root)
                del self.root_watches[root]
                if watch not in self.root_watches.values():  # a folder watch other file roots still use stays
                    self._unschedule(watch)
                    for d, w in list(self.dir_watches.items()):
                        if w is watch:
                            del self.dir_watches[d]
                self.pending.mark_dir(str(root))
        new_dirs: list[Path] = []
        new_files: list[Path] = []
        wanted_parents: set[str] = set()
        for root in self.roots:
            if root in self.root_watches:
                continue
            if root.is_dir():
                new_dirs.append(root)
            elif root.exists():
                new_files.append(root)
            else:
                parent = root.parent
                while not parent.is_dir() and parent != parent.parent:
                    parent = parent.parent
                wanted_parents.add(str(parent))
        file_dirs = set(self.dir_watches) | {str(r.parent) for r in new_files}
        wanted_parents -= file_dirs  # served by the folder's own file-root watch
        for p, watch in list(self.parent_watches.items()):
            if p not in wanted_parents:
                self._unschedule(watch)
                del self.parent_watches[p]
        for root in new_dirs:
            self.root_watches[root] = obs.schedule(_DirtyHandler(self.pending), str(root), recursive=True, event_filter=_watch_filter())
            event(logging.INFO, "watching root", root=root)
            if scan_new:
                self.pending.mark_dir(str(root))  # files created before the watch existed
        for root in new_files:
            # A single-file source (OpenCode's opencode.db): watch its folder, not recursively,
            # so its -wal sibling is seen too; file roots in one folder share that watch.
            d = str(root.parent)
            if d not in self.dir_watches:
                self.dir_watches[d] = obs.schedule(_DirtyHandler(self.pending), d, recursive=False, event_filter=_watch_filter())
            self.root_watches[root] = self.dir_watches[d]
            event(logging.INFO, "watching file", root=root)
            if scan_new:
                self.pending.mark(str(root))
        for p in wanted_parents - set(self.parent_watches):
            try:
                self.parent_watches[p] = obs.schedule(
                    _ParentHandler(self.pending), p, recursive=False, event_filter=[DirCreatedEvent, DirMovedEvent, FileCreatedEvent, FileMovedEvent]
                )
            except OSError as e:
                event(logging.WARNING, "cannot watch parent of a missing root; relying on the periodic check", path=p, error=str(e))

    def _unschedule(self, watch: Any) -> None:
        try:
            self.observer.unschedule(watch)
        except Exception:  # noqa: S110 - inotify already dropped a deleted directory
            pass

    def health(self) -> None:
        """Restart a dead observer (and ask for a full rescan), or re-check the roots."""
        obs = self.observer
        alive = obs is not None and obs.is_alive() and all(e.is_alive() for e in list(obs.emitters))
        if not alive:
            self.restarts += 1
            event(logging.WARNING, "file watcher died; restarting it and rescanning", restarts=self.restarts)
            if obs is not None:
                self._stop_observer(obs)
            self.observer = None
            self._start_observer()
            self.pending.reconcile_requested = True
            return
        self.safe_check_roots()
        self.check_watch_budget()

    def safe_check_roots(self) -> None:
        """``check_roots``, falling back to polling when native watching runs out of resources."""
        try:
            self.check_roots()
        except OSError as e:
            if self.poll:
                raise
            self._fall_back_to_polling(e)
