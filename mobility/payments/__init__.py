"""Payments: tariffs and costs, channel credit, vouchers, enforcement and settlement."""
