"""Flat, immutable output records (one per event of interest) and the recorder that holds them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

import pandas as pd

__all__ = [
    "BusLoadRecord",
    "ClosureRecord",
    "CutoffRecord",
    "DeliveryRecord",
    "EvacuationRecord",
    "EvacueeRecord",
    "IncidentRecord",
    "LedgerRecord",
    "Records",
    "ReturnRecord",
    "SettlementRecord",
    "ShelterNeedRecord",
    "ShelterRecord",
    "StockRecord",
    "TripRecord",
]


class SettlementRecord(NamedTuple):
    settlement: str
    people: int
    onset_h: float
    urgency: int


class DeliveryRecord(NamedTuple):
    time_h: float
    dispatched_h: float
    depot: str
    tier: str
    settlement: str
    commodity: str
    qty: float
    truck: str


class TripRecord(NamedTuple):
    vehicle: str
    kind: str
    base: str
    start_h: float
    end_h: float
    km: float


class IncidentRecord(NamedTuple):
    incident: str
    type: str
    mode: str
    lon: float
    lat: float
    call_h: float
    first_arrival_h: float
    on_scene_h: float
    done_h: float
    units: int
    area_ha: float


class StockRecord(NamedTuple):
    time_h: float
    depot: str
    commodity: str
    level: float


class LedgerRecord(NamedTuple):
    depot: str
    commodity: str
    initial: float
    produced: float
    delivered: float
    in_transit: float
    remaining: float
    activated: bool


class ClosureRecord(NamedTuple):
    disruption: str
    start_h: float
    end_h: float
    factor: float
    edges: int


class CutoffRecord(NamedTuple):
    settlement: str
    cut_h: float
    reopened_h: float


class ReturnRecord(NamedTuple):
    """Goods a truck took back to its depot after waiting in vain for a closed road; they
    were released to other requests (and the settlement's need re-opened)."""

    truck: str
    depot: str
    settlement: str
    commodity: str
    qty: float
    stranded_h: float
    back_h: float


class EvacuationRecord(NamedTuple):
    """One evacuee group: people of a settlement sent to one shelter (shelter '' = without a
    place; they stay home). Times are hours since the start; inf = not within the horizon.
    ``travel_h``: walking time (walk) or open-road driving time (bus) to the shelter."""

    settlement: str
    shelter: str
    mode: str
    people: int
    order_h: float
    travel_h: float
    depart_first_h: float
    depart_last_h: float
    arrive_first_h: float
    arrive_last_h: float
    admitted_first_h: float
    admitted_last_h: float
    admitted: int


class EvacueeRecord(NamedTuple):
    """Evacuees of one group admitted together (within 0.1 h, never across the evacuation
    target): ``admitted_h`` is the last one's admission (inf: not within the horizon, or
    without a place)."""

    settlement: str
    shelter: str
    people: int
    order_h: float
    admitted_h: float


class ShelterRecord(NamedTuple):
    """A shelter over the run: people assigned, admitted, and its peak occupancy."""

    shelter: str
    capacity: int
    assigned: int
    admitted: int
    peak: int
    peak_h: float


class ShelterNeedRecord(NamedTuple):
    """Needs raised at a shelter for the people of one arrival on one day of their stay."""

    time_h: float
    shelter: str
    settlement: str
    day: int
    people: int


class BusLoadRecord(NamedTuple):
    """One bus trip with evacuees: sent (from wherever the bus was), boarding at the
    settlement, leaving it, unloaded at the shelter."""

    bus: str
    base: str
    settlement: str
    shelter: str
    people: int
    dispatched_h: float
    board_h: float
    depart_h: float
    arrive_h: float
    km: float


TABLES: dict[str, type[NamedTuple]] = {
    "settlements": SettlementRecord,
    "deliveries": DeliveryRecord,
    "trips": TripRecord,
    "incidents": IncidentRecord,
    "stock": StockRecord,
    "ledger": LedgerRecord,
    "closures": ClosureRecord,
    "cutoffs": CutoffRecord,
    "returns": ReturnRecord,
    "evacuation": EvacuationRecord,
    "evacuees": EvacueeRecord,
    "shelters": ShelterRecord,
    "shelter_needs": ShelterNeedRecord,
    "bus_loads": BusLoadRecord,
}


@dataclass
class Records:
    """Everything one replication recorded, as lists of flat records (tidy tables)."""

    horizon_h: float
    settlements: list[SettlementRecord] = field(default_factory=list)
    deliveries: list[DeliveryRecord] = field(default_factory=list)
    trips: list[TripRecord] = field(default_factory=list)
    incidents: list[IncidentRecord] = field(default_factory=list)
    stock: list[StockRecord] = field(default_factory=list)
    ledger: list[LedgerRecord] = field(default_factory=list)
    closures: list[ClosureRecord] = field(default_factory=list)
    cutoffs: list[CutoffRecord] = field(default_factory=list)
    returns: list[ReturnRecord] = field(default_factory=list)
    evacuation: list[EvacuationRecord] = field(default_factory=list)
    evacuees: list[EvacueeRecord] = field(default_factory=list)
    shelters: list[ShelterRecord] = field(default_factory=list)
    shelter_needs: list[ShelterNeedRecord] = field(default_factory=list)
    bus_loads: list[BusLoadRecord] = field(default_factory=list)

    def table(self, name: str) -> pd.DataFrame:
        """One record list as a DataFrame with typed columns (empty tables keep columns)."""
        rows = getattr(self, name)
        columns = TABLES[name]._fields
        return pd.DataFrame({c: [getattr(r, c) for r in rows] for c in columns})

    def tables(self) -> dict[str, pd.DataFrame]:
        return {name: self.table(name) for name in TABLES}
