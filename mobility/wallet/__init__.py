"""The wallet SDK for drivers and fleets: keys, channels, vouchers, receipts, the driver API."""

from mobility.wallet.api_client import DriverApi, DriverApiError, DriverStream, ReceiptInvalidError
from mobility.wallet.driver import DriverWallet, PaymentRefusedError

__all__ = [
    "DriverApi",
    "DriverApiError",
    "DriverStream",
    "DriverWallet",
    "PaymentRefusedError",
    "ReceiptInvalidError",
]
