"""User SQL, read-only by construction.

SQL that a user types (``logscan query``, the daemon's socket) and the SQL that reports build run
where writing and file access are impossible, whatever the text says:

1. **The engine refuses writes.** Every user statement runs inside ``BEGIN TRANSACTION READ
   ONLY`` (on the daemon's connection) or on a connection opened ``read_only`` (without a
   daemon). ``EXPLAIN ANALYZE DELETE …`` and friends fail in DuckDB itself.
2. **The engine refuses files.** The daemon's database instance runs with
   ``enable_external_access = false`` and only its private staging directory allowed (where the
   writer stages batches, exports and imports); DuckDB will not re-enable either setting while
   running. A read-only connection opened here has external access off, extension
   auto-install/auto-load off and its configuration locked, unless the user asks for files
   (``logscan query --allow-files``, never through the daemon).
3. **One statement of a read type.** DuckDB's own parser (``extract_statements``) splits the
   text: exactly one statement, of type SELECT (which covers WITH, FROM-first, VALUES,
   DESCRIBE, SHOW, SUMMARIZE) or a plain EXPLAIN. EXPLAIN ANALYZE, PRAGMA, SET, CALL, CHECKPOINT,
   ATTACH, IMPORT/EXPORT, COPY, INSTALL/LOAD and anything that writes are refused with one line.

The filter is the third line of defence, not the first: it gives a clear message before the
engine would refuse.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

from logscan.errors import QueryError, ReadOnlyViolation

TABLES_HINT = "Tables: events, files, problems, quota_snapshots; view: sessions. See 'logscan schema'."
def duckdb_module() -> Any:
    """DuckDB's C++ extension module, ``_duckdb``. The ``duckdb`` package re-exports it
    (``duckdb.connect is _duckdb.connect``, the same exception classes) and adds a Python layer
    for relations, Arrow and pandas that logscan does not use and that takes 0.1-0.2 s to import:
    more than a whole report should take. The package is the fallback where the extension is
    laid out differently."""
    try:
        import _duckdb

        return _duckdb
    except ImportError:  # pragma: no cover  (older layouts)
        import duckdb

        return duckdb


ALLOWED = "one SELECT (also WITH, FROM, VALUES, DESCRIBE, SHOW, SUMMARIZE) or a plain EXPLAIN"


def _kind(st: Any) -> str:
    return str(st.type).rsplit(".", 1)[-1]


def _is_explain_analyze(sql: str) -> bool:
    """Whether an EXPLAIN statement profiles (runs) its query: ANALYZE/ANALYSE anywhere before the
    query itself starts, in either syntax (``EXPLAIN ANALYZE …``, ``EXPLAIN (ANALYZE) …``)."""
    duckdb = duckdb_module()

    try:
        tokens = duckdb.tokenize(sql)
    except Exception:  # noqa: BLE001  (cannot tell: treat it as the dangerous kind)
        return True
    for pos, kind in tokens:
        if "comment" in str(kind).lower():
            continue
        m = re.match(r"[A-Za-z_]+", sql[pos:])
        word = m.group(0).upper() if m else ""
        if word in ("ANALYZE", "ANALYSE"):
            return True
        if word in ("SELECT", "WITH", "FROM", "VALUES", "TABLE", "DESCRIBE", "SHOW", "SUMMARIZE", "PIVOT", "UNPIVOT"):
            return False
    return False


def check_statement(con: Any, sql: str) -> None:
    """Raise unless ``sql`` is exactly one statement of a read type (see the module docstring)."""
    try:
        statements = con.extract_statements(sql)
    except Exception as e:  # a parse error: let DuckDB's own message through
        raise QueryError(f"{e}\n{TABLES_HINT}") from e
    if not statements:
        raise QueryError("No SQL statement given. Example: logscan query \"SELECT model, sum(cost_usd) FROM events GROUP BY 1\"")
    if len(statements) > 1:
        raise ReadOnlyViolation(
            f"'logscan query' runs one statement per call; this text has {len(statements)}. Run them one at a time."
        )
    st = statements[0]
    kind = _kind(st)
    if kind == "EXPLAIN" and _is_explain_analyze(st.query):
        kind = "EXPLAIN ANALYZE"
    if kind not in ("SELECT", "EXPLAIN"):
        raise ReadOnlyViolation(f"'logscan query' is read-only and runs {ALLOWED}; this one is {kind}: {st.query.strip()[:80]}")


def run(con: Any, sql: str, params: Any = None) -> tuple[list[str], list[tuple[Any, ...]]]:
    """Run user SQL on a new cursor of ``con`` (see ``run_on``); the cursor is closed after."""
    cur = con.cursor()
    try:
        return run_on(cur, sql, params)
    finally:
        cur.close()


def run_on(cur: Any, sql: str, params: Any = None) -> tuple[list[str], list[tuple[Any, ...]]]:
    """Check ``sql`` (``check_statement``), then run it on ``cur`` inside a read-only transaction
    that is rolled back. Returns (column names, rows). Raises ReadOnlyViolation for a refused
    statement, a write or a file the engine refused, QueryError for any other DuckDB error."""
    duckdb = duckdb_module()

    check_statement(cur, sql)
    cur.execute("BEGIN TRANSACTION READ ONLY")
    try:
        res = cur.execute(sql, params or [])
        if res.description is None:
            return [], []
        return [d[0] for d in res.description], res.fetchall()
    except duckdb.Error as e:
        first = str(e).splitlines()[0]
        if isinstance(e, duckdb.TransactionException) and "read-only" in first:
            raise ReadOnlyViolation(f"'logscan query' cannot change the store: {first}") from e
        if isinstance(e, duckdb.PermissionException) or "disabled by configuration" in first:
            raise ReadOnlyViolation(
                f"'logscan query' reads the store only, not other files: {first}. To join your own "
                "files, run 'logscan query --allow-files' (it opens the store itself, never through the daemon)."
            ) from e
        raise
    finally:
        try:
            cur.execute("ROLLBACK")
        except duckdb.Error:
            pass


def stage_dir(db: Path) -> Path:
    """The store's private staging directory (0700, beside the database): the only place the
    daemon's DuckDB instance may read or write files outside the database itself."""
    d = Path(db).expanduser().absolute().parent / f".{Path(db).name}.stage"
    old = os.umask(0o077)
    try:
        d.mkdir(mode=0o700, exist_ok=True)
    finally:
        os.umask(old)
    st = d.lstat()
    if st.st_uid != os.getuid() or st.st_mode & 0o077 or not d.is_dir() or d.is_symlink():
        os.chmod(d, 0o700) if st.st_uid == os.getuid() and not d.is_symlink() else None
        st = d.lstat()
        if st.st_uid != os.getuid() or st.st_mode & 0o077 or d.is_symlink():
            raise QueryError(f"{d} is not a private directory of this user; remove it and run the command again.")
    return d


def lock_down(con: Any, db: Path) -> None:
    """Forbid file access on ``con``'s database instance except its staging directory. Final:
    DuckDB refuses to turn external access back on while the database is open."""
    d = stage_dir(db)
    con.execute(f"SET allowed_directories = ['{str(d).replace(chr(39), chr(39) * 2)}/']")
    con.execute("SET enable_external_access = false")
    con.execute("SET autoinstall_known_extensions = false")
    con.execute("SET autoload_known_extensions = false")


def connect_read_only(path: Path, *, allow_files: bool = False) -> Any:
    """A read-only connection for user SQL; without ``allow_files`` no file outside the store can
    be read, no extension loaded and no setting changed."""
    duckdb = duckdb_module()

    config: dict[str, Any] = {"autoinstall_known_extensions": False, "autoload_known_extensions": False}
    if not allow_files:
        config.update({"enable_external_access": False, "lock_configuration": True})
    return duckdb.connect(str(path), read_only=True, config=config)
