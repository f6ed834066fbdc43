"""Engine settings, read from the environment with the prefix `MOBILITY_`."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Every knob of the engine; defaults run it on one machine with nothing installed."""

    model_config = SettingsConfigDict(env_prefix="MOBILITY_", extra="ignore")

    data_dir: Path = Path("data")
    database_url: str | None = None
    ocpp_host: str = "127.0.0.1"
    ocpp_port: int = 9000
    api_host: str = "127.0.0.1"
    api_port: int = 8000
    accept_unknown_chargers: bool = False
    # With accept_unknown_chargers: register unknown ones pending (BootNotification answers
    # Pending) until an operator registers them, instead of accepting them outright.
    unknown_chargers_pending: bool = False
    # The payment layer authorizes and meters sessions when enabled; off until the driver and
    # operator APIs (which register accounts, channels and tariffs) are part of the engine.
    payments_enabled: bool = False
    default_tariff_id: str = "default"
    # Settlement (`mobility.payments.settlement`): a channel is claimed on the ledger once its
    # unclaimed value reaches the threshold (micro-units), or once an ended session has waited
    # the interval unclaimed, and always the expiry margin before the channel expires. Durations
    # in ISO 8601 (`PT6H`, `PT10M`).
    settlement_threshold: int = Field(default=5_000_000, ge=1)
    settlement_interval: timedelta = timedelta(hours=6)
    settlement_expiry_margin: timedelta = timedelta(hours=12)
    # Driver logins (challenge and answer) per source address and minute: one address can then
    # try only so many keys. Raise it where many drivers share one address (a NAT, a test city).
    login_attempts_per_minute: int = Field(default=10, ge=1)
    # DEBUG also logs every OCPP frame in and out (logger `ocpp_server.frames`).
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"

    @property
    def resolved_database_url(self) -> str:
        """The configured URL, or an SQLite file in the data directory."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.data_dir / 'mobility.db'}"
