"""Configuration and the device model: 1.6 GetConfiguration / ChangeConfiguration, 2.x
GetVariables / SetVariables / GetBaseReport with NotifyReport.

Whatever a charger reports of its settings lands in its stored device model (a 1.6 key is a
variable of component ""), so the operator can read it without asking the charger again.
On 2.x a key names a variable as the model stores it: `Component[instance]@evse.connector/
Variable[instance]#Type` (all but `Component/Variable` optional). `get_configuration` without
keys asks a 2.x charger for its ConfigurationInventory report and waits for its last part.
"""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ocpp_server._ocpp import call16, on
from ocpp_server.commands import CommandResult, CommandTimeoutError
from ocpp_server.framing import ConnectionContext
from ocpp_server.management.block import Block, NotOnThisVersionError
from ocpp_server.management.stores import DeviceVariable

REPORT_BASES = ("ConfigurationInventory", "FullInventory", "SummaryInventory")
KEY = re.compile(
    r"^(?P<component>[^/\[\]@#]+)(?:\[(?P<component_instance>[^\]]+)\])?"
    r"(?:@(?P<evse_id>\d+)(?:\.(?P<connector_id>\d+))?)?"
    r"/(?P<variable>[^/\[\]#]+)(?:\[(?P<variable_instance>[^\]]+)\])?(?:#(?P<attribute_type>\w+))?$"
)


def parse_key(key: str) -> DeviceVariable:
    """A 2.x key (see the module docstring) as the variable it names, without a value."""
    found = KEY.match(key)
    if found is None:
        raise NotOnThisVersionError(f"{key!r} is not Component/Variable (see the device model's keys)")
    parts = found.groupdict()
    return DeviceVariable(
        component=parts["component"],
        variable=parts["variable"],
        value=None,
        attribute_type=parts["attribute_type"] or "Actual",
        component_instance=parts["component_instance"],
        evse_id=int(parts["evse_id"]) if parts["evse_id"] else None,
        connector_id=int(parts["connector_id"]) if parts["connector_id"] else None,
        variable_instance=parts["variable_instance"],
    )


def _component_payload(variable: DeviceVariable) -> dict[str, Any]:
    component: dict[str, Any] = {"name": variable.component}
    if variable.component_instance:
        component["instance"] = variable.component_instance
    if variable.evse_id is not None:
        evse: dict[str, Any] = {"id": variable.evse_id}
        if variable.connector_id is not None:
            evse["connector_id"] = variable.connector_id
        component["evse"] = evse
    return component


def _variable_payload(variable: DeviceVariable) -> dict[str, Any]:
    named: dict[str, Any] = {"name": variable.variable}
    if variable.variable_instance:
        named["instance"] = variable.variable_instance
    return named


def _reported(component: dict[str, Any], variable: dict[str, Any], **fields: Any) -> DeviceVariable:
    """A variable out of a 2.x answer's component and variable objects (snake_case)."""
    evse = component.get("evse") or {}
    return DeviceVariable(
        component=str(component["name"]),
        variable=str(variable["name"]),
        component_instance=component.get("instance"),
        evse_id=evse.get("id"),
        connector_id=evse.get("connector_id"),
        variable_instance=variable.get("instance"),
        **fields,
    )


def report_variables(report_data: list[dict[str, Any]]) -> list[DeviceVariable]:
    """Every attribute of every variable in a NotifyReport part."""
    variables = []
    for item in report_data:
        characteristics = item.get("variable_characteristics") or {}
        for attribute in item.get("variable_attribute") or []:
            variables.append(
                _reported(
                    item["component"],
                    item["variable"],
                    value=attribute.get("value"),
                    attribute_type=attribute.get("type") or "Actual",
                    mutability=attribute.get("mutability") or "ReadWrite",
                    data_type=characteristics.get("data_type"),
                    unit=characteristics.get("unit"),
                )
            )
    return variables


def configuration_keys(variables: list[DeviceVariable]) -> list[dict[str, Any]]:
    """Variables in the shape of a 1.6 GetConfiguration answer's `configuration_key`."""
    return [
        {"key": variable.key, "readonly": variable.mutability == "ReadOnly", "value": variable.value}
        for variable in variables
    ]


class Configuration16(Block):
    """1.6 configuration keys."""

    async def get_configuration(self, keys: list[str] | None = None) -> CommandResult:
        """GetConfiguration (all keys when `keys` is None); what it reports is stored."""
        result = await self.send_command(call16.GetConfiguration(key=keys))
        reported = [
            DeviceVariable(
                component="",
                variable=str(item["key"]),
                value=item.get("value"),
                mutability="ReadOnly" if item.get("readonly") else "ReadWrite",
            )
            for item in result.payload.get("configuration_key") or []
        ]
        await self.stored(self.management.store.save_variables, self.id, reported, self.service.clock())
        return result

    async def change_configuration(self, key: str, value: str) -> CommandResult:
        """ChangeConfiguration; an accepted value is stored."""
        result = await self.send_command(call16.ChangeConfiguration(key=key, value=value))
        if result.status in ("Accepted", "RebootRequired"):
            changed = [DeviceVariable(component="", variable=key, value=value)]
            await self.stored(self.management.store.save_variables, self.id, changed, self.service.clock())
        return result

    async def set_configuration(self, key: str, value: str) -> CommandResult:
        """`set_configuration` on 1.6: ChangeConfiguration."""
        return await self.change_configuration(key, value)

    async def get_base_report(self, report_base: str) -> CommandResult:
        """2.x only."""
        raise NotOnThisVersionError("GetBaseReport is OCPP 2.x; use get_configuration on 1.6")


@dataclass
class _Report:
    """A GetBaseReport's parts as they arrive."""

    variables: list[DeviceVariable] = field(default_factory=list)
    done: asyncio.Event = field(default_factory=asyncio.Event)


class Configuration2x(Block):
    """2.x variables and the device model."""

    if TYPE_CHECKING:
        _call: Any
        _call_result: Any

    def __init__(self, charge_point_id: str, connection: Any, context: ConnectionContext) -> None:
        super().__init__(charge_point_id, connection, context)
        self._report_ids = itertools.count(1)
        self._reports: dict[int, _Report] = {}

    async def get_variables(self, names: list[tuple[str, str]]) -> CommandResult:
        """GetVariables of (component, variable) names."""
        return await self._get([DeviceVariable(component, variable, None) for component, variable in names])

    async def _get(self, wanted: list[DeviceVariable]) -> CommandResult:
        data = []
        for variable in wanted:
            item: dict[str, Any] = {
                "component": _component_payload(variable),
                "variable": _variable_payload(variable),
            }
            if variable.attribute_type != "Actual":
                item["attribute_type"] = variable.attribute_type
            data.append(item)
        result = await self.send_command(self._call.GetVariables(get_variable_data=data))
        answered = [
            _reported(
                item["component"],
                item["variable"],
                value=item.get("attribute_value"),
                attribute_type=item.get("attribute_type") or "Actual",
            )
            for item in result.payload.get("get_variable_result") or []
            if item.get("attribute_status") == "Accepted"
        ]
        await self.stored(self.management.store.save_variables, self.id, answered, self.service.clock())
        return result

    async def set_variables(self, values: list[tuple[str, str, str]]) -> CommandResult:
        """SetVariables of (component, variable, value)."""
        wanted = [DeviceVariable(component, variable, value) for component, variable, value in values]
        return await self._set(wanted)

    async def _set(self, wanted: list[DeviceVariable]) -> CommandResult:
        data = []
        for variable in wanted:
            item: dict[str, Any] = {
                "attribute_value": variable.value,
                "component": _component_payload(variable),
                "variable": _variable_payload(variable),
            }
            if variable.attribute_type != "Actual":
                item["attribute_type"] = variable.attribute_type
            data.append(item)
        result = await self.send_command(self._call.SetVariables(set_variable_data=data))
        answers = result.payload.get("set_variable_result") or []
        changed = [
            variable
            for variable, answer in zip(wanted, answers, strict=False)
            if answer.get("attribute_status") in ("Accepted", "RebootRequired")
        ]
        await self.stored(self.management.store.save_variables, self.id, changed, self.service.clock())
        return result

    async def get_configuration(self, keys: list[str] | None = None) -> CommandResult:
        """GetVariables of the keys, in the 1.6 answer's shape (`configuration_key`, `unknown_key`),
        or without keys the ConfigurationInventory report, once complete."""
        if keys is None:
            return await self._base_report("ConfigurationInventory", wait=True)
        result = await self._get([parse_key(key) for key in keys])
        known, unknown = [], []
        for key, item in zip(keys, result.payload.get("get_variable_result") or [], strict=False):
            if item.get("attribute_status") == "Accepted":
                known.append({"key": key, "readonly": False, "value": item.get("attribute_value")})
            else:
                unknown.append(key)
        payload = {**result.payload, "configuration_key": known, "unknown_key": unknown}
        return CommandResult("Accepted", payload)

    async def set_configuration(self, key: str, value: str) -> CommandResult:
        """SetVariables of the variable `key` names; the status is its attributeStatus."""
        variable = parse_key(key)
        result = await self._set([dataclasses.replace(variable, value=value)])
        answers = result.payload.get("set_variable_result") or [{}]
        return CommandResult(str(answers[0].get("attribute_status", "")), result.payload)

    async def get_base_report(self, report_base: str) -> CommandResult:
        """GetBaseReport; the NotifyReport parts that follow fill the device model."""
        return await self._base_report(report_base, wait=False)

    async def _base_report(self, report_base: str, wait: bool) -> CommandResult:
        request_id = next(self._report_ids)
        report = self._reports[request_id] = _Report()
        try:
            result = await self.send_command(
                self._call.GetBaseReport(request_id=request_id, report_base=report_base)
            )
            payload = {**result.payload, "request_id": request_id}
            if not wait or result.status != "Accepted":
                return CommandResult(result.status, payload)
            try:
                async with asyncio.timeout(self.context.response_timeout):
                    await report.done.wait()
            except TimeoutError as error:
                raise CommandTimeoutError(f"report {request_id} not complete in time") from error
            return CommandResult(
                result.status, {**payload, "configuration_key": configuration_keys(report.variables)}
            )
        finally:
            # Parts that come later (or were not waited for) still fill the model.
            self._reports.pop(request_id, None)

    @on("NotifyReport")
    async def on_notify_report(
        self,
        request_id: int,
        generated_at: str,
        seq_no: int,
        tbc: bool = False,
        report_data: list[dict[str, Any]] | None = None,
        **_: Any,
    ) -> Any:
        variables = report_variables(report_data or [])
        await self.stored(self.management.store.save_variables, self.id, variables, self.service.clock())
        report = self._reports.get(request_id)
        if report is not None:
            report.variables.extend(variables)
            if not tbc:
                report.done.set()
        return self._call_result.NotifyReport()
