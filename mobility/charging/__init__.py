"""mobility.charging: charge points, connectors, sessions and energy (Wh), version-neutral.

Nothing here speaks OCPP (only `ocpp_server` does) and nothing here knows about money.
"""
