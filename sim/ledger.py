"""The scenario as a planner's ledger (台账): one Excel sheet per section with Chinese headers,
which ``reliefsim import`` reads back into the identical scenario."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sim.files import publish_file
from sim.glossary import KIND_LABELS, TIER_LABELS
from sim.importer import MOBILISATION, PRODUCTION
from sim.scenario import Scenario

__all__ = ["SHEETS", "export_ledger", "ledger_rows"]

SHEETS = {"settlements": "受灾点", "depots": "储备库", "shelters": "避难场所",
          "team_bases": "救援队伍驻地", "water_stations": "水上救援站"}
"""Sheet name of each section (the importer takes ``--sheet`` with these names)."""


def _place(item: Any) -> dict[str, Any]:
    if isinstance(item.location, int):
        return {"OSM节点": item.location}
    return {"经度": item.location[0], "纬度": item.location[1]}


def ledger_rows(scenario: Scenario, section: str) -> list[dict[str, Any]]:
    """One section as ledger rows (Chinese headers), as ``reliefsim import`` reads them."""
    rows = []
    for item in getattr(scenario, section):
        row: dict[str, Any] = {"编号": item.id, "名称": item.name, **_place(item)}
        if section in ("settlements", "depots") and item.area:
            row["行政区"] = item.area
        if section == "settlements":
            row.update({"人口": item.people, "受灾时间(h)": item.onset_h,
                        "紧急程度": item.urgency})
        elif section == "depots":
            row.update({"储备库级别": TIER_LABELS[item.tier], "储备类型": KIND_LABELS[item.kind]})
            row.update({c.id: item.stock.get(c.id) for c in scenario.commodities})
            row.update({"车辆数": item.trucks.count, "载重(kg)": item.trucks.capacity_kg,
                        "装车时间(h)": item.trucks.load_h, "卸车时间(h)": item.trucks.unload_h,
                        "启动时间(h)": item.activation_delay_h,
                        "未到位概率": item.no_show_prob})
            row.update({f"{c.id}{PRODUCTION}": item.production_per_h.get(c.id)
                        for c in scenario.commodities})
        elif section == "shelters":
            row.update({"容纳人数": item.capacity_people, "有效面积(㎡)": item.area_m2,
                        "人均面积(㎡)": item.m2_per_person, "类别": item.category,
                        "开放时间(h)": item.opening_delay_h, "入场能力(人/h)": item.intake_per_h})
        elif section == "team_bases":
            for group in item.teams:
                row.update({group.type: group.count,
                            f"{group.type}{MOBILISATION}": group.mobilisation_h})
        else:
            row.update({"海上": "是" if item.sea else "否", "船只数": item.boats.count,
                        "航速(km/h)": item.boats.speed_kmh,
                        "出动时间(h)": item.boats.mobilisation_h})
        rows.append(row)
    return rows


def export_ledger(scenario: Scenario, out: Path) -> Path:
    """Write the ledger workbook (never over a file reliefsim did not write)."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    book.remove(book.active)
    for section, title in SHEETS.items():
        rows = ledger_rows(scenario, section)
        header = list(dict.fromkeys(k for row in rows for k in row)) or ["编号", "名称", "经度",
                                                                        "纬度"]
        sheet = book.create_sheet(title)
        sheet.append(header)
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        for row in rows:
            sheet.append([row.get(k) for k in header])
        sheet.freeze_panes = "A2"
    with publish_file(Path(out)) as tmp:
        book.save(tmp)
    return Path(out)
