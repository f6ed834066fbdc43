"""A charge point's local authorization: the list the central system sends (SendLocalList,
GetLocalListVersion) and its authorization cache (ClearCache). Offline, the station refuses a
badge its local list does not accept; online it asks the central system as before."""

from __future__ import annotations

from typing import Any

from sims.chargers._ocpp import on, result16


class LocalAuthList:
    """The list and its version (0: none), and how often the cache was cleared."""

    def __init__(self) -> None:
        self.version = 0
        self.entries: dict[str, str] = {}  # token (upper-case) -> status
        self.cache_clears = 0

    def update(self, version: int, full: bool, entries: list[tuple[str, str | None]]) -> str:
        """SendLocalList's answer. Full replaces the list; Differential changes the named tokens
        (no status: removed) and must raise the version (else VersionMismatch)."""
        if not full and version <= self.version:
            return "VersionMismatch"
        if full:
            self.entries = {}
        for token, status in entries:
            if status is None:
                self.entries.pop(token.upper(), None)
            else:
                self.entries[token.upper()] = status
        self.version = version
        return "Accepted"

    def refuses(self, id_token: str) -> bool:
        """Offline: a token on the list with a status other than Accepted is refused (one not
        on the list is trusted, as stations configured for offline charging do)."""
        status = self.entries.get(id_token.upper())
        return status is not None and status != "Accepted"

    def clear_cache(self) -> str:
        """ClearCache (the simulator caches nothing, so there is nothing to keep)."""
        self.cache_clears += 1
        return "Accepted"


class LocalAuth16:
    """1.6 handlers; mixed in before the library's ChargePoint."""

    target: Any

    @on("SendLocalList")
    def on_send_local_list(
        self,
        list_version: int,
        update_type: str,
        local_authorization_list: list[dict[str, Any]] | None = None,
        **_: Any,
    ) -> Any:
        entries = [
            (str(item["id_tag"]), (item.get("id_tag_info") or {}).get("status"))
            for item in local_authorization_list or []
        ]
        local: LocalAuthList = self.target.local_auth
        return result16.SendLocalList(status=local.update(list_version, update_type == "Full", entries))

    @on("GetLocalListVersion")
    def on_get_local_list_version(self, **_: Any) -> Any:
        return result16.GetLocalListVersion(list_version=self.target.local_auth.version)

    @on("ClearCache")
    def on_clear_cache(self, **_: Any) -> Any:
        return result16.ClearCache(status=self.target.local_auth.clear_cache())


class LocalAuth2x:
    """2.x handlers; mixed in before the library's ChargePoint."""

    target: Any
    _call_result: Any

    @on("SendLocalList")
    def on_send_local_list(
        self,
        version_number: int,
        update_type: str,
        local_authorization_list: list[dict[str, Any]] | None = None,
        **_: Any,
    ) -> Any:
        entries = [
            (str(item["id_token"]["id_token"]), (item.get("id_token_info") or {}).get("status"))
            for item in local_authorization_list or []
        ]
        local: LocalAuthList = self.target.local_auth
        status = local.update(version_number, update_type == "Full", entries)
        return self._call_result.SendLocalList(status=status)

    @on("GetLocalListVersion")
    def on_get_local_list_version(self, **_: Any) -> Any:
        return self._call_result.GetLocalListVersion(version_number=self.target.local_auth.version)

    @on("ClearCache")
    def on_clear_cache(self, **_: Any) -> Any:
        return self._call_result.ClearCache(status=self.target.local_auth.clear_cache())
