"""The engine's database behind `ocpp_server/management/stores.py`: device model, charger
reports, firmware updates and log uploads, each method one short transaction."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Engine, func, update
from sqlalchemy.orm import defer
from sqlmodel import Session, col, select

from mobility.charging.management_models import (
    ChargerReportRecord,
    DeviceVariable,
    DeviceVariableRecord,
    FirmwareUpdateRecord,
    LogUploadRecord,
    UploadOutcome,
)


class SqlManagementStore:
    """Implements `ocpp_server.management.stores.ManagementStore` with SQLModel."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def _session(self) -> Session:
        return Session(self._engine, expire_on_commit=False)

    @staticmethod
    def _page(db: Session, query: Any, counted: Any, offset: int, limit: int) -> tuple[list[Any], int]:
        total = db.exec(counted).one()
        return list(db.exec(query.limit(limit).offset(offset))), int(total)

    # Device model ------------------------------------------------------------------------

    def save_variables(self, charge_point_id: str, variables: list[DeviceVariable], at: datetime) -> None:
        """Insert or update each variable by its key (one read of the keys present)."""
        if not variables:
            return
        latest = {variable.key: variable for variable in variables}
        with self._session() as db:
            found = db.exec(
                select(DeviceVariableRecord).where(
                    col(DeviceVariableRecord.charge_point_id) == charge_point_id,
                    col(DeviceVariableRecord.key).in_(list(latest)),
                )
            ).all()
            existing = {record.key: record for record in found}
            for key, variable in latest.items():
                record = existing.get(key) or DeviceVariableRecord(
                    charge_point_id=charge_point_id,
                    key=key,
                    component=variable.component,
                    variable=variable.variable,
                    updated_at=at,
                )
                record.component_instance = variable.component_instance
                record.evse_id = variable.evse_id
                record.connector_id = variable.connector_id
                record.variable_instance = variable.variable_instance
                record.attribute_type = variable.attribute_type
                record.value = variable.value
                # A GetVariables or SetVariables answer says nothing of these: keep what a report said.
                record.mutability = variable.mutability or record.mutability
                record.data_type = variable.data_type or record.data_type
                record.unit = variable.unit or record.unit
                record.updated_at = at
                db.add(record)
            db.commit()

    def variables(
        self, charge_point_id: str, component: str | None, offset: int, limit: int
    ) -> tuple[list[DeviceVariableRecord], int]:
        """A page of the model by key, optionally of one component, and the total."""
        where = [col(DeviceVariableRecord.charge_point_id) == charge_point_id]
        if component is not None:
            where.append(col(DeviceVariableRecord.component) == component)
        with self._session() as db:
            query = select(DeviceVariableRecord).where(*where).order_by(col(DeviceVariableRecord.key))
            counted = select(func.count()).select_from(DeviceVariableRecord).where(*where)
            return self._page(db, query, counted, offset, limit)

    # Reports -----------------------------------------------------------------------------

    def add_report(
        self,
        charge_point_id: str,
        action: str,
        status: str | None,
        request_id: int | None,
        payload: str,
        at: datetime,
    ) -> None:
        """Keep one report."""
        with self._session() as db:
            db.add(
                ChargerReportRecord(
                    charge_point_id=charge_point_id,
                    action=action,
                    status=status,
                    request_id=request_id,
                    received_at=at,
                    payload=payload,
                )
            )
            db.commit()

    def reports(
        self, charge_point_id: str, action: str | None, offset: int, limit: int
    ) -> tuple[list[ChargerReportRecord], int]:
        """A page of reports, newest first, optionally of one action, and the total."""
        where = [col(ChargerReportRecord.charge_point_id) == charge_point_id]
        if action is not None:
            where.append(col(ChargerReportRecord.action) == action)
        with self._session() as db:
            query = select(ChargerReportRecord).where(*where).order_by(col(ChargerReportRecord.id).desc())
            counted = select(func.count()).select_from(ChargerReportRecord).where(*where)
            return self._page(db, query, counted, offset, limit)

    # Firmware ----------------------------------------------------------------------------

    def begin_firmware_update(
        self,
        charge_point_id: str,
        location: str,
        retrieve_at: datetime,
        install_at: datetime | None,
        signed: bool,
        at: datetime,
    ) -> int:
        """Record an update about to be asked for; returns its requestId."""
        record = FirmwareUpdateRecord(
            charge_point_id=charge_point_id,
            location=location,
            retrieve_at=retrieve_at,
            install_at=install_at,
            signed=signed,
            status="Requested",
            status_at=at,
            requested_at=at,
        )
        with self._session() as db:
            db.add(record)
            db.commit()
        assert record.id is not None
        return record.id

    def firmware_status(
        self, charge_point_id: str, request_id: int | None, status: str, at: datetime
    ) -> bool:
        """Apply a status to the update it names, or to the charger's latest."""
        with self._session() as db:
            query = select(FirmwareUpdateRecord.id).where(
                col(FirmwareUpdateRecord.charge_point_id) == charge_point_id
            )
            if request_id is not None:
                query = query.where(col(FirmwareUpdateRecord.id) == request_id)
            target = db.exec(query.order_by(col(FirmwareUpdateRecord.id).desc()).limit(1)).first()
            if target is None:
                return False
            db.execute(
                update(FirmwareUpdateRecord)
                .where(col(FirmwareUpdateRecord.id) == target)
                .values(status=status, status_at=at)
            )
            db.commit()
            return True

    def firmware_updates(
        self, charge_point_id: str, offset: int, limit: int
    ) -> tuple[list[FirmwareUpdateRecord], int]:
        """A page of the charger's updates, newest first, and the total."""
        where = col(FirmwareUpdateRecord.charge_point_id) == charge_point_id
        with self._session() as db:
            query = select(FirmwareUpdateRecord).where(where).order_by(col(FirmwareUpdateRecord.id).desc())
            counted = select(func.count()).select_from(FirmwareUpdateRecord).where(where)
            return self._page(db, query, counted, offset, limit)

    # Log uploads -------------------------------------------------------------------------

    def begin_log_upload(
        self,
        charge_point_id: str,
        kind: str,
        log_type: str | None,
        token_hash: str,
        at: datetime,
        expires_at: datetime,
    ) -> int:
        """Record a request about to go out; returns its requestId."""
        record = LogUploadRecord(
            charge_point_id=charge_point_id,
            kind=kind,
            log_type=log_type,
            token_hash=token_hash,
            status="Requested",
            status_at=at,
            requested_at=at,
            expires_at=expires_at,
        )
        with self._session() as db:
            db.add(record)
            db.commit()
        assert record.id is not None
        return record.id

    def log_status(
        self, charge_point_id: str, request_id: int | None, kind: str, status: str, at: datetime
    ) -> bool:
        """Apply a status to the request it names, or to the charger's latest of `kind`."""
        with self._session() as db:
            query = select(LogUploadRecord.id).where(
                col(LogUploadRecord.charge_point_id) == charge_point_id, col(LogUploadRecord.kind) == kind
            )
            if request_id is not None:
                query = query.where(col(LogUploadRecord.id) == request_id)
            target = db.exec(query.order_by(col(LogUploadRecord.id).desc()).limit(1)).first()
            if target is None:
                return False
            db.execute(
                update(LogUploadRecord)
                .where(col(LogUploadRecord.id) == target)
                .values(status=status, status_at=at)
            )
            db.commit()
            return True

    def receive_log_file(
        self, token_hash: str, file_name: str, content_type: str, content: bytes, at: datetime
    ) -> UploadOutcome:
        """Keep the file, once, while the token is valid (the update only matches an empty slot)."""
        with self._session() as db:
            found = db.exec(
                select(LogUploadRecord.id, LogUploadRecord.expires_at, LogUploadRecord.uploaded_at).where(
                    col(LogUploadRecord.token_hash) == token_hash
                )
            ).first()
            if found is None:
                return UploadOutcome.UNKNOWN
            upload_id, expires_at, uploaded_at = found
            if uploaded_at is not None:
                return UploadOutcome.ALREADY
            if expires_at <= at:
                return UploadOutcome.EXPIRED
            stored = db.execute(
                update(LogUploadRecord)
                .where(col(LogUploadRecord.id) == upload_id, col(LogUploadRecord.uploaded_at).is_(None))
                .values(
                    file_name=file_name,
                    content_type=content_type,
                    size=len(content),
                    content=content,
                    uploaded_at=at,
                )
            )
            db.commit()
            return UploadOutcome.STORED if stored.rowcount == 1 else UploadOutcome.ALREADY  # type: ignore[attr-defined]

    def log_uploads(self, charge_point_id: str, offset: int, limit: int) -> tuple[list[LogUploadRecord], int]:
        """A page of the charger's requests without file contents, newest first, and the total."""
        where = col(LogUploadRecord.charge_point_id) == charge_point_id
        with self._session() as db:
            query = (
                select(LogUploadRecord)
                .where(where)
                .options(defer(LogUploadRecord.content))  # type: ignore[arg-type]
                .order_by(col(LogUploadRecord.id).desc())
            )
            counted = select(func.count()).select_from(LogUploadRecord).where(where)
            return self._page(db, query, counted, offset, limit)

    def log_file(self, charge_point_id: str, upload_id: int) -> LogUploadRecord | None:
        """One request of this charger, with its file."""
        with self._session() as db:
            record = db.get(LogUploadRecord, upload_id)
            if record is None or record.charge_point_id != charge_point_id:
                return None
            return record
