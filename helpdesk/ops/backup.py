"""Backup and restore of an installation: database, stores, secret key file, manifest.

A backup is one folder (mode 0700: it holds personal data)::

    manifest.json        format, time, database kind and schema revision, row counts, checksums
    database.sqlite3     SQLite: the database, by the online backup API (consistent while the
    search.sqlite3         app runs), and the search index file beside it, from one snapshot
    database.dump        PostgreSQL: pg_dump's custom format, from the snapshot the counts
                           were read in
    store/raw/...        the content-addressed stores, object by object (hard links where
    store/attachments/     the folder is on the stores' filesystem; the objects never change)
    store/quarantine/
    secret_key           <instance>/secret_key, when there is one

The database is taken first and the stores after: a row is committed only once the object it
names is on disk, so every object the database names is in the stores by then (objects
written later are harmless extras). The folder is written under a temporary name and renamed
when complete, so a backup cut short is never taken for a whole one.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import sqlite3
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from flask import current_app
from sqlalchemy import Connection, Engine, func, inspect, select, text
from sqlalchemy.engine import URL

from helpdesk import clock
from helpdesk.extensions import db, mark_read_only
from helpdesk.ops.health import VERSION_TABLE, code_heads, known_revisions
from helpdesk.stores import stores
from helpdesk.tickets.search import search_file_for
from mail_ingest.rawstore import RawStore, key_for

log = logging.getLogger(__name__)

FORMAT = 1
MANIFEST = "manifest.json"
SQLITE_FILE, SEARCH_FILE, DUMP_FILE = "database.sqlite3", "search.sqlite3", "database.dump"
SECRET_KEY_FILE = "secret_key"  # noqa: S105  (a file name)
STORE_NAMES = ("raw", "attachments", "quarantine")


class BackupError(RuntimeError):
    """A backup or restore that cannot (or must not) go on; the message says why."""


def backup(target: Path) -> dict[str, Any]:
    """Write a backup of this installation to the new folder ``target``; return its manifest."""
    target = Path(target)
    if target.exists():
        raise BackupError(f"{target} exists already; name a new folder")
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.partial-{os.getpid()}")
    partial.mkdir(mode=0o700)
    try:
        manifest = _write(partial)
        _write_private(partial / MANIFEST, json.dumps(manifest, indent=2).encode())
        partial.rename(target)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    return manifest


def _write(folder: Path) -> dict[str, Any]:
    engine = db.engine
    mark_read_only()  # SQLite: a snapshot that holds up no writer
    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            conn = conn.execution_options(isolation_level="REPEATABLE READ")
        with conn.begin():
            revisions, counts = _revisions(conn), _counts(conn)
            if engine.dialect.name == "sqlite":
                files = _sqlite_backup(conn, folder)
            elif engine.dialect.name == "postgresql":
                files = _pg_dump(conn, engine.url, folder)
            else:
                raise BackupError(f"cannot back up a {engine.dialect.name} database")
    store_figures = {
        name: _copy_store(_store(name), folder / "store" / name) for name in STORE_NAMES
    }
    secret = Path(current_app.instance_path) / SECRET_KEY_FILE
    if secret.is_file():
        _write_private(folder / SECRET_KEY_FILE, secret.read_bytes())
        files.append(SECRET_KEY_FILE)
    return {
        "format": FORMAT,
        "created_at": clock.now().isoformat(),
        "database": engine.dialect.name,
        "revisions": sorted(revisions),
        "counts": counts,
        "stores": store_figures,
        "sha256": {name: _sha256(folder / name) for name in files},
    }


def _revisions(conn: Connection) -> list[str]:
    if not inspect(conn).has_table(VERSION_TABLE):
        return []
    return list(conn.scalars(text(f"SELECT version_num FROM {VERSION_TABLE}")))  # noqa: S608


def _counts(conn: Connection) -> dict[str, int]:
    """Rows in every table of the schema (read in the snapshot being backed up)."""
    present = set(inspect(conn).get_table_names())
    return {
        table.name: conn.scalar(select(func.count()).select_from(table)) or 0
        for table in db.metadata.sorted_tables
        if table.name in present
    }


def _sqlite_backup(conn: Connection, folder: Path) -> list[str]:
    """Both files from the snapshot this read transaction holds (it is pinned on the search
    file by reading it)."""
    conn.exec_driver_sql("SELECT count(*) FROM search.sqlite_master").scalar()
    source = conn.connection.driver_connection
    assert isinstance(source, sqlite3.Connection)
    for name, schema in ((SQLITE_FILE, "main"), (SEARCH_FILE, "search")):
        with _closing(sqlite3.connect(folder / name)) as copy:
            source.backup(copy, name=schema)
            # One self-contained file: no -wal beside it, and readable from read-only media.
            copy.execute("PRAGMA journal_mode=DELETE")
        os.chmod(folder / name, 0o600)
    return [SQLITE_FILE, SEARCH_FILE]


def _pg_dump(conn: Connection, url: URL, folder: Path) -> list[str]:
    """pg_dump of the snapshot this transaction holds (exported to it)."""
    snapshot = conn.scalar(text("SELECT pg_export_snapshot()"))
    (folder / DUMP_FILE).touch(mode=0o600)
    _run_pg(
        "pg_dump", url, "--format=custom", f"--snapshot={snapshot}", f"--file={folder / DUMP_FILE}"
    )
    return [DUMP_FILE]


def _run_pg(program: str, url: URL, *args: str) -> None:
    """Run a PostgreSQL client program on ``url`` (the password in the environment, not the
    command line, which every local user can read)."""
    path = shutil.which(program)
    if path is None:
        raise BackupError(f"{program} not found: install postgresql-client")
    libpq = url.set(drivername="postgresql", password=None).render_as_string(hide_password=False)
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    done = subprocess.run(  # noqa: S603  (a fixed program, our own arguments)
        [path, *args, f"--dbname={libpq}"], env=env, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise BackupError(f"{program} failed: {done.stderr.strip()}")


def _store(name: str) -> RawStore:
    store: RawStore = getattr(stores(), name)
    return store


def _copy_store(store: RawStore, target: Path) -> dict[str, int]:
    """Every object of ``store`` into ``target``, laid out alike; its count and bytes."""
    objects = size = 0
    for key in store.keys():  # noqa: SIM118  (a store, not a dict)
        dest = target / key[:2] / key[2:4] / key
        dest.parent.mkdir(parents=True, exist_ok=True)
        try:
            try:
                os.link(store.path(key), dest)
            except OSError:  # another filesystem
                shutil.copyfile(store.path(key), dest)
        except FileNotFoundError:
            continue  # removed since it was listed: no row the backup holds names it
        objects += 1
        size += dest.stat().st_size
    return {"objects": objects, "bytes": size}


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for chunk in iter(lambda: stream.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _write_private(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as stream:
        stream.write(data)
        stream.flush()
        os.fsync(stream.fileno())


@contextmanager
def _closing(connection: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    try:
        yield connection
    finally:
        connection.close()


# Restore


def read_manifest(source: Path) -> dict[str, Any]:
    """The manifest of the backup in ``source``, checked against this code and the files."""
    try:
        manifest: dict[str, Any] = json.loads((Path(source) / MANIFEST).read_text())
    except FileNotFoundError as exc:
        raise BackupError(f"{source} is not a backup: it has no {MANIFEST}") from exc
    if manifest.get("format") != FORMAT:
        raise BackupError(f"unknown backup format {manifest.get('format')!r}")
    unknown = set(manifest["revisions"]) - known_revisions(_migrations())
    if unknown:
        raise BackupError(
            f"the backup's schema ({', '.join(sorted(unknown))}) is newer than this code knows; "
            "restore it with the version of the helpdesk that made it, or a later one"
        )
    for name, expected in manifest["sha256"].items():
        if _sha256(Path(source) / name) != expected:
            raise BackupError(f"{name} in the backup does not match its checksum: it is damaged")
    return manifest


def restore(source: Path, force: bool = False) -> dict[str, Any]:
    """Restore the backup in ``source`` into this installation's database, stores and
    instance folder; refuse a database holding rows unless ``force``. Returns the manifest."""
    source = Path(source)
    manifest = read_manifest(source)
    engine = db.engine
    if manifest["database"] != engine.dialect.name:
        raise BackupError(
            f"a {manifest['database']} backup restores into {manifest['database']}, "
            f"not into {engine.dialect.name}"
        )
    secret = Path(current_app.instance_path) / SECRET_KEY_FILE
    if not force:
        _refuse_to_overwrite(engine)
    db.session.remove()
    engine.dispose()  # no pooled connection of ours stands in the way
    if engine.dialect.name == "sqlite":
        _sqlite_restore(source, engine.url)
    else:
        _run_pg(
            "pg_restore",
            engine.url,
            "--clean",
            "--if-exists",
            "--no-owner",
            "--no-privileges",
            "--single-transaction",
            "--exit-on-error",
            str(source / DUMP_FILE),
        )
    engine.dispose()
    _check_counts(engine, manifest["counts"])
    for name in STORE_NAMES:
        _restore_store(source / "store" / name, _store(name))
    stores().sync()
    if (source / SECRET_KEY_FILE).is_file():
        _replace_private(secret, (source / SECRET_KEY_FILE).read_bytes())
    return manifest


def needs_upgrade(manifest: dict[str, Any]) -> bool:
    """Whether the restored schema is older than this code's (``flask db upgrade`` next)."""
    return set(manifest["revisions"]) != code_heads(_migrations())


def _migrations() -> str:
    directory: str = current_app.extensions["migrate"].directory
    return directory


def _refuse_to_overwrite(engine: Engine) -> None:
    # An empty database means a new installation: the key it made on first start signs no one's
    # session yet, so the backup's key simply replaces it.
    with engine.connect() as conn:
        filled = [
            name
            for name in inspect(conn).get_table_names()
            if name != VERSION_TABLE
            and conn.scalar(text(f'SELECT 1 FROM "{name}" LIMIT 1')) is not None  # noqa: S608
        ]
    if filled:
        raise BackupError(
            f"the database is not empty ({', '.join(sorted(filled)[:5])}...); "
            "restore into an empty one, or pass --force to replace it"
        )


def _sqlite_restore(source: Path, url: URL) -> None:
    main = url.database or ""
    if not main or main == ":memory:":
        raise BackupError("cannot restore into an in-memory database")
    for name, path in ((SQLITE_FILE, main), (SEARCH_FILE, search_file_for(main))):
        with (
            _closing(sqlite3.connect(f"file:{source / name}?mode=ro", uri=True)) as copy,
            _closing(sqlite3.connect(path)) as live,
        ):
            copy.backup(live)


def _check_counts(engine: Engine, expected: dict[str, int]) -> None:
    with engine.connect() as conn:
        found = _counts(conn)
    wrong = {name: (n, found.get(name)) for name, n in expected.items() if found.get(name) != n}
    if wrong:
        details = ", ".join(f"{name} {n} backed up, {m} restored" for name, (n, m) in wrong.items())
        raise BackupError(f"the restored database does not hold what was backed up: {details}")


def _restore_store(folder: Path, store: RawStore) -> None:
    """Every object of the backed-up store into ``store``, each checked against its key."""
    for key in RawStore(folder).keys():  # noqa: SIM118  (a store, not a dict)
        if store.exists(key):
            continue
        data = (folder / key[:2] / key[2:4] / key).read_bytes()
        if key_for(data) != key:
            raise BackupError(f"object {key} in the backup is damaged (its content has changed)")
        store.put(data, sync=False, key=key)


def _replace_private(path: Path, data: bytes) -> None:
    temporary = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    temporary.unlink(missing_ok=True)
    _write_private(temporary, data)
    temporary.replace(path)
