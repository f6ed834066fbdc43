"""The engine's HTTP API: drivers (mobile app), charge-point operators and fleet operators."""
