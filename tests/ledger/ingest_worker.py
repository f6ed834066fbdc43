"""A node process for the crash test: ingests a chain of mined blocks forever, printing each ID
only after `Node.submit` has returned (the acknowledgement). Run: python -m tests.ledger.ingest_worker URL
"""

from __future__ import annotations

import sys

from mobility.db import create_db_engine
from mobility.ledger.node import Node
from mobility.ledger.store import GENESIS_ENTRY_POINT, LedgerStore
from mobility.wire.codec import TaggedDataPayload
from tests.ledger.builders import PARAMS, mined


def main(url: str) -> None:
    store = LedgerStore(create_db_engine(url))
    node = Node(store, PARAMS)
    parent = GENESIS_ENTRY_POINT
    index = 0
    while True:
        data = mined(TaggedDataPayload(b"crash", index.to_bytes(8, "little")), parents=(parent,))
        parent = node.submit(data).block_id
        sys.stdout.write(parent.hex() + "\n")
        sys.stdout.flush()
        index += 1


if __name__ == "__main__":
    main(sys.argv[1])
