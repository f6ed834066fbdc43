"""The tangle ledger node: codec, validation on arrival, storage, confirmation, channels.

Only this package changes ledger state; see `docs/design.md`, "The ledger".
"""
