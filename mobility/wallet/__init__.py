"""The wallet SDK for drivers and fleets: keys, channels, vouchers, receipts, the driver and
fleet payment APIs."""

from mobility.wallet.api_client import (
    ApiError,
    DriverApi,
    DriverApiError,
    DriverStream,
    FleetApi,
    FleetStream,
    PayerApi,
    PaymentStream,
    ReceiptInvalidError,
)
from mobility.wallet.driver import DriverWallet, PaymentRefusedError

__all__ = [
    "ApiError",
    "DriverApi",
    "DriverApiError",
    "DriverStream",
    "DriverWallet",
    "FleetApi",
    "FleetStream",
    "PayerApi",
    "PaymentRefusedError",
    "PaymentStream",
    "ReceiptInvalidError",
]
