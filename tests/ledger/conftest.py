"""The ledger tests' node: the test network's, funded by its genesis, on a fresh database."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from mobility.ledger.node import Node
from tests.ledger.builders import funded_node


@pytest.fixture
def node(database_url: str) -> Iterator[Node]:
    made = funded_node(database_url)
    yield made
    made.store.engine.dispose()
