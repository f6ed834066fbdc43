"""The wallet SDK for drivers and fleets: keys, channels, vouchers, receipts."""

from mobility.wallet.driver import DriverWallet, PaymentRefusedError

__all__ = ["DriverWallet", "PaymentRefusedError"]
