"""SQLite writers of one process take turns at a gate, not at SQLite's busy handler.

SQLite has one writer per file. When two of the engine's connections want to write at once,
the loser's busy handler sleeps 1, 2, 5, 10, ... up to 100 ms between tries and does not wake
when the lock frees: measured under load, a journal commit that needed 2 ms of CPU waited up to
780 ms behind a ledger write. Here a connection takes its file's gate (one lock for every
connection of the process) before the first write of a transaction, which is where SQLite
takes its write lock, and gives it back when the transaction commits or rolls back: a waiting
writer wakes the moment the one before it is done. Reads never wait at the gate (WAL lets them
run beside the writer), and other processes on the same file (the CLI while the engine runs)
still meet the busy handler.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from typing import Any

_gates: dict[str, threading.Lock] = {}
_gates_guard = threading.Lock()
# DML opens sqlite3's write transaction; WITH may lead to DML and SAVEPOINT opens a transaction
# a later write would run in, so both take the gate too (a read behind them waits, rarely).
_WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE", "WITH", "SAVEPOINT")


def gate_for(database: str) -> threading.Lock:
    """The gate of a database file, shared by every connection of this process to it (an
    in-memory database is private to its connection, so it gets a gate of its own)."""
    if database in ("", ":memory:") or "mode=memory" in database:
        return threading.Lock()
    key = database if database.startswith("file:") else os.path.realpath(database)
    with _gates_guard:
        gate = _gates.get(key)
        if gate is None:
            gate = _gates[key] = threading.Lock()
        return gate


def is_write(statement: str) -> bool:
    """Whether a statement may open a write transaction (leading comments skipped)."""
    text = statement.lstrip()
    while text.startswith(("--", "/*")):
        end = text.find("\n") if text.startswith("--") else text.find("*/") + 1
        if end <= 0:
            return False
        text = text[end + 1 :].lstrip()
    return text[:9].upper().startswith(_WRITES)


class GatedConnection(sqlite3.Connection):
    """A connection that takes its file's gate before a transaction's first write (pass as
    sqlite3's `factory`; whoever executes statements calls `before` for each)."""

    gate_timeout = 30.0  # seconds, as the engine's SQLite busy timeout

    def __init__(self, database: str, *args: Any, **kwargs: Any) -> None:
        super().__init__(database, *args, **kwargs)
        self._gate = gate_for(str(database))
        self._holding = False

    def before(self, statement: str) -> None:
        """Wait for the gate if `statement` is about to open a write transaction; as long as
        `gate_timeout` at most, then fail as SQLite would (a writer that never
        finishes, or a second write transaction opened in the thread that holds the gate,
        must not freeze every writer)."""
        if not self._holding and not self.in_transaction and is_write(statement):
            if not self._gate.acquire(timeout=self.gate_timeout):
                raise sqlite3.OperationalError("database is locked (waited for this process's writers)")
            self._holding = True

    def commit(self) -> None:
        # The gate is given back even if COMMIT fails: the caller rolls back next, and a writer
        # that slips in between meets SQLite's busy handler, as without the gate.
        try:
            super().commit()
        finally:
            self._release()

    def rollback(self) -> None:
        try:
            super().rollback()
        finally:
            self._release()

    def close(self) -> None:
        try:
            super().close()
        finally:
            self._release()

    def _release(self) -> None:
        if self._holding:
            self._holding = False
            self._gate.release()
