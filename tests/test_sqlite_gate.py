"""The SQLite gate: in-process writers wait for each other at the gate, never in SQLite."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest
from sqlalchemy import text

from mobility.db import create_db_engine
from mobility.sqlite_gate import GatedConnection, gate_for, is_write


def _open(path: Path) -> GatedConnection:
    # No busy timeout: a writer that met SQLite's lock would fail at once ("database is locked").
    connection = sqlite3.connect(path, timeout=0, factory=GatedConnection, check_same_thread=False)
    assert isinstance(connection, GatedConnection)
    return connection


def _write(connection: GatedConnection, value: int) -> None:
    statement = "INSERT INTO t VALUES (?)"
    connection.before(statement)
    connection.execute(statement, (value,))


def test_a_second_writer_waits_at_the_gate_until_the_first_commits(tmp_path: Path) -> None:
    path = tmp_path / "gate.db"
    setup = sqlite3.connect(path)
    setup.execute("PRAGMA journal_mode=WAL")
    setup.execute("CREATE TABLE t (x INTEGER)")
    setup.close()
    first, second = _open(path), _open(path)
    _write(first, 1)  # holds the write lock (and the gate) until it commits
    failures: list[BaseException] = []

    def contend() -> None:
        try:
            _write(second, 2)
            second.commit()
        except BaseException as error:  # pragma: no cover - what the gate prevents
            failures.append(error)

    waiting = threading.Thread(target=contend)
    waiting.start()
    waiting.join(0.2)
    assert waiting.is_alive()  # blocked at the gate, not failed in SQLite
    # Reads do not wait at the gate (WAL runs them beside the writer).
    assert second.execute("SELECT count(*) FROM t").fetchone() == (0,)
    first.commit()
    waiting.join(10)
    assert not waiting.is_alive()
    assert failures == []
    assert sorted(first.execute("SELECT x FROM t").fetchall()) == [(1,), (2,)]


def test_a_rollback_or_a_close_gives_the_gate_back(tmp_path: Path) -> None:
    path = tmp_path / "gate.db"
    connection = _open(path)
    connection.execute("CREATE TABLE t (x INTEGER)")
    gate = gate_for(str(path))
    _write(connection, 1)
    assert gate.locked()
    connection.rollback()
    assert not gate.locked()
    _write(connection, 2)
    connection.close()
    assert not gate.locked()


def test_only_statements_that_open_a_write_transaction_take_the_gate() -> None:
    assert is_write("  insert into t values (1)")
    assert is_write("UPDATE t SET x = 1")
    assert is_write("DELETE FROM t")
    assert not is_write("SELECT 1")
    assert not is_write("PRAGMA foreign_keys=ON")


def test_the_engines_connections_to_a_file_share_its_gate(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'engine.db'}"
    first, second = create_db_engine(url), create_db_engine(url)  # e.g. the engine and its node
    with first.begin() as db:
        db.execute(text("CREATE TABLE t (x INTEGER)"))
    with first.begin() as db:
        db.execute(text("INSERT INTO t VALUES (1)"))
        assert gate_for(str(tmp_path / "engine.db")).locked()
        with second.connect() as reader:  # a read beside the writer does not wait
            assert reader.execute(text("SELECT count(*) FROM t")).scalar_one() == 0
    assert not gate_for(str(tmp_path / "engine.db")).locked()
    with second.begin() as db:
        assert db.execute(text("SELECT count(*) FROM t")).scalar_one() == 1


def test_comments_do_not_hide_a_write() -> None:
    assert is_write("/* journal */ INSERT INTO t VALUES (1)")
    assert is_write("-- a note\n  UPDATE t SET x = 1")
    assert is_write("WITH x AS (SELECT 1) INSERT INTO t SELECT * FROM x")
    assert is_write("SAVEPOINT sa_savepoint_1")
    assert not is_write("/* only a read */ SELECT 1")


def test_a_writer_that_never_finishes_fails_the_next_one_after_the_timeout(tmp_path: Path) -> None:
    path = tmp_path / "gate.db"
    setup = sqlite3.connect(path)
    setup.execute("CREATE TABLE t (x INTEGER)")
    setup.close()
    holder = _open(path)
    _write(holder, 1)  # never commits
    second = _open(path)
    second.gate_timeout = 0.1
    with pytest.raises(sqlite3.OperationalError, match="database is locked"):
        _write(second, 2)
    holder.rollback()
    _write(second, 3)  # the gate is free again
    second.commit()
