"""Fleet operators: vehicles and their id tokens, reconciliation, exports and audit proofs.

`models` holds the fleet's tables (vehicles, payer keys, token assignments) and `store` is
their one writer and reads a fleet's rows (always scoped to its account); `reconcile` checks each session
from meter to ledger and totals them, `exports` renders OCPI 2.2.1 CDRs and CSV with exact
numbers, `audit` builds and verifies settlement proof bundles. The HTTP routes live in
`mobility.api.fleet_vehicles`, `fleet_channels` and `fleet_reports`.
"""
