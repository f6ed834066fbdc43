"""The local authorization block on every version: SendLocalList, GetLocalListVersion and
ClearCache. Mixed into the version adapters, before `FramedConnection`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

from mobility.charging.local_list import LocalEntry
from mobility.charging.timeutil import format_timestamp
from ocpp_server._ocpp import call16
from ocpp_server.commands import CommandResult


class LocalAuthCommands(Protocol):
    """The charger's own list of tokens and its authorization cache."""

    async def send_local_list(
        self, version: int, entries: list[LocalEntry], full: bool = True
    ) -> CommandResult:
        """SendLocalList; Accepted, Failed, NotSupported or VersionMismatch."""
        ...

    async def get_local_list_version(self) -> CommandResult:
        """GetLocalListVersion; the version is in the payload (`list_version` on 1.6,
        `version_number` on 2.x) and its status is "Accepted"."""
        ...

    async def clear_cache(self) -> CommandResult:
        """ClearCache; Accepted or Rejected."""
        ...


class _Sends(Protocol):
    async def send_command(self, payload: Any, names_transaction: bool = False) -> CommandResult: ...


def _info16(entry: LocalEntry) -> dict[str, Any]:
    info: dict[str, Any] = {"status": entry.status.value}
    if entry.expires_at is not None:
        info["expiry_date"] = format_timestamp(entry.expires_at)
    return {"id_tag": entry.id_token, "id_tag_info": info}


def _info2x(entry: LocalEntry) -> dict[str, Any]:
    info: dict[str, Any] = {"status": entry.status.value}
    if entry.expires_at is not None:
        info["cache_expiry_date_time"] = format_timestamp(entry.expires_at)
    return {"id_token": {"id_token": entry.id_token, "type": entry.token_type}, "id_token_info": info}


def _with_status(result: CommandResult, key: str) -> CommandResult:
    """GetLocalListVersion's answer has no status: "Accepted", the version in the payload."""
    return CommandResult("Accepted", result.payload) if key in result.payload else result


class LocalAuth16:
    """1.6 Local Auth List Management profile, and Core's ClearCache."""

    async def send_local_list(
        self, version: int, entries: list[LocalEntry], full: bool = True
    ) -> CommandResult:
        """SendLocalList (1.6 says an empty Full list clears it; entries need an idTagInfo)."""
        command = call16.SendLocalList(
            list_version=version,
            update_type="Full" if full else "Differential",
            local_authorization_list=[_info16(entry) for entry in entries],
        )
        return await _sender(self).send_command(command)

    async def get_local_list_version(self) -> CommandResult:
        """GetLocalListVersion (-1: no list support; 0: no list)."""
        result = await _sender(self).send_command(call16.GetLocalListVersion())
        return _with_status(result, "list_version")

    async def clear_cache(self) -> CommandResult:
        """ClearCache."""
        return await _sender(self).send_command(call16.ClearCache())


class LocalAuth2x:
    """2.0.1 / 2.1 LocalAuthorizationListManagement, and ClearCache."""

    if TYPE_CHECKING:
        _call: Any

    async def send_local_list(
        self, version: int, entries: list[LocalEntry], full: bool = True
    ) -> CommandResult:
        """SendLocalList."""
        command = self._call.SendLocalList(
            version_number=version,
            update_type="Full" if full else "Differential",
            local_authorization_list=[_info2x(entry) for entry in entries] or None,
        )
        return await _sender(self).send_command(command)

    async def get_local_list_version(self) -> CommandResult:
        """GetLocalListVersion."""
        result = await _sender(self).send_command(self._call.GetLocalListVersion())
        return _with_status(result, "version_number")

    async def clear_cache(self) -> CommandResult:
        """ClearCache."""
        return await _sender(self).send_command(self._call.ClearCache())


def _sender(connection: object) -> _Sends:
    return connection  # type: ignore[return-value]
