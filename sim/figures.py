"""Figures for plan drafts, in Chinese or English, from a run or an experiment directory.

``make_figures(results_dir, out_dir)`` draws what the directory supports: for a run, the map,
relief ECDF, arrival times and time line; for an experiment, additionally the comparison per
variant, the variants' effect, cost vs benefit and the baseline option's figures. Each figure
is numbered (图1 …) with its Chinese (or English) caption and a source line below it, as a
plan draft shows figures; PNG at 300 dpi plus SVG/PDF. Names, never ids; shares in %; hours
as 小时. The CJK font installs with the package (see :mod:`sim.fonts`).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.errors import ReliefsimError
from sim.files import atomic_write_bytes, publish_dir
from sim.fonts import use_cjk_font
from sim.glossary import CAPTIONS, FIGURE_LABELS, kpi_label, label, source_line, variant_label
from sim.results import read_example
from sim.scenario import TIERS, Scenario, parse_scenario

__all__ = ["LABELS", "Plate", "figure_plates", "make_figures", "render", "save_figure",
           "sensitivity_bars"]

LABELS = FIGURE_LABELS

TIER_COLOURS = dict(zip(TIERS, ("#8c564b", "#ff7f0e", "#1f77b4", "#9467bd", "#2ca02c",
                                "#d62728", "#7f7f7f"), strict=True))


def _plt() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    use_cjk_font()
    plt.rcParams.update({"axes.spines.top": False, "axes.spines.right": False,
                         "axes.grid": True, "grid.alpha": 0.3, "figure.dpi": 100,
                         "axes.formatter.useoffset": False})
    return plt


def _percent(axis: Any) -> None:
    """Tick labels of a share axis (values 0–1) as per cent (the axis label says %), with as
    many decimals as the tick spacing needs (68, 70 … or 0.5, 1.0 …)."""
    from matplotlib.ticker import FuncFormatter

    def percent(value: float, _: Any) -> str:
        ticks = axis.get_majorticklocs()
        step = float(np.min(np.diff(ticks))) * 100 if len(ticks) > 1 else 1.0
        decimals = max(0, -math.floor(math.log10(step))) if step > 0 else 0
        text = f"{value * 100:.{decimals}f}"
        return text.lstrip("-") if float(text) == 0 else text

    axis.set_major_formatter(FuncFormatter(percent))


@dataclass(frozen=True)
class Plate:
    """A figure to be drawn: file name (no suffix), caption (without its number), drawer."""

    name: str
    caption: str
    draw: Callable[[], Any]


def caption(key: str, lang: str, **fields: str) -> str:
    zh, en = CAPTIONS[key]
    return (zh if lang == "zh" else en).format(**fields)


def save_figure(fig: Any, out_dir: Path, name: str, formats: Sequence[str], *,
                number: int | None = None, text: str = "", source: str = "",
                lang: str = "zh") -> list[Path]:
    """Write ``fig`` as ``name`` in each format (PNG at 300 dpi) and close it; with
    ``number``/``text``, the numbered caption (图1 …) and ``source`` go below the figure."""
    from matplotlib.transforms import offset_copy

    lines = []
    if number is not None and text:
        sep = "\u3000" if lang == "zh" else ". "
        lines.append((LABELS[lang]["figure"].format(n=number) + sep + text, 10.5, "center"))
    if source:
        lines.append((source, 7.5, "left"))
    if lines:  # below everything drawn so far (tick labels, axis labels, notes)
        bottom = fig.get_tightbbox(fig.canvas.get_renderer()).y0 / fig.get_figheight()
    below = 6.0  # points below that (bbox_inches="tight" takes them in)
    for line, size, align in lines:
        fig.text(0.5 if align == "center" else 0.0, bottom, line, ha=align, va="top",
                 fontsize=size, color="#222" if align == "center" else "#555",
                 transform=offset_copy(fig.transFigure, fig=fig, y=-below, units="points"))
        below += size * 1.6
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for fmt in formats:
        path = out_dir / f"{name}.{fmt}"
        path.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path, dpi=300 if fmt == "png" else None, bbox_inches="tight",
                    pad_inches=0.12)
        paths.append(path)
    _plt().close(fig)
    return paths


# -- single figures ---------------------------------------------------------------------------


def relief_ecdf(relief: pd.DataFrame, scenario: Scenario, lang: str) -> Any:
    """People-weighted ECDF of time to initial and effective relief with the targets; people
    never relieved within the horizon are counted in the legend (the curve stops short)."""
    plt, t = _plt(), LABELS[lang]
    fig, ax = plt.subplots(figsize=(7, 4.2))
    targets = scenario.targets
    for col, target, colour, name in (
            ("effective_h", targets.effective_relief_h, "#ff7f0e", t["effective"]),
            ("initial_h", targets.initial_relief_h, "#1f77b4", t["initial"])):
        values, weights = relief[col].to_numpy(float), relief.people.to_numpy(float)
        order = np.argsort(values)
        v, cum = values[order], np.cumsum(weights[order]) / max(weights.sum(), 1)
        finite = np.isfinite(v)
        never = float(weights[~np.isfinite(values)].sum())
        legend = name + (f"（{t['never_people'].format(n=never)}）" if lang == "zh" and never
                         else f" ({t['never_people'].format(n=never)})" if never else "")
        ax.step(np.r_[0, v[finite]], np.r_[0, cum[finite]], where="post", color=colour,
                label=legend, lw=2.2 if col == "effective_h" else 1.4)
        share = float(weights[values <= target].sum() / max(weights.sum(), 1))
        ax.axvline(target, color=colour, ls="--", lw=1)
        ax.annotate(f"{t['target']} {target:g} {t['h']}: {t['within']} {share:.1%}",
                    (target, share), xytext=(6, -14 if col == "initial_h" else 8),
                    textcoords="offset points", color=colour, fontsize=9)
    ax.set(xlabel=t["hours"], ylabel=t["share_people"], ylim=(0, 1.02))
    _percent(ax.yaxis)
    handles, labels = ax.get_legend_handles_labels()
    ax.legend(handles[::-1], labels[::-1], loc="lower right")
    return fig


def arrival_times(incidents: pd.DataFrame, scenario: Scenario, lang: str) -> Any:
    """Arrival time per incident type (points and box), with the river and sea targets."""
    plt, t = _plt(), LABELS[lang]
    incidents = incidents.copy()
    if "arrival_h" not in incidents:
        incidents["arrival_h"] = incidents.first_arrival_h - incidents.call_h
    types = [k for k in scenario.incident_types if (incidents.type == k.id).any()]
    fig, ax = plt.subplots(figsize=(7, 0.9 + 0.55 * max(len(types), 1)))
    targets = {"river": scenario.targets.inland_river_arrival_h,
               "sea": scenario.targets.sea_arrival_h}
    rng = np.random.default_rng(0)
    for i, kind in enumerate(types):
        values = incidents.loc[incidents.type == kind.id, "arrival_h"].to_numpy(float)
        values = values[np.isfinite(values)]
        if len(values):
            ax.boxplot(values, positions=[i], orientation="horizontal", widths=0.5,
                       showfliers=False)
            ax.scatter(values, i + rng.uniform(-0.18, 0.18, len(values)), s=8, alpha=0.5)
        target = kind.target_h or targets.get(kind.mode)
        if target:
            ax.plot([target, target], [i - 0.4, i + 0.4], color="#d62728", lw=2)
            ax.annotate(f"{t['target']} {target:g} {t['h']}", (target, i + 0.3), fontsize=8,
                        color="#d62728", xytext=(3, 0), textcoords="offset points")
    ax.set_yticks(range(len(types)), [k.name or k.id for k in types])
    ax.set(xlabel=t["arrival_h"])
    return fig


def timeline(tables: dict[str, pd.DataFrame], scenario: Scenario, lang: str) -> Any:
    """People relieved, stock of the main commodity by depot, vehicles busy, and closure
    windows over time."""
    from matplotlib.patches import Patch

    plt, t = _plt(), LABELS[lang]
    horizon = scenario.horizon_h
    grid = np.linspace(0, horizon, 400)
    fig, axes = plt.subplots(3, 1, figsize=(8, 7), sharex=True)
    relief, settlements = tables["relief"], tables["settlements"]
    onset = settlements.set_index("settlement").onset_h
    absolute = relief.initial_h + relief.settlement.map(onset)
    order = np.argsort(absolute.to_numpy())
    axes[0].step(np.r_[0, absolute.to_numpy()[order]],
                 np.r_[0, np.cumsum(relief.people.to_numpy()[order])], where="post")
    axes[0].set_ylabel(t["people_relieved"])
    main = next(c for c in scenario.commodities if c.main)
    stock = tables["stock"]
    for depot in scenario.depots:
        rows = stock[(stock.commodity == main.id) & (stock.depot == depot.id)]
        start = depot.stock.get(main.id, 0.0) if depot.kind == "physical" else 0.0
        levels = np.r_[start, rows.level, rows.level.iloc[-1] if len(rows) else start]
        axes[1].step(np.r_[0.0, rows.time_h, horizon], levels, where="post",
                     label=depot.name or depot.id)
    axes[1].set_ylabel(t["stock"].format(name=main.name or main.id, unit=main.unit or ""))
    axes[1].legend(fontsize=7, ncol=2)
    trips = tables["trips"]
    for kind, name in ((trips.kind == "truck", t["trucks"]), (trips.kind != "truck", t["teams"])):
        rows = trips[kind]
        busy = ((rows.start_h.to_numpy()[:, None] <= grid) &
                (grid < rows.end_h.to_numpy()[:, None])).sum(axis=0)
        axes[2].plot(grid, busy, label=name)
    axes[2].set(ylabel=t["busy"], xlabel=t["hours"], xlim=(0, horizon))
    handles, _ = axes[2].get_legend_handles_labels()
    closures = tables["closures"]
    for c in closures.itertuples():
        for ax in axes:
            ax.axvspan(c.start_h, min(c.end_h, horizon), color="#d62728", alpha=0.08, lw=0)
    if len(closures):
        handles.append(Patch(color="#d62728", alpha=0.15, label=t["closure"]))
    axes[2].legend(handles=handles, fontsize=8)
    return fig


def _option_label(row: Any, policies: bool, lang: str) -> str:
    text = str(row.placement)
    if policies:
        text += f" / {label('policy', row.policy, lang)}"
    return text + (" ≈" if bool(getattr(row, "same_as_best", False)) else "")


def comparison(summary: pd.DataFrame, kpi: str, lang: str, statistic: str = "share_within",
               scenario: Scenario | None = None) -> Any:
    """Per variant (one row of panels each): the KPI's statistic with its 95 % interval, the
    paired difference from the baseline option, and the probability of being best."""
    plt, t = _plt(), LABELS[lang]
    rows = summary[(summary.kpi == kpi) & (summary.n > 0)]
    variants = list(dict.fromkeys(rows.variant))
    order = {p: k for k, p in enumerate(dict.fromkeys(rows.placement))}
    policies = rows.policy.nunique() > 1
    share = statistic == "share_within"
    n_options = rows.groupby("variant").size().max()
    fig = plt.figure(figsize=(11, len(variants) * (0.9 + 0.42 * n_options) + 0.3))
    panels = fig.subfigures(len(variants), 1, squeeze=False)[:, 0]
    for panel, variant in zip(panels, variants, strict=True):
        part = rows[rows.variant == variant].sort_values(
            "placement", key=lambda c: c.map(order), kind="stable").reset_index(drop=True)
        y = np.arange(len(part))[::-1]
        axes = panel.subplots(1, 3, sharey=True)
        centre_col, low, high = (("share_within", "share_ci_low", "share_ci_high") if share
                                 else ("mean", "ci_low", "ci_high"))
        for ax, (col, lo, hi) in zip(axes[:2], ((centre_col, low, high),
                                                ("diff_mean", "diff_ci_low", "diff_ci_high")),
                                     strict=True):
            centre = part[col].to_numpy(float)
            err = np.vstack([centre - part[lo].to_numpy(float), part[hi].to_numpy(float) - centre])
            ax.errorbar(centre, y, xerr=np.nan_to_num(np.abs(err)), fmt="o", capsize=3)
            if share:
                _percent(ax.xaxis)
        axes[0].set_xlabel(t["share_within"] if share else t["mean_h"], fontsize=9)
        axes[1].set_xlabel(t["diff"] if share else t["diff_h"], fontsize=9)
        axes[1].axvline(0, color="k", lw=0.8)
        axes[2].barh(y, part.p_best.fillna(0), color="#2ca02c")
        for yy, value in zip(y, part.p_best.fillna(0), strict=True):
            axes[2].annotate(f"{value:.0%}", (value, yy), xytext=(3, -3),
                             textcoords="offset points", fontsize=8)
        axes[2].set_xlim(0, 1.15)
        _percent(axes[2].xaxis)
        axes[2].set_xlabel(t["p_best"], fontsize=9)
        axes[0].set_yticks(y, [_option_label(r, policies, lang) for r in part.itertuples()])
        panel.suptitle(variant_label(str(variant), lang), x=0.02, ha="left", fontsize=10.5)
    if rows.get("same_as_best", pd.Series(dtype=bool)).astype(bool).any():
        fig.text(1.0, 1.0, t["tie"], fontsize=8, ha="right", va="bottom")
    return fig


def pareto(summary: pd.DataFrame, kpi: str, lang: str) -> Any | None:
    """Cost vs share within target per option (one panel, a marker per variant); the Pareto
    front joined by a line."""
    if "cost_wan" not in summary or not (summary.cost_wan > 0).any():
        return None
    from adjustText import adjust_text

    rows = summary[summary.kpi == kpi]
    plt, t = _plt(), LABELS[lang]
    fig, ax = plt.subplots(figsize=(7, 5))
    texts = []
    for k, (variant, part) in enumerate(rows.groupby("variant", sort=False)):
        colour = plt.rcParams["axes.prop_cycle"].by_key()["color"][k % 10]
        ax.scatter(part.cost_wan, part.share_within, color=colour, zorder=3,
                   label=variant_label(str(variant), lang))
        front = part[part.pareto].sort_values("cost_wan")
        ax.plot(front.cost_wan, front.share_within, color=colour, lw=1, zorder=2)
        texts += [ax.text(r.cost_wan, r.share_within, r.placement, fontsize=7)
                  for r in part.itertuples()]
    adjust_text(texts, ax=ax, arrowprops={"arrowstyle": "-", "color": "#888", "lw": 0.5})
    _percent(ax.yaxis)
    ax.set(xlabel=t["cost_wan"], ylabel=t["share_pct"])
    ax.legend(fontsize=7)
    return fig


def tornado(summary: pd.DataFrame, kpi: str, baseline: str, lang: str) -> Any | None:
    """Change of the KPI's share within target per variant vs the first (base) variant."""
    rows = summary[(summary.kpi == kpi) & (summary.placement == baseline)]
    if rows.variant.nunique() < 2:
        return None
    plt, t = _plt(), LABELS[lang]
    base, base_name = rows.iloc[0].share_within, variant_label(str(rows.iloc[0].variant), lang)
    changes = (rows.set_index("variant").share_within - base).iloc[1:].sort_values(key=abs)
    fig, ax = plt.subplots(figsize=(7, 0.9 + 0.45 * len(changes)))
    ax.barh([variant_label(str(v), lang) for v in changes.index], changes.to_numpy(),
            color=["#d62728" if v < 0 else "#2ca02c" for v in changes])
    ax.axvline(0, color="k", lw=0.8)
    _percent(ax.xaxis)
    ax.set(xlabel=t["change"].format(base=base_name))
    return fig


def sensitivity_bars(indices: pd.DataFrame, kpi: str, method: str, lang: str) -> Any:
    """Factors by their influence on one KPI: μ* (Morris) or S1 and ST (Sobol'), with their
    95 % intervals, the most influential on top."""
    plt, t = _plt(), LABELS[lang]
    rows = indices[indices.kpi == kpi]
    shown = ["mu_star"] if method == "morris" else ["ST", "S1"]
    main = rows[rows["index"] == shown[0]].sort_values("value")
    order = list(main.factor)
    fig, ax = plt.subplots(figsize=(7, 1.0 + 0.5 * len(order)))
    height = 0.8 / len(shown)
    for k, index in enumerate(shown):
        part = rows[rows["index"] == index].set_index("factor").loc[order]
        ax.barh(np.arange(len(order)) + (k - (len(shown) - 1) / 2) * height, part.value,
                height=height, xerr=part.conf.fillna(0).to_numpy(), capsize=3,
                label=t[index], color=("#1f77b4", "#ff7f0e")[k])
    ax.set_yticks(range(len(order)), order)
    ax.axvline(0, color="k", lw=0.8)
    ax.set(xlabel=t[shown[0]] if len(shown) == 1 else "")
    if len(shown) > 1:
        ax.legend(fontsize=8)
    return fig


# -- directories ------------------------------------------------------------------------------


def baseline_run(results_dir: Path) -> Path:
    """The run folder that stands for a results folder: itself, or for a finished experiment
    its baseline placement's example run (replication 0)."""
    manifest_path = Path(results_dir) / "manifest.json"
    if not manifest_path.exists():
        return Path(results_dir)
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    if not manifest.get("complete"):
        raise ReliefsimError(f"{results_dir}: the experiment is not finished")
    baseline = next(c["id"] for c in manifest["configs"]
                    if c["placement"] == manifest["baseline"])
    return Path(results_dir) / "runs" / baseline


def read_run(run_dir: Path) -> tuple[dict[str, Any], Scenario, dict[str, pd.DataFrame]]:
    """A run directory's summary, scenario and tables."""
    summary_path = run_dir / "summary.json"
    if summary_path.exists():
        summary = json.loads(summary_path.read_text(encoding="utf-8"))
        tables = {p.stem: pd.read_parquet(p) for p in run_dir.glob("*.parquet")}
    elif (example := read_example(run_dir)) is not None:  # an experiment's example run
        summary, tables = example
    else:
        raise ReliefsimError(f"{run_dir}: not a run directory (no summary.json)")
    scenario = parse_scenario(summary["scenario_definition"], origin=str(summary_path))
    return summary, scenario, tables


def _closed_edges(world: Any, summary: dict[str, Any]) -> np.ndarray:
    from sim.model.disruptions import disruption_edges

    closed = [disruption_edges(world, d, summary["seed"], summary["replication"])
              for d in world.scenario.disruptions if d.factor is None]
    return np.unique(np.concatenate(closed)) if closed else np.zeros(0, dtype=int)


def run_plates(run_dir: Path, *, lang: str, cache_dir: Path | None, prefix: str = ""
               ) -> list[Plate]:
    """The figures of one run: map, relief ECDF, arrivals, time line, and the 15-minute
    life-support circle when the scenario has settlements and depots or shelters."""
    from sim.maps import relief_map
    from sim.world import build_world

    summary, scenario, tables = read_run(run_dir)
    world = build_world(scenario, cache_dir=cache_dir)
    closed = _closed_edges(world, summary)
    return [
        Plate(f"{prefix}map", caption("map", lang),
              lambda: relief_map(world, tables["relief"], closed, lang)),
        Plate(f"{prefix}relief_ecdf", caption("relief_ecdf", lang),
              lambda: relief_ecdf(tables["relief"], scenario, lang)),
        Plate(f"{prefix}arrivals", caption("arrivals", lang),
              lambda: arrival_times(tables["incidents"], scenario, lang)),
        Plate(f"{prefix}timeline", caption("timeline", lang),
              lambda: timeline(tables, scenario, lang)),
        *_life_circle_plates(world, lang, prefix),
        *([Plate(f"{prefix}shelters", caption("shelters", lang),
                 lambda: shelter_occupancy(tables, scenario, lang))]
          if len(tables.get("evacuees", ())) else []),
    ]


def shelter_occupancy(tables: dict[str, pd.DataFrame], scenario: Scenario, lang: str) -> Any:
    """People admitted to each shelter over time against its capacity (dashed), and the
    people without a place."""
    from sim.glossary import EVACUATION_LABELS

    plt, t, e = _plt(), LABELS[lang], EVACUATION_LABELS[lang]
    evacuees, shelters = tables["evacuees"], tables["shelters"]
    names = {s.id: s.name or s.id for s in scenario.shelters}
    fig, ax = plt.subplots(figsize=(7.5, 4.2))
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for k, row in enumerate(shelters.itertuples()):
        colour = colours[k % len(colours)]
        part = evacuees[evacuees.shelter == row.shelter].sort_values("admitted_h")
        ax.step(np.r_[0.0, part.admitted_h.to_numpy()],
                np.r_[0.0, np.cumsum(part.people.to_numpy())], where="post", color=colour,
                label=f"{names.get(row.shelter, row.shelter)}（{e['capacity']} {row.capacity:,}）"
                if lang == "zh" else f"{names.get(row.shelter, row.shelter)} ({e['capacity']} "
                f"{row.capacity:,})")
        ax.axhline(row.capacity, color=colour, ls="--", lw=0.9)
    ax.set(xlabel=t["hours"], ylabel=e["admitted"], xlim=(0, None), ylim=(0, None))
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1), borderaxespad=0)
    return fig


def _life_circle_plates(world: Any, lang: str, prefix: str) -> list[Plate]:
    """The 15-minute life-support circle (walking network loaded when first drawn)."""
    scenario = world.scenario
    if not scenario.settlements or not (scenario.depots or scenario.shelters):
        return []

    def draw() -> Any:
        from sim.maps import life_circle_map
        from sim.walking import life_circle
        from sim.world import attach_walk

        attach_walk(world)
        frame = life_circle(world, minutes=float(scenario.targets.life_circle_min),
                            kmh=scenario.evacuation_settings.walk_kmh)
        return life_circle_map(world, frame, lang)

    return [Plate(f"{prefix}life_circle", caption("life_circle", lang), draw)]


def experiment_plates(exp_dir: Path, *, lang: str, cache_dir: Path | None) -> list[Plate]:
    """The figures of a finished experiment: comparison per variant, the variants' effect,
    cost vs benefit, all replications of the baseline option, and its example run."""
    manifest = json.loads((exp_dir / "manifest.json").read_text(encoding="utf-8"))
    if not manifest.get("complete"):
        raise ReliefsimError(f"{exp_dir}: the experiment is not finished (run compare "
                             "--resume first)")
    summary = pd.read_parquet(exp_dir / "summary.parquet")
    kpi, baseline = manifest["kpi"], manifest["baseline"]
    statistic = manifest.get("statistic", "share_within")
    base_config = next(c["id"] for c in manifest["configs"] if c["placement"] == baseline)
    _, scenario, _ = read_run(exp_dir / "runs" / base_config)
    rows = summary[summary.kpi == kpi]
    target = float(rows.target.iloc[0]) if len(rows) else None
    types = {k.id: k.name or k.id for k in scenario.incident_types}
    name = kpi_label(kpi, lang, share=statistic == "share_within", target_h=target,
                     type_names=types)
    plates = [Plate("comparison", caption("comparison", lang, kpi=name),
                    lambda: comparison(summary, kpi, lang, statistic))]
    if tornado(summary, kpi, baseline, lang) is not None:  # cheap: a bar per variant
        plates.append(Plate("sensitivity", caption("sensitivity", lang, kpi=name),
                            lambda: tornado(summary, kpi, baseline, lang)))
    if "cost_wan" in summary and (summary.cost_wan > 0).any():
        plates.append(Plate("pareto", caption("pareto", lang, kpi=name),
                            lambda: pareto(summary, kpi, lang)))
    from sim.batch import load_results

    base_tables = load_results(exp_dir, manifest.get("replications"),
                               tables=("relief", "incidents"), config=base_config)
    plates += [
        Plate("relief_ecdf_all_replications", caption("relief_ecdf_all_replications", lang),
              lambda: relief_ecdf(base_tables["relief"], scenario, lang)),
        Plate("arrivals_all_replications", caption("arrivals_all_replications", lang),
              lambda: arrival_times(base_tables["incidents"], scenario, lang)),
    ]
    return plates + run_plates(exp_dir / "runs" / base_config, lang=lang, cache_dir=cache_dir,
                               prefix="baseline_run/")


def figure_plates(results_dir: Path, *, lang: str, cache_dir: Path | None
                  ) -> tuple[list[Plate], str]:
    """Every figure a run or experiment directory supports, and their source line."""
    results_dir = Path(results_dir)
    if (results_dir / "manifest.json").exists():
        manifest = json.loads((results_dir / "manifest.json").read_text(encoding="utf-8"))
        plates = experiment_plates(results_dir, lang=lang, cache_dir=cache_dir)
        summary, scenario, _ = read_run(baseline_run(results_dir))
        source = source_line(lang, scenario=scenario.name, version=summary["versions"].get(
            "reliefsim", ""), replications=manifest.get("replications"))
    else:
        plates = run_plates(results_dir, lang=lang, cache_dir=cache_dir)
        summary, scenario, _ = read_run(results_dir)
        source = source_line(lang, scenario=scenario.name, version=summary["versions"].get(
            "reliefsim", ""), seed=summary["seed"])
    return plates, source


def render(plates: Sequence[Plate], out_dir: Path, *, lang: str, formats: Sequence[str],
           source: str, captions: bool = True) -> list[tuple[int, Plate, list[Path]]]:
    """Draw and save each plate, numbered from 1; ``captions``: the numbered caption and
    the source line go into the image (a report places them as text instead)."""
    done = []
    for number, plate in enumerate(plates, start=1):
        fig = plate.draw()
        paths = save_figure(fig, out_dir, plate.name, formats, lang=lang,
                            number=number if captions else None,
                            text=plate.caption if captions else "",
                            source=source if captions else "")
        done.append((number, plate, paths))
    return done


def make_figures(results_dir: str | Path, out_dir: str | Path | None = None, *,
                 lang: str = "zh", formats: Sequence[str] = ("png", "svg", "pdf"),
                 cache_dir: Path | None = None) -> list[Path]:
    """Every figure a run or experiment directory supports, numbered and captioned, plus
    ``captions.txt`` (the list of figures); returns the files written."""
    results_dir = Path(results_dir)
    if lang not in LABELS:
        raise ReliefsimError(f"--lang: {lang!r} — expected one of {sorted(LABELS)}")
    bad = [f for f in formats if f not in ("png", "svg", "pdf")]
    if bad:
        raise ReliefsimError(f"--format: {bad} — expected png, svg and/or pdf")
    out = Path(out_dir) if out_dir is not None else results_dir / f"figures_{lang}"
    plates, source = figure_plates(results_dir, lang=lang, cache_dir=cache_dir)
    with publish_dir(out, "figures") as tmp:
        done = render(plates, tmp, lang=lang, formats=formats, source=source)
        figure = LABELS[lang]["figure"]
        listing = "".join(f"{figure.format(n=n)}\t{plate.caption}\t{plate.name}\n"
                          for n, plate, _ in done) + source + "\n"
        atomic_write_bytes(tmp / "captions.txt", listing.encode("utf-8"))
        paths = [p for _, _, ps in done for p in ps] + [tmp / "captions.txt"]
    return [out / p.relative_to(tmp) for p in paths]
