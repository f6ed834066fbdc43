"""A fleet of simulated OCPP charge points (1.6, 2.0.1, 2.1) with EVs, faults and replays.

Modules, one job each: `clock` (simulated time), `ev` (battery and CC/CV taper), `profiles`
(charging-profile limits), `connector` (meter and EV on one outlet), `outbox` (transaction
messages queued and replayed in order), `backoff` (reconnect delays), `dialects` (what each
OCPP version's messages look like), `station` (one charge point: connection, boot, sessions,
faults), `fleet` (many stations in one process), `cli` (`python -m sims.chargers`).
"""
