"""Scenario drafts from an OSM extract (``reliefsim init``): settlements from places and
residential areas, candidate depots and shelters from community centres, government offices,
schools and sports grounds, team bases from fire stations and hospitals, water stations from
piers and slipways. Every drafted entry carries a ``review`` note saying what a planner must
fill in or check; ``validate`` lists them until they are cleared."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from sim.errors import ScenarioError
from sim.network import Feature, load_network, osm_features

__all__ = ["FEATURES", "draft_scenario", "write_draft"]

FEATURES: dict[str, dict[str, list[str]]] = {
    "settlements": {"place": ["village", "hamlet", "neighbourhood", "suburb", "quarter",
                              "town", "city_block"], "landuse": ["residential"]},
    "depots": {"amenity": ["community_centre", "townhall"], "office": ["government"]},
    "shelters": {"amenity": ["school"], "leisure": ["sports_centre", "stadium", "pitch",
                                                     "park"]},
    "team_bases": {"amenity": ["fire_station", "hospital"]},
    "water_stations": {"leisure": ["slipway"], "man_made": ["pier"]},
}
"""The OSM tags each section is drafted from."""

DEPOT_TIERS = {"amenity=community_centre": "village", "amenity=townhall": "town",
               "office=government": "county"}
"""社区服务中心 → 村（社区）级储备点, 乡镇政府 → 乡镇（街道）级, 政府机关 → 县（区）级 (a guess
to review)."""
TEAMS = {"amenity=fire_station": "fire", "amenity=hospital": "medical"}
COMMODITIES = [
    {"id": "kit", "name": "食品饮用水包", "unit": "包", "unit_kg": 6, "per_person": 1,
     "main": True},
    {"id": "quilt", "name": "棉被", "unit": "床", "unit_kg": 2.5, "per_person": 1,
     "main": False},
    {"id": "tent", "name": "帐篷", "unit": "顶", "unit_kg": 20, "per_person": 0.25,
     "main": False},
]
"""Assumption (to review): one food-and-water kit per person as the main need; a quilt each
and a tent per four people for effective relief."""


def _entry(feature: Feature, prefix: str, review: str, **fields: Any) -> dict[str, Any]:
    name = feature.name or f"{feature.tag} {feature.osm_id}"
    return {"id": f"{prefix}{feature.osm_id}", "name": name,
            "location": [round(feature.lon, 7), round(feature.lat, 7)], "review": review,
            **fields}


def _source_for(source: str) -> str:
    """A file path as an absolute path (a scenario resolves relative paths against its own
    folder, not the one ``init`` ran in); built-in, place and bbox sources as given."""
    if ":" in source[:10] and not Path(source[:2]).drive:
        return source
    return str(Path(source).expanduser().resolve())


def draft_scenario(source: str, name: str | None = None, *, cache_dir: Path | None = None
                   ) -> dict[str, Any]:
    """A scenario drafted from the extract at ``source`` (a local .osm/.osm.pbf or builtin)."""
    network = load_network(source, cache_dir=cache_dir)  # checks the source, gives the area
    west, south, east, north = network.report.bbox
    tags: dict[str, list[str]] = {}
    for wanted in FEATURES.values():
        for key, values in wanted.items():
            tags[key] = sorted(set(tags.get(key, [])) | set(values))
    found = osm_features(source, tags)
    inside = [f for f in found if west - 0.02 <= f.lon <= east + 0.02
              and south - 0.02 <= f.lat <= north + 0.02]
    by_section: dict[str, list[Feature]] = {k: [] for k in FEATURES}
    for feature in inside:
        key, value = feature.tag.split("=", 1)
        for section, wanted in FEATURES.items():
            if value in wanted.get(key, []):
                by_section[section].append(feature)
                break
    draft: dict[str, Any] = {
        "name": name or f"draft: {network.report.source}",
        "description": "Drafted by reliefsim init from OpenStreetMap; every entry with a "
                       "'review' note needs a planner's check.",
        "network": {"source": _source_for(source)},
        "commodities": COMMODITIES,
        "settlements": [_entry(f, "s", "人口待填 people: fill in (1 is a placeholder)",
                               people=1) for f in by_section["settlements"]],
        "depots": [_entry(f, "d", "库存和车辆待填 stock and trucks: fill in; tier is a guess",
                          tier=DEPOT_TIERS[f.tag], stock={}) for f in by_section["depots"]],
        "shelters": [_entry(f, "h", "容纳人数待填 capacity: fill in", capacity_people=0)
                     for f in by_section["shelters"]],
        "team_bases": [_entry(f, "b", "队伍数待核实 teams: check the count",
                              teams=[{"type": TEAMS[f.tag], "count": 1}])
                       for f in by_section["team_bases"]],
        "water_stations": [_entry(f, "w", "船只数待核实 boats: check", boats={"count": 1})
                           for f in by_section["water_stations"]],
    }
    return {k: v for k, v in draft.items() if v != []}


def write_draft(draft: dict[str, Any], out: Path, *, force: bool = False) -> Path:
    """Write the draft as YAML (never over an existing file unless ``force``)."""
    from ruamel.yaml import YAML

    from sim.files import atomic_write_bytes
    from sim.importer import flow_item

    out = Path(out)
    if out.exists() and not force:
        raise ScenarioError(f"{out}: exists; choose another --out or add --force")
    yaml = YAML()
    yaml.width = 100
    document = {k: ([flow_item(item) for item in v] if isinstance(v, list) else v)
                for k, v in draft.items()}
    buffer = io.StringIO()
    buffer.write("# Drafted by `reliefsim init` from OpenStreetMap. Fill in what each 'review'\n"
                 "# note asks, then clear the note; `reliefsim validate` lists what is left.\n")
    yaml.dump(document, buffer)
    atomic_write_bytes(out, buffer.getvalue().encode("utf-8"))
    return out
