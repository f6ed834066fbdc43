"""What an operator manages on a charger besides sessions, one OCPP functional block a module:
configuration and device model, firmware, diagnostics and logs, DataTransfer, and the reports
a charger sends (security events, charging limits, customer information, ...). Each block is a
mixin of the version adapters, storing through the repositories of `stores.py`."""
