"""Signing domains of the payer APIs: the prefix each signed message starts with.

A signature made for one purpose must never verify for another, so every message a payer key
signs for the engine begins with its own domain. The voucher's domain is part of the voucher's
byte format (`mobility.wire.codec.voucher.VOUCHER_DOMAIN`).
"""

from __future__ import annotations

LOGIN_DOMAIN = b"mobility-driver-login:"  # + the challenge: a driver logs in
SIGNUP_DOMAIN = b"mobility-driver-signup:"  # + the public key: signing up proves holding it
FLEET_PAYER_KEY_DOMAIN = b"mobility-fleet-payer-key:"  # + the fleet's account ID, UTF-8
