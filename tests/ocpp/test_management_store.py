"""The management repositories on each backend: the device model upserts by key, statuses
find their request (or the latest, where 1.6 names none), and an upload token is taken once,
only before it expires."""

from __future__ import annotations

import datetime as dt

from mobility.charging.management_models import DeviceVariable, UploadOutcome
from mobility.charging.management_store import SqlManagementStore
from mobility.charging.store import ChargingStore
from mobility.db import create_db_engine

T0 = dt.datetime(2026, 1, 1, 12, 0, tzinfo=dt.UTC)


def _stores(database_url: str) -> SqlManagementStore:
    engine = create_db_engine(database_url)  # migrated by the fixture
    ChargingStore(engine).register_charge_point("CP1", None)
    return SqlManagementStore(engine)


def test_the_device_model_keeps_the_latest_of_each_key(database_url: str) -> None:
    store = _stores(database_url)
    reported = DeviceVariable(
        "OCPPCommCtrlr", "HeartbeatInterval", "300", mutability="ReadWrite", data_type="integer"
    )
    store.save_variables("CP1", [reported, DeviceVariable("", "MeterValueSampleInterval", "60")], T0)
    # A GetVariables answer carries no mutability or type: what the report said stays.
    store.save_variables("CP1", [DeviceVariable("OCPPCommCtrlr", "HeartbeatInterval", "120")], T0)
    records, total = store.variables("CP1", "OCPPCommCtrlr", 0, 10)
    assert total == 1
    assert [(r.key, r.value, r.mutability, r.data_type) for r in records] == [
        ("OCPPCommCtrlr/HeartbeatInterval", "120", "ReadWrite", "integer")
    ]
    assert store.variables("CP1", None, 0, 10)[1] == 2


def test_statuses_find_their_request_or_the_latest(database_url: str) -> None:
    store = _stores(database_url)
    first = store.begin_firmware_update("CP1", "https://x/1", T0, None, False, T0)
    second = store.begin_firmware_update("CP1", "https://x/2", T0, None, True, T0)
    assert store.firmware_status("CP1", first, "Installed", T0)
    assert store.firmware_status("CP1", None, "Downloading", T0)  # 1.6: the latest
    assert not store.firmware_status("CP1", 999, "Installed", T0)
    updates, _ = store.firmware_updates("CP1", 0, 10)
    assert [(u.id, u.status) for u in updates] == [(second, "Downloading"), (first, "Installed")]

    logs = store.begin_log_upload("CP1", "log", "SecurityLog", "a" * 64, T0, T0)
    diagnostics = store.begin_log_upload("CP1", "diagnostics", None, "b" * 64, T0, T0)
    assert store.log_status("CP1", None, "log", "Uploading", T0)  # the latest of its kind
    uploads, _ = store.log_uploads("CP1", 0, 10)
    assert [(u.id, u.status) for u in uploads] == [(diagnostics, "Requested"), (logs, "Uploading")]


def test_an_upload_token_is_taken_once_and_before_it_expires(database_url: str) -> None:
    store = _stores(database_url)
    expires = T0 + dt.timedelta(hours=1)
    upload = store.begin_log_upload("CP1", "diagnostics", None, "c" * 64, T0, expires)
    assert store.receive_log_file("d" * 64, "x.log", "text/plain", b"x", T0) is UploadOutcome.UNKNOWN
    assert store.receive_log_file("c" * 64, "x.log", "text/plain", b"late", expires) is UploadOutcome.EXPIRED
    assert store.receive_log_file("c" * 64, "x.log", "text/plain", b"\x00\x01", T0) is UploadOutcome.STORED
    assert store.receive_log_file("c" * 64, "y.log", "text/plain", b"again", T0) is UploadOutcome.ALREADY
    record = store.log_file("CP1", upload)
    assert record is not None
    assert (record.file_name, record.content, record.size) == ("x.log", b"\x00\x01", 2)
    assert store.log_file("CP2", upload) is None
