"""Every table of the engine's one database on one metadata: what the migrations build."""

from __future__ import annotations

from sqlalchemy import MetaData
from sqlmodel import SQLModel

import mobility.api.models
import mobility.charging.models
import mobility.fleet.models
import mobility.ledger.models
import mobility.payments.models  # noqa: F401  (the imports register the tables)

METADATA: MetaData = SQLModel.metadata
