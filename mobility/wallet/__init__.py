"""The wallet SDK for drivers and fleets: keys, channels, vouchers, receipts, the driver and
fleet payment APIs, and the ledger over HTTP. It imports no server code (see its README)."""

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
from mobility.wallet.ledger import Wallet, WalletError
from mobility.wallet.ledger_client import HttpClient, LedgerClient

__all__ = [
    "ApiError",
    "DriverApi",
    "DriverApiError",
    "DriverStream",
    "DriverWallet",
    "FleetApi",
    "FleetStream",
    "HttpClient",
    "LedgerClient",
    "PayerApi",
    "PaymentRefusedError",
    "PaymentStream",
    "ReceiptInvalidError",
    "Wallet",
    "WalletError",
]
