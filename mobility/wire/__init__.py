"""What the engine and its payers must agree on, byte for byte: the ledger's wire formats
(`codec`), why the node refuses a block (`rejections`), the `/ledger` API's models
(`ledger_api`), the payer APIs' models (`payer_api`), signing domains (`domains`) and session
receipts (`receipts`).

Both sides import this package, so each format has one definition. It imports no server code
and no server framework: pow_rs for hashing and verification, pydantic for the API models
(an import-linter contract and `tests/wire/test_sdk_imports.py` hold it to that).
"""
