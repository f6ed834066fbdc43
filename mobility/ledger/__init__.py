"""The tangle ledger: codec, validation on arrival, and (later) storage and confirmation.

Only this package changes ledger state; see `../shared/design.md`, "The ledger, in brief".
"""
