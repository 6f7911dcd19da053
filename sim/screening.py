"""Where sites should not be: inside a hazard zone or a closure area, or far from any road.

``validate`` flags existing depots, shelters, team bases and helipads found there; ``optimize``
leaves candidate sites there out of the location model, each with its reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from sim.scenario import Scenario

__all__ = ["Area", "circle", "hazard_areas", "screen"]


@dataclass(frozen=True)
class Area:
    """A polygon to keep sites out of, and how to name it in a message."""

    label: str
    geometry: Any  # shapely Polygon in lon/lat


def hazard_areas(scenario: Scenario) -> list[Area]:
    """Hazard zones, and the closure areas of disruptions (polygons, or circles of ``near``
    and ``radius_m``) with their time windows."""
    from shapely import Polygon

    areas = [Area(f"{z.kind} zone '{z.id}'", Polygon(z.polygon)) for z in scenario.hazard_zones]
    for d in scenario.disruptions:
        if d.factor is not None:
            continue  # a slow-down does not cut a site off
        end = "end" if d.window.end_h is None else f"{d.window.end_h:g} h"
        label = f"closure area '{d.id}' ({d.window.start_h:g} h–{end})"
        if d.polygon is not None:
            areas.append(Area(label, Polygon(d.polygon)))
        elif d.near is not None and d.radius_m is not None:
            areas.append(Area(label, circle(d.near[0], d.near[1], d.radius_m)))
    return areas


def circle(lon: float, lat: float, radius_m: float, points: int = 128) -> Any:
    """The polygon of all points ``radius_m`` from (lon, lat) on the WGS84 ellipsoid."""
    from pyproj import Geod
    from shapely import Polygon

    azimuths = np.linspace(0.0, 360.0, points, endpoint=False)
    lons, lats, _ = Geod(ellps="WGS84").fwd(np.full(points, lon), np.full(points, lat),
                                            azimuths, np.full(points, radius_m))
    return Polygon(np.column_stack([lons, lats]))


def screen(lonlat: np.ndarray, snap_m: np.ndarray, scenario: Scenario) -> list[str]:
    """For each point, why it is a poor site ("" when none): inside a hazard or closure area,
    or farther than ``network.snap_warn_m`` from the nearest road node."""
    import shapely

    areas = hazard_areas(scenario)
    points = shapely.points(np.asarray(lonlat, dtype=float).reshape(-1, 2))
    reasons = []
    for point, metres in zip(points, np.asarray(snap_m, dtype=float), strict=True):
        found = [a.label for a in areas if a.geometry.covers(point)]
        if metres > scenario.network.snap_warn_m:
            found.append(f"{metres:.0f} m from the nearest road (network.snap_warn_m "
                         f"{scenario.network.snap_warn_m:g} m)")
        reasons.append("; ".join(found))
    return reasons
