"""`ocpp` library charge points used as test clients, recording the commands they receive."""

from __future__ import annotations

from typing import Any

from ocpp_server._ocpp import ChargePoint16, ChargePoint21, ChargePoint201, on, result16


class Client16(ChargePoint16):  # type: ignore[misc]
    """A 1.6 charge point that accepts every command and remembers it."""

    received: list[tuple[str, dict[str, Any]]]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.received = []

    @on("RemoteStartTransaction")
    def on_remote_start(self, **payload: Any) -> Any:
        self.received.append(("RemoteStartTransaction", payload))
        return result16.RemoteStartTransaction(status="Accepted")

    @on("RemoteStopTransaction")
    def on_remote_stop(self, **payload: Any) -> Any:
        self.received.append(("RemoteStopTransaction", payload))
        return result16.RemoteStopTransaction(status="Accepted")

    @on("Reset")
    def on_reset(self, **payload: Any) -> Any:
        self.received.append(("Reset", payload))
        return result16.Reset(status="Accepted")

    @on("SetChargingProfile")
    def on_set_charging_profile(self, **payload: Any) -> Any:
        self.received.append(("SetChargingProfile", payload))
        return result16.SetChargingProfile(status="Accepted")

    @on("ClearChargingProfile")
    def on_clear_charging_profile(self, **payload: Any) -> Any:
        self.received.append(("ClearChargingProfile", payload))
        return result16.ClearChargingProfile(status="Unknown")


class _Client2x:
    """2.x command handlers, mixed before the library's 2.0.1 or 2.1 class."""

    received: list[tuple[str, dict[str, Any]]]
    _call_result: Any

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.received = []

    @on("RequestStartTransaction")
    def on_request_start(self, **payload: Any) -> Any:
        self.received.append(("RequestStartTransaction", payload))
        return self._call_result.RequestStartTransaction(status="Accepted", transaction_id="tx-remote")

    @on("RequestStopTransaction")
    def on_request_stop(self, **payload: Any) -> Any:
        self.received.append(("RequestStopTransaction", payload))
        return self._call_result.RequestStopTransaction(status="Accepted")

    @on("Reset")
    def on_reset(self, **payload: Any) -> Any:
        self.received.append(("Reset", payload))
        return self._call_result.Reset(status="Scheduled")

    @on("SetChargingProfile")
    def on_set_charging_profile(self, **payload: Any) -> Any:
        self.received.append(("SetChargingProfile", payload))
        return self._call_result.SetChargingProfile(status="Accepted")

    @on("ClearChargingProfile")
    def on_clear_charging_profile(self, **payload: Any) -> Any:
        self.received.append(("ClearChargingProfile", payload))
        return self._call_result.ClearChargingProfile(status="Accepted")


class Client201(_Client2x, ChargePoint201):  # type: ignore[misc]
    """A 2.0.1 charging station."""


class Client21(_Client2x, ChargePoint21):  # type: ignore[misc]
    """A 2.1 charging station."""
