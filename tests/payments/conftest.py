"""Fixtures of the payment tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.payments.ledger_world import Setup, make_setup


@pytest.fixture
def setup(database_url: str) -> Iterator[Setup]:
    """The payment engine beside a real in-process ledger node."""
    world = make_setup(database_url)
    yield world
    world.store.engine.dispose()
