"""Fleet operators: vehicles and their id tokens, reconciliation, exports and audit proofs."""
