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

    @on("UnlockConnector")
    def on_unlock_connector(self, **payload: Any) -> Any:
        self.received.append(("UnlockConnector", payload))
        return result16.UnlockConnector(status="Unlocked")

    @on("ChangeAvailability")
    def on_change_availability(self, **payload: Any) -> Any:
        self.received.append(("ChangeAvailability", payload))
        return result16.ChangeAvailability(status="Accepted")

    @on("TriggerMessage")
    def on_trigger_message(self, **payload: Any) -> Any:
        self.received.append(("TriggerMessage", payload))
        return result16.TriggerMessage(status="Accepted")

    @on("GetConfiguration")
    def on_get_configuration(self, **payload: Any) -> Any:
        self.received.append(("GetConfiguration", payload))
        return result16.GetConfiguration(
            configuration_key=[{"key": "HeartbeatInterval", "readonly": False, "value": "300"}],
            unknown_key=[key for key in payload.get("key", []) if key != "HeartbeatInterval"],
        )

    @on("ChangeConfiguration")
    def on_change_configuration(self, **payload: Any) -> Any:
        self.received.append(("ChangeConfiguration", payload))
        return result16.ChangeConfiguration(status="Accepted")


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

    @on("UnlockConnector")
    def on_unlock_connector(self, **payload: Any) -> Any:
        self.received.append(("UnlockConnector", payload))
        return self._call_result.UnlockConnector(status="Unlocked")

    @on("ChangeAvailability")
    def on_change_availability(self, **payload: Any) -> Any:
        self.received.append(("ChangeAvailability", payload))
        return self._call_result.ChangeAvailability(status="Accepted")

    @on("TriggerMessage")
    def on_trigger_message(self, **payload: Any) -> Any:
        self.received.append(("TriggerMessage", payload))
        return self._call_result.TriggerMessage(status="Accepted")

    @on("GetVariables")
    def on_get_variables(self, get_variable_data: list[dict[str, Any]], **_: Any) -> Any:
        self.received.append(("GetVariables", {"get_variable_data": get_variable_data}))
        results = [
            {
                "attribute_status": "Accepted",
                "attribute_value": "300",
                "component": item["component"],
                "variable": item["variable"],
            }
            for item in get_variable_data
        ]
        return self._call_result.GetVariables(get_variable_result=results)

    @on("SetVariables")
    def on_set_variables(self, set_variable_data: list[dict[str, Any]], **_: Any) -> Any:
        self.received.append(("SetVariables", {"set_variable_data": set_variable_data}))
        results = [
            {"attribute_status": "Accepted", "component": item["component"], "variable": item["variable"]}
            for item in set_variable_data
        ]
        return self._call_result.SetVariables(set_variable_result=results)


class Client201(_Client2x, ChargePoint201):  # type: ignore[misc]
    """A 2.0.1 charging station."""


class Client21(_Client2x, ChargePoint21):  # type: ignore[misc]
    """A 2.1 charging station."""
