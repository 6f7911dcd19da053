"""Uncertain inputs: a distribution in place of a number, drawn afresh in every replication.

Any numeric field of a scenario may be written as a distribution::

    people: {dist: triangular, low: 800, mode: 1200, high: 2000}
    onset_h: {dist: uniform, low: 0, high: 2}
    factor: {dist: truncnormal, mean: 3, sd: 1, low: 1.5, high: 6}
    activation_delay_h: {dist: lognormal, median: 2, sigma: 0.5, high: 12}
    no_show_prob: {dist: choice, values: [0, 0.2, 0.5], weights: [6, 3, 1]}

and so may the top-level ``people_scale`` (a factor on every settlement's people). Reading a
scenario (:func:`extract`) puts each distribution's central value in its place, checks the
scenario at each distribution's lowest and highest value, and records the distribution under
``uncertain`` by a path that names items by id (``settlements[id=wulaocun].people``), so
that placements adding or removing depots do not move it. :func:`draw` gives the concrete
scenario of one replication, every input drawn from the replication's own stream keyed by its
path: every placement sees the same draws (common random numbers). The model only ever sees
numbers.
"""

from __future__ import annotations

import copy
import functools
import math
import re
from collections.abc import Callable
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

__all__ = ["INTEGER_FIELDS", "Distribution", "draw", "drawn_values", "extract", "get_path",
           "number_at", "rounded", "set_path"]

INTEGER_FIELDS = frozenset({"people", "count", "urgency", "distribution_points",
                            "capacity_people", "seats", "stay_days"})
"""Fields that hold whole numbers: a draw is rounded to the nearest."""
KEYS = ("id", "type")
"""List items are named in paths by these keys, the first they have."""


class _Dist(BaseModel):
    model_config = ConfigDict(extra="forbid")

    def central(self) -> float:
        raise NotImplementedError

    def bounds(self) -> tuple[float, float]:
        raise NotImplementedError

    def sample(self, rng: np.random.Generator) -> float:
        raise NotImplementedError


Finite = Annotated[float, Field(allow_inf_nan=False)]


class Triangular(_Dist):
    dist: Literal["triangular"]
    low: Finite
    mode: Finite
    high: Finite

    @model_validator(mode="after")
    def _order(self) -> Triangular:
        if not self.low <= self.mode <= self.high or self.low == self.high:
            raise ValueError(f"expected low ≤ mode ≤ high with low < high, got low "
                             f"{self.low:g}, mode {self.mode:g}, high {self.high:g}")
        return self

    def central(self) -> float:
        return self.mode

    def bounds(self) -> tuple[float, float]:
        return self.low, self.high

    def sample(self, rng: np.random.Generator) -> float:
        return float(rng.triangular(self.low, self.mode, self.high))


class Uniform(_Dist):
    dist: Literal["uniform"]
    low: Finite
    high: Finite

    @model_validator(mode="after")
    def _order(self) -> Uniform:
        if not self.low < self.high:
            raise ValueError(f"expected low < high, got low {self.low:g}, high {self.high:g}")
        return self

    def central(self) -> float:
        return (self.low + self.high) / 2

    def bounds(self) -> tuple[float, float]:
        return self.low, self.high

    def sample(self, rng: np.random.Generator) -> float:
        return float(rng.uniform(self.low, self.high))


class TruncNormal(_Dist):
    """A normal distribution cut to [low, high] (both required: every field is bounded)."""

    dist: Literal["truncnormal"]
    mean: Finite
    sd: Annotated[float, Field(gt=0, allow_inf_nan=False)]
    low: Finite
    high: Finite

    @model_validator(mode="after")
    def _order(self) -> TruncNormal:
        if not self.low < self.high:
            raise ValueError(f"expected low < high, got low {self.low:g}, high {self.high:g}")
        return self

    def _frozen(self) -> Any:
        from scipy import stats  # only when drawing (slow to import)

        a, b = (self.low - self.mean) / self.sd, (self.high - self.mean) / self.sd
        return stats.truncnorm(a, b, loc=self.mean, scale=self.sd)

    def central(self) -> float:
        return float(self._frozen().median())

    def bounds(self) -> tuple[float, float]:
        return self.low, self.high

    def sample(self, rng: np.random.Generator) -> float:
        return float(self._frozen().ppf(rng.random()))


class LogNormal(_Dist):
    """A lognormal distribution by its median and sigma (of the log), cut at ``high`` (and
    ``low``, default 0)."""

    dist: Literal["lognormal"]
    median: Annotated[float, Field(gt=0, allow_inf_nan=False)]
    sigma: Annotated[float, Field(gt=0, allow_inf_nan=False)]
    low: Annotated[float, Field(ge=0, allow_inf_nan=False)] = 0.0
    high: Finite

    @model_validator(mode="after")
    def _order(self) -> LogNormal:
        if not self.low < self.median < self.high:
            raise ValueError(f"expected low < median < high, got low {self.low:g}, median "
                             f"{self.median:g}, high {self.high:g}")
        return self

    def _cdf_range(self) -> tuple[Any, float, float]:
        from scipy import stats  # only when drawing (slow to import)

        law = stats.lognorm(self.sigma, scale=self.median)
        return law, float(law.cdf(self.low)), float(law.cdf(self.high))

    def central(self) -> float:
        return self.median

    def bounds(self) -> tuple[float, float]:
        """``low`` — or, at 0, the median six sigmas down (a quantile of 1e-9: a lognormal
        never reaches 0) — and ``high``."""
        return (self.low or self.median * math.exp(-6 * self.sigma)), self.high

    def sample(self, rng: np.random.Generator) -> float:
        law, lo, hi = self._cdf_range()
        return float(law.ppf(lo + rng.random() * (hi - lo)))


class Choice(_Dist):
    """One of ``values``, with ``weights`` (equal when left out)."""

    dist: Literal["choice"]
    values: list[Finite] = Field(min_length=1)
    weights: list[Annotated[float, Field(ge=0, allow_inf_nan=False)]] | None = None

    @model_validator(mode="after")
    def _weights(self) -> Choice:
        if self.weights is not None and (len(self.weights) != len(self.values)
                                         or sum(self.weights) <= 0):
            raise ValueError(f"expected one weight ≥ 0 per value ({len(self.values)}), not "
                             "all zero")
        return self

    def _p(self) -> np.ndarray:
        w = np.ones(len(self.values)) if self.weights is None else np.asarray(self.weights)
        return w / w.sum()

    def central(self) -> float:
        """The most likely value (the first of the most likely)."""
        return self.values[int(np.argmax(self._p()))]

    def bounds(self) -> tuple[float, float]:
        return min(self.values), max(self.values)

    def sample(self, rng: np.random.Generator) -> float:
        return float(self.values[int(np.searchsorted(np.cumsum(self._p()), rng.random(),
                                                     side="right").clip(0, len(self.values) - 1))])


Distribution = Annotated[Triangular | Uniform | TruncNormal | LogNormal | Choice,
                         Field(discriminator="dist")]
"""One uncertain input's distribution."""

DISTS = ("triangular", "uniform", "truncnormal", "lognormal", "choice")


# -- paths -----------------------------------------------------------------------------------

_SEGMENT = re.compile(r"([^.\[\]]+)|\[(\d+)\]|\[(\w+)=([^\]]+)\]")


def _segments(path: str) -> list[str | int | tuple[str, str]]:
    out: list[str | int | tuple[str, str]] = []
    for name, index, key, value in _SEGMENT.findall(path):
        out.append(name if name else int(index) if index else (key, value))
    return out


def _step(node: Any, segment: str | int | tuple[str, str], path: str) -> Any:
    if isinstance(segment, str):
        if not isinstance(node, dict) or segment not in node:
            raise KeyError(f"{path}: no field '{segment}'")
        return node[segment]
    if not isinstance(node, list):
        raise KeyError(f"{path}: not a list")
    if isinstance(segment, int):
        if segment >= len(node):
            raise KeyError(f"{path}: index {segment} beyond the {len(node)} items")
        return node[segment]
    key, value = segment
    found = [item for item in node if isinstance(item, dict) and str(item.get(key)) == value]
    if not found:
        names = [str(item.get(key)) for item in node if isinstance(item, dict)]
        raise KeyError(f"{path}: no item with {key} '{value}' (items: {', '.join(names)})")
    return found[0]


def get_path(data: Any, path: str) -> Any:
    """The value at ``path`` (``settlements[id=x].people``, ``generators[0].rate_per_h``)."""
    node = data
    for segment in _segments(path):
        node = _step(node, segment, path)
    return node


def number_at(data: Any, path: str) -> float | int | None:
    """The number at ``path`` (None for an optional number not set); KeyError when the path
    does not resolve, TypeError when it holds something else than a number."""
    value = get_path(data, path)
    if isinstance(value, bool) or not isinstance(value, (int, float, type(None))):
        raise TypeError(f"{path} — not a number field")
    return value


def set_path(data: Any, path: str, value: Any) -> None:
    """Set the value at ``path`` (the field is created in a mapping that lacks it)."""
    *head, last = _segments(path)
    node = data
    for segment in head:
        node = _step(node, segment, path)
    fits = ((isinstance(last, str) and isinstance(node, dict))
            or (isinstance(last, int) and isinstance(node, list) and last < len(node)))
    if not fits:
        raise KeyError(f"{path}: cannot set here")
    node[last] = value


# -- reading ---------------------------------------------------------------------------------


def extract(data: dict[str, Any], origin: str,
            validate: Callable[[dict[str, Any]], Any]) -> dict[str, Any]:
    """``data`` with each inline distribution replaced by its central value and recorded under
    ``uncertain`` (merged with any given there); ``validate`` (raising ScenarioError) checks
    the scenario with each input at its lowest and highest value."""
    from pydantic import ValidationError

    from sim.errors import ScenarioError

    found: dict[str, Any] = {}
    data = copy.deepcopy(data)
    _walk(data, "", found)
    given = data.get("uncertain") or {}
    if not isinstance(given, dict):
        raise ScenarioError(f"{origin}: uncertain: expected a mapping of path → distribution")
    adapter = _distribution_reader()
    dists: dict[str, Any] = {}
    for path, spec in {**given, **found}.items():
        try:
            dists[path] = adapter.validate_python(spec)
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(map(str, e['loc'][1:])) or 'dist'}: {e['msg']}".removeprefix(
                    "dist: ") for e in exc.errors())
            raise ScenarioError(f"{origin}: {path}: {_short(spec)} — {problems} (a "
                                f"distribution: {', '.join(DISTS)})") from None
        try:
            if path not in found:  # an inline distribution stands where the number goes
                number_at(data, path)
            else:
                get_path(data, path)
        except KeyError as exc:
            raise ScenarioError(f"{origin}: uncertain: {exc.args[0]}") from None
        except TypeError as exc:
            raise ScenarioError(f"{origin}: uncertain: {exc}") from None
        set_path(data, path, rounded(path, dists[path].central()))
    if not dists:
        return data
    data["uncertain"] = {p: d.model_dump() for p, d in dists.items()}
    for path, dist in dists.items():  # every input at both ends of its range
        for end, value in zip(("low", "high"), dist.bounds(), strict=True):
            trial = copy.deepcopy(data)
            trial.pop("uncertain")
            set_path(trial, path, rounded(path, value))
            try:
                validate(trial)
            except ScenarioError as exc:
                raise ScenarioError(f"{origin}: {path}: its {end} value {value:g} is not a "
                                    f"valid value here:\n{exc}") from None
    return data


def _walk(node: Any, path: str, found: dict[str, Any]) -> None:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "uncertain" and not path:
                continue
            here = f"{path}.{key}" if path else str(key)
            if isinstance(value, dict) and "dist" in value:
                found[here] = value
            else:
                _walk(value, here, found)
    elif isinstance(node, list):
        for i, item in enumerate(node):
            name = next((f"[{k}={item[k]}]" for k in KEYS
                         if isinstance(item, dict) and isinstance(item.get(k), str)), f"[{i}]")
            if isinstance(item, dict) and "dist" in item:
                found[f"{path}{name}"] = item
            else:
                _walk(item, f"{path}{name}", found)


def rounded(path: str, x: float) -> float | int:
    """``x`` as the field at ``path`` holds it: whole numbers rounded."""
    field = path.rsplit(".", 1)[-1]
    return round(x) if field in INTEGER_FIELDS else float(x)


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "…"


# -- drawing ---------------------------------------------------------------------------------


@functools.cache
def _distribution_reader() -> Any:
    """The validator of a distribution (built once: building it costs more than a draw)."""
    from pydantic import TypeAdapter

    return TypeAdapter(Distribution)


def drawn_values(uncertain: dict[str, Any], seed: int, replication: int
                 ) -> dict[str, float | int]:
    """Each uncertain input's value in one replication, from its own stream."""
    from sim.model.streams import stream

    adapter = _distribution_reader()
    out: dict[str, float | int] = {}
    for path, spec in sorted(uncertain.items()):
        dist = adapter.validate_python(spec)
        out[path] = rounded(path, dist.sample(stream(seed, replication, "inputs", path)))
    return out


def draw(scenario: Any, seed: int, replication: int) -> Any:
    """The concrete scenario of one replication (the scenario itself when nothing is
    uncertain and people are not scaled)."""
    from sim.scenario import dump_scenario, parse_scenario

    if not scenario.uncertain and scenario.people_scale == 1.0:
        return scenario
    data = dump_scenario(scenario)
    values = drawn_values(data.pop("uncertain"), seed, replication)
    for path, value in values.items():
        try:
            set_path(data, path, value)
        except KeyError:
            continue  # removed in this configuration (a placement, a variant without closures)
    scale = data.pop("people_scale")
    for s in data["settlements"]:
        s["people"] = max(1, round(s["people"] * scale))
    return parse_scenario(data, origin=f"replication {replication} (drawn inputs)")


def is_uncertain(scenario: Any) -> bool:
    return bool(scenario.uncertain) or scenario.people_scale != 1.0

