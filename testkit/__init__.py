"""What tests and benchmarks share for driving the engine from outside: `mobility` as a child
process (`process`), a clock moved by hand (`clock`), a test network's keys and parameters
(`ledger`), a stand-in for the chargers that records the payment layer's commands
(`commands`), and fresh migrated databases (`databases`).

A top-level package beside `tests/` and `benches/`, not inside `mobility/`: it is not part of
the engine (the wheel does not ship it) and the engine never imports it, but both suites do,
and `benches` may import nothing from `tests` (import-linter, `pyproject.toml`). It imports
nothing from either.
"""
