"""Command-line interface (typer + rich). Thin: parses arguments and calls public functions.

Exit codes: 0 success, 1 a target failed where the command checks targets, 2 bad input.
"""

from __future__ import annotations

import functools
import signal
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from sim.errors import ReliefsimError

app = typer.Typer(
    help="reliefsim — disaster relief and rescue simulation on real OSM networks.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
network_app = typer.Typer(help="Inspect and download road networks.", no_args_is_help=True)
app.add_typer(network_app, name="network")

console = Console()
err_console = Console(stderr=True)

F = TypeVar("F", bound=Callable[..., Any])

CACHE_OPTION = Annotated[
    Path, typer.Option("--cache-dir", help="Where prepared networks are cached.")
]
DEFAULT_CACHE = Path("networks/cache")
RESULTS_ARG = Annotated[Path, typer.Argument(help="A run or experiment results directory.")]
LANG_OPTION = Annotated[str, typer.Option(help="zh or en.")]


def user_errors(func: F) -> F:
    """Report :class:`ReliefsimError` as one red message and exit 2 (no traceback)."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except ReliefsimError as exc:
            err_console.print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False,
                              soft_wrap=True)
            raise typer.Exit(2) from None
        except OSError as exc:  # the machine's, not the model's: disk full, no permission …
            where = f"{exc.filename}: " if exc.filename else ""
            err_console.print(f"[bold red]error:[/] {escape(where + (exc.strerror or str(exc)))}",
                              highlight=False, soft_wrap=True)
            raise typer.Exit(2) from None

    return wrapper  # type: ignore[return-value]


def _warn(warnings: list[str]) -> None:
    for warning in warnings:
        err_console.print(f"[yellow]warning:[/] {escape(warning)}", highlight=False,
                          soft_wrap=True)


def _terminate_as_interrupt() -> None:
    """``kill`` (SIGTERM) ends a command like Ctrl-C: its clean-up runs, nothing is left."""
    def handler(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, handler)


SEED_OPTION = Annotated[int | None, typer.Option(
    min=0, max=2**63 - 1, help="Random seed, 0 … 2⁶³−1 (default: the scenario's).")]
YES_OPTION = Annotated[bool, typer.Option(
    "--yes", help="Start even when the work is estimated above the limits (30 min, 4 GB).")]


@app.command()
@user_errors
def validate(
    scenario: Annotated[Path, typer.Argument(help="Scenario or experiment YAML file.")],
    cache_dir: CACHE_OPTION = DEFAULT_CACHE,
    schema_only: Annotated[
        bool, typer.Option("--schema-only", help="Check the file only, not against the network.")
    ] = False,
) -> None:
    """Check a scenario (or an experiment, its base and every placement) and its sites
    against the network; warn about what cannot work as meant."""
    from sim.scenario import load_scenario, pre_run_warnings, read_yaml
    from sim.world import build_world

    name, origin = escape(str(scenario)), str(scenario)
    data = read_yaml(scenario)
    if isinstance(data, dict) and "base" in data and "placements" in data:  # an experiment
        from sim.experiment import configurations, load_experiment

        experiment, spec = load_experiment(scenario)
        configs = configurations(experiment, spec, origin=str(scenario))
        what = f"experiment {escape(experiment.name)}, {len(configs)} configurations"
        origin = str(scenario.parent / experiment.base)
    else:
        spec, configs = load_scenario(scenario), []
        what = escape(spec.name)
    if schema_only:
        _warn(pre_run_warnings(spec))
        console.print(f"[green]ok[/] {name}: schema valid ({what})")
        return
    world = build_world(spec, cache_dir=cache_dir, origin=origin)
    warnings = list(world.warnings)
    for config in configs:
        placed = world.with_scenario(config.scenario, origin=f"{scenario}: placement "
                                     f"{config.placement!r}")
        warnings += [w for w in placed.warnings if w not in warnings]
    _warn(warnings)
    print_service_areas(world)
    console.print(f"[green]ok[/] {name}: {what} — {len(world.sites)} sites on a network of "
                  f"{world.road.report.n_nodes} nodes")


def print_service_areas(world: Any) -> None:
    """Which settlements each depot serves as their own (属地), and how that was found."""
    from sim.glossary import label
    from sim.world import service_table

    rows = service_table(world)
    if rows.empty or not world.scenario.settlements:
        return
    names = {s.id: s.name or s.id for s in world.scenario.settlements}
    table = Table(title="服务范围 service areas (属地)", title_justify="left")
    for col in ("储备库 depot", "层级 tier", "依据 basis", "服务对象 settlements", "人口 people"):
        table.add_column(col, overflow="fold")
    for r in rows.itertuples():
        table.add_row(escape(r.name or r.depot) + (f"\n[dim]{escape(r.area)}[/]" if r.area else ""),
                      label("tier", r.tier), label("basis", r.basis),
                      escape("、".join(names.get(x, x) for x in r.settlements))
                      or "[dim]–（仅跨区域支援）[/]",
                      f"{r.people:,}")
    console.print(table)


@app.command()
@user_errors
def run(
    scenario: Annotated[Path, typer.Argument(help="Scenario YAML file.")],
    seed: SEED_OPTION = None,
    policy: Annotated[str | None, typer.Option(
        help="Dispatch policy: plan, fcfs or nearest_idle (default: the scenario's).")] = None,
    out: Annotated[Path | None, typer.Option(
        help="Results folder: new, empty, or an earlier run's (default: "
             "results/SCENARIO-seedN). Files reliefsim did not write are never touched.")
                   ] = None,
    yes: YES_OPTION = False,
    cache_dir: CACHE_OPTION = DEFAULT_CACHE,
) -> None:
    """Run one replication, print targets vs results and write the records."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from sim.files import claim_dir
    from sim.model import POLICIES
    from sim.run import run_replication, save_run
    from sim.scenario import load_scenario
    from sim.workload import check_workload, estimate
    from sim.world import build_world

    if policy is not None and policy not in POLICIES:
        raise ReliefsimError(f"--policy: {policy!r} — expected one of {sorted(POLICIES)}")
    spec = load_scenario(scenario)
    out = out or Path("results") / f"{scenario.stem}-seed{spec.seed if seed is None else seed}"
    claim_dir(out, "run")  # before any work: a folder that is not ours is refused at once
    check_workload(estimate(spec), yes=yes, what=f"{scenario} (one replication)")
    world = build_world(spec, cache_dir=cache_dir, origin=str(scenario))
    _warn(world.warnings)
    with Progress(TextColumn("simulating"), BarColumn(), TextColumn("{task.completed:.0f}/"
                  "{task.total:.0f} h"), TimeElapsedColumn(), console=err_console,
                  transient=True) as bar:
        task = bar.add_task("sim", total=spec.horizon_h)
        result = run_replication(world, seed=seed, policy=policy, explain=True,
                                 progress=lambda now: bar.update(task, completed=now))
    save_run(out, world, result)
    print_service_areas(world)
    print_kpis(result.kpis, title=f"{spec.name} — seed {result.seed}, policy {result.policy}")
    print_shortfalls(result.shortfalls, spec)
    res = result.resources
    console.print(
        f"people affected {res['people_affected']:,.0f} · vehicle-km {res['vehicle_km']:,.1f} · "
        f"truck utilisation {res['truck_utilisation']:.0%} · stock-outs {res['stockouts']:.0f}")
    names = {s.id: s.name or s.id for s in spec.settlements}
    for c in result.records.cutoffs:
        until = ("never (within horizon)" if c.reopened_h == float("inf")
                 else f"{c.reopened_h:.2f} h")
        console.print(f"[yellow]cut off:[/] {escape(names.get(c.settlement, c.settlement))} "
                      f"from {c.cut_h:.2f} h until {until}")
    console.print(f"records written to [bold]{escape(str(out))}[/]")


def print_shortfalls(rows: Any, scenario: Any) -> None:
    """未达标原因: the binding cause for every settlement × commodity that misses a target."""
    if rows is None or rows.empty:
        return
    names = {x.id: x.name or x.id for x in [*scenario.settlements, *scenario.commodities]}
    table = Table(title="未达标原因 why targets fail", title_justify="left")
    for col in ("安置点 / 物资", "未达标人数", "原因 cause", "说明"):
        table.add_column(col, overflow="fold", justify="right" if "人数" in col else "left")
    for r in rows.itertuples():
        table.add_row(f"{escape(names[r.settlement])} / {escape(names[r.commodity])}",
                      f"{r.late:,}", f"{r.cause_zh}\n[dim]{r.cause_en}[/]", escape(r.detail_zh))
    console.print(table)


def print_kpis(items: list[Any], *, title: str) -> None:
    """The target table: value vs plan target, share within, pass/fail."""
    table = Table(title=title, title_justify="left")
    table.add_column("指标 target", overflow="fold", min_width=18)
    for col in ("standard", "n", "mean h", "p95 h", "max h", "within", "结果"):
        table.add_column(col, justify="right", no_wrap=True)
    for k in items:
        verdict = ("[dim]n/a[/]" if k.passed is None
                   else "[green]PASS[/]" if k.passed else "[red]FAIL[/]")
        table.add_row(f"{k.name_zh}\n[dim]{k.kpi}[/]",
                      f"≤ {k.target:g} {k.unit}\n[dim]≥ {_pct(k.share_required)}[/]",
                      f"{k.n:,.0f}" + (f"\n[yellow]{k.never:,.0f} never[/]" if k.never else ""),
                      _fmt(k.mean), _fmt(k.p95), _fmt(k.max),
                      _pct(k.share_within), verdict)
    console.print(table)


def _fmt(x: float) -> str:
    if x != x:
        return "–"
    return "∞" if x == float("inf") else f"{x:.2f}"


def _pct(x: float) -> str:
    return "–" if x != x else f"{x:.1%}"


@app.command()
@user_errors
def compare(
    experiment: Annotated[Path, typer.Argument(help="Experiment YAML file.")],
    workers: Annotated[int, typer.Option(min=1, help="Local worker processes.")] = 1,
    scheduler: Annotated[str | None, typer.Option(
        help="Dask scheduler address (tcp://host:8786) to run on a cluster.")] = None,
    out: Annotated[Path | None, typer.Option(
        help="Results directory (default: results/EXPERIMENT).")] = None,
    resume: Annotated[bool, typer.Option(
        "--resume", help="Finish an interrupted run in --out.")] = False,
    precision: Annotated[float | None, typer.Option(
        min=1e-9,
        help="Add replications (a chunk at a time) until the 95% CI half-width of the "
             "experiment's KPI statistic is at most this (a share as a fraction, e.g. 0.02; "
             "a time in hours) in every configuration.")] = None,
    max_replications: Annotated[int | None, typer.Option(
        min=1, max=100_000, help="With --precision: stop here in any case (default 200).")
                                ] = None,
    yes: YES_OPTION = False,
    cache_dir: CACHE_OPTION = DEFAULT_CACHE,
) -> None:
    """Compare placements, policies and variants over replications (CRN, CIs, P(best))."""
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    from sim.batch import run_experiment
    from sim.compare import finish_experiment
    from sim.experiment import experiment_workload, load_experiment
    from sim.workload import check_workload

    spec, base = load_experiment(experiment)
    if precision is not None:
        spec = with_precision(spec, precision, max_replications)
    elif max_replications is not None:
        raise ReliefsimError("--max-replications: applies with --precision only")
    out = out or Path("results") / experiment.stem
    check_workload(experiment_workload(spec, base), yes=yes, what=str(experiment))
    _terminate_as_interrupt()
    columns = (TextColumn("replications"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
               TextColumn("ETA"), TimeRemainingColumn())
    try:
        with Progress(*columns, console=err_console, transient=True) as bar:
            task = bar.add_task("run", total=None)
            run = run_experiment(spec, base, out, workers=workers, scheduler=scheduler,
                                 resume=resume, cache_dir=cache_dir,
                                 progress=lambda done, total: bar.update(
                                     task, completed=done, total=total))
    except KeyboardInterrupt:
        err_console.print(f"[yellow]interrupted[/]: finished chunks are saved in "
                          f"{escape(str(out))}; run again with --resume to complete them")
        raise typer.Exit(130) from None
    summary = finish_experiment(run, cache_dir=cache_dir)
    print_comparison(summary, spec)
    if spec.sequential is not None:
        from sim.batch import half_width

        reached = half_width(run, run.replications)
        unit = "" if spec.statistic == "share_within" else " h"
        met = "met" if reached <= spec.sequential.half_width else "[yellow]not met[/] (maximum)"
        console.print(f"precision: 95% CI half-width {reached:.4g}{unit} after "
                      f"{run.replications} replications (goal ≤ {spec.sequential.half_width:g}"
                      f"{unit}: {met})")
    console.print(f"results written to [bold]{escape(str(out))}[/] ({run.replications} "
                  f"replications × "
                  f"{len(run.configs)} configurations)")


def with_precision(spec: Any, precision: float, max_replications: int | None) -> Any:
    """The experiment adding replications until ``precision`` (README, "Experiments")."""
    from sim.experiment import Sequential

    most = max_replications or (spec.sequential.max_replications if spec.sequential else 200)
    if most < spec.replications:
        raise ReliefsimError(f"--max-replications: {most} — expected at least the "
                             f"experiment's replications ({spec.replications})")
    return spec.model_copy(update={"sequential": Sequential(
        half_width=precision, batch=spec.chunk_size, max_replications=most)})


def print_comparison(summary: Any, spec: Any) -> None:
    """The experiment's KPI per configuration (intervals, Δ vs baseline, P(best)), an overview
    of every target, and which placement best meets the chosen one."""
    label_cols = [c for c in ("placement", "policy", "variant") if summary[c].nunique() > 1]
    label_cols = label_cols or ["placement"]

    def label(row: Any) -> str:
        return escape(" / ".join(str(getattr(row, c)) for c in label_cols))

    chosen = summary[summary.kpi == spec.kpi]
    stat = "share within" if spec.statistic == "share_within" else f"{spec.statistic} h"
    table = Table(title=f"{spec.kpi} ≤ {chosen.target.iloc[0]:g} h — {stat}, 95% CI, "
                  f"Δ vs {spec.baseline_name} (paired)", title_justify="left")
    costed = bool((chosen.cost_wan > 0).any())
    for col in (" / ".join(label_cols), "within", "mean h", "pass", "Δ", "P(best)",
                *(("cost 万元", "万元/gain") if costed else ())):
        table.add_column(col, justify="left" if col.startswith(label_cols[0]) else "right",
                         overflow="fold")
    gain = "pt" if spec.statistic == "share_within" else "h"
    for r in chosen.itertuples():
        costs = ((f"{r.cost_wan:,.0f}" + ("\n[green]Pareto[/]" if r.pareto else ""),
                  "–" if r.cost_per_gain_wan != r.cost_per_gain_wan
                  else f"{r.cost_per_gain_wan:,.1f}/{gain}") if costed else ())
        table.add_row(label(r) + ("\n[green]≈ best[/]" if r.same_as_best else ""),
                      f"{_pct(r.share_within)}\n[dim]{_pct(r.share_ci_low)}–"
                      f"{_pct(r.share_ci_high)}[/]",
                      f"{_fmt(r.mean)}\n[dim]{_fmt(r.ci_low)}–{_fmt(r.ci_high)}[/]",
                      _pct(r.pass_rate),
                      f"{_signed(r.diff_mean, spec.statistic)}\n[dim]"
                      f"{_signed(r.diff_ci_low, spec.statistic)}…"
                      f"{_signed(r.diff_ci_high, spec.statistic)}[/]",
                      _pct(r.p_best), *costs)
    console.print(table)
    if costed:
        for (policy, variant), rows in chosen.groupby(["policy", "variant"], sort=False):
            front = ", ".join(f"{p} ({c:,.0f} 万元)" for p, c in
                              rows[rows.pareto].sort_values("cost_wan")[["placement",
                                                                         "cost_wan"]].values)
            console.print(f"[bold]Pareto front[/] ({escape(policy)}/{escape(variant)}, cost vs "
                          f"{stat}): {escape(front)}")
    overview = Table(title="share within target, all targets", title_justify="left")
    overview.add_column(" / ".join(label_cols), overflow="fold")
    measured = [k for k, rows in summary.groupby("kpi", sort=False) if rows.n.max() > 0]
    for kpi in measured:
        overview.add_column(f"{kpi}\n≤ {summary[summary.kpi == kpi].target.iloc[0]:g} h",
                            justify="right", overflow="fold")
    for _, rows in summary.groupby("config", sort=False):
        by_kpi = rows.set_index("kpi")
        overview.add_row(label(rows.iloc[0]),
                         *[_pct(by_kpi.loc[k, "share_within"]) for k in measured])
    console.print(overview)
    for (policy, variant), rows in chosen.groupby(["policy", "variant"], sort=False):
        best = rows.sort_values("p_best", ascending=False).iloc[0]
        tied = [r.placement for r in rows.itertuples() if r.same_as_best]
        if len(tied) > 1:  # no order among options the replications cannot tell apart
            console.print(
                f"[bold]best for {spec.kpi}[/] ({escape(policy)}/{escape(variant)}): "
                "indistinguishable "
                f"(paired differences not significant): [bold]{escape(', '.join(tied))}[/]")
            continue
        console.print(
            f"[bold]best for {spec.kpi}[/] ({escape(policy)}/{escape(variant)}): "
            f"[bold]{escape(best.placement)}[/] — "
            f"P(best) {_pct(best.p_best)}; share within {best.target:g} h "
            f"{_pct(best.share_within)} [{_pct(best.share_ci_low)}, {_pct(best.share_ci_high)}]")


def _signed(x: float, statistic: str) -> str:
    if x != x:
        return "–"
    return f"{x:+.1%}" if statistic == "share_within" else f"{x:+.2f}"


@app.command()
@user_errors
def sensitivity(
    experiment: Annotated[Path, typer.Argument(help="Experiment YAML file with factors "
                                                    "(path, low, high).")],
    method: Annotated[str, typer.Option(help="morris or sobol.")] = "morris",
    samples: Annotated[int, typer.Option(
        min=2, max=10_000, help="Morris trajectories, or the Sobol' base sample (rounded up "
                                "to a power of two).")] = 10,
    replications: Annotated[int, typer.Option(
        min=1, max=10_000, help="Replications per sample point (common random numbers).")] = 5,
    out: Annotated[Path | None, typer.Option(
        help="Results folder (default: results/EXPERIMENT-sensitivity).")] = None,
    lang: LANG_OPTION = "zh",
    yes: YES_OPTION = False,
    cache_dir: CACHE_OPTION = DEFAULT_CACHE,
) -> None:
    """Which factor matters: Morris or Sobol' indices of every target over the factors' ranges
    (SALib), a CSV and a bar figure per target."""
    from dataclasses import replace

    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from sim.experiment import load_experiment
    from sim.figures import LABELS, save_figure, sensitivity_bars
    from sim.files import claim_dir, publish_dir
    from sim.sensitivity import METHODS
    from sim.sensitivity import sensitivity as analyse
    from sim.workload import check_workload, estimate

    if method not in METHODS:
        raise ReliefsimError(f"--method: {method!r} — expected one of {list(METHODS)}")
    if lang not in LABELS:
        raise ReliefsimError(f"--lang: {lang!r} — expected one of {sorted(LABELS)}")
    spec, base = load_experiment(experiment)
    out = out or Path("results") / f"{experiment.stem}-sensitivity"
    claim_dir(out, "sensitivity")
    d = len(spec.factors)
    points = samples * (d + 1) if method == "morris" else (
        (1 << max(0, samples - 1).bit_length()) * (d + 2))
    check_workload(replace(estimate(base), runs=points * replications), yes=yes,
                   what=f"{experiment} ({points} points × {replications} replications)")
    with Progress(TextColumn("sensitivity"), BarColumn(), MofNCompleteColumn(),
                  console=err_console, transient=True) as bar:
        task = bar.add_task("s", total=points * replications)
        result = analyse(spec, base, method=method, samples=samples, replications=replications,
                         cache_dir=cache_dir, origin=str(experiment),
                         progress=lambda done, total: bar.update(task, completed=done,
                                                                 total=total))
    with publish_dir(out, "sensitivity") as tmp:
        result.indices.to_csv(tmp / "sensitivity.csv", index=False, encoding="utf-8-sig")
        result.sample.to_csv(tmp / "sample.csv", index=False, encoding="utf-8-sig")
        for kpi in dict.fromkeys(result.indices.kpi):
            save_figure(sensitivity_bars(result.indices, kpi, method, lang), tmp,
                        f"sensitivity_{kpi}", ("png", "svg"))
    chosen = result.indices[result.indices.kpi == spec.kpi]
    main = "mu_star" if method == "morris" else "ST"
    table = Table(title=f"{spec.kpi}: {method} ({len(result.sample)} points × {replications} "
                  "replications), 95% CI", title_justify="left")
    for col in ("factor", *(("μ*", "σ") if method == "morris" else ("S1", "ST"))):
        table.add_column(col, justify="left" if col == "factor" else "right", overflow="fold")
    wide = chosen.pivot_table(index="factor", columns="index", values=["value", "conf"],
                              dropna=False, sort=False)
    for factor in wide.sort_values(("value", main), ascending=False).index:
        cells = []
        for index in (("mu_star", "sigma") if method == "morris" else ("S1", "ST")):
            value, conf = wide.loc[factor, ("value", index)], wide.loc[factor, ("conf", index)]
            cells.append(f"{value:.3f}" + ("" if conf != conf else f" ± {conf:.3f}"))
        table.add_row(escape(str(factor)), *cells)
    console.print(table)
    console.print(f"indices, sample and figures written to [bold]{escape(str(out))}[/]")


@app.command()
@user_errors
def optimize(
    experiment: Annotated[Path, typer.Argument(help="Experiment YAML with an 'optimize' section.")],
    model: Annotated[str, typer.Option(help="p_median, mclp, lscp or p_center.")] = "mclp",
    p: Annotated[int, typer.Option("--p", min=1, help="New sites to open.")] = 1,
    top: Annotated[int, typer.Option(min=1, help="Best static solutions to simulate.")] = 3,
    standard_h: Annotated[float | None, typer.Option(
        help="Coverage standard in hours (default: the experiment's).")] = None,
    time_limit_s: Annotated[float, typer.Option(help="Solver time limit (s).")] = 60.0,
    workers: Annotated[int, typer.Option(min=1, help="Local worker processes.")] = 1,
    out: Annotated[Path | None, typer.Option(
        help="Results directory (default: results/EXPERIMENT-optimize-MODEL).")] = None,
    resume: Annotated[bool, typer.Option("--resume", help="Finish an interrupted run.")] = False,
    yes: YES_OPTION = False,
    cache_dir: CACHE_OPTION = DEFAULT_CACHE,
) -> None:
    """Choose depot sites with a location model, then verify the top K by simulation."""
    import pandas as pd

    from sim.batch import run_experiment
    from sim.compare import finish_experiment
    from sim.experiment import experiment_workload, load_experiment
    from sim.files import claim_dir, register
    from sim.optimize import (
        MODELS,
        candidate_sites,
        solve_static,
        static_table,
        verification_experiment,
        write_sites_geojson,
    )
    from sim.results import write_tables
    from sim.workload import check_workload
    from sim.world import build_world

    if model not in MODELS:
        raise ReliefsimError(f"--model: {model!r} — expected one of {list(MODELS)}")
    spec, base = load_experiment(experiment)
    if spec.optimize is None:
        raise ReliefsimError(f"{experiment}: no 'optimize' section (new_depot, candidates)")
    standard = standard_h or spec.optimize.standard_h
    out = out or Path("results") / f"{experiment.stem}-optimize-{model}"
    claim_dir(out, "optimize")
    check_workload(experiment_workload(spec, base, placements=top + 1), yes=yes,
                    what=f"{experiment} (top {top} verified by simulation)")
    world = build_world(base, cache_dir=cache_dir, origin=str(experiment))
    candidates = candidate_sites(world, spec.optimize)
    for name, why in candidates.excluded:
        err_console.print(f"[yellow]excluded:[/] {escape(name)} — {escape(why)}",
                          highlight=False)
    solutions = solve_static(world, candidates, model=model, p=p, top=top, standard_h=standard,
                             time_limit_s=time_limit_s)  # type: ignore[arg-type]
    static = static_table(solutions, candidates)
    verify = verification_experiment(spec, base, candidates, solutions)
    out.mkdir(parents=True, exist_ok=True)
    register(out, [], "optimize")  # ours from now on: the simulation goes inside
    with err_console.status(f"simulating {len(verify.placements)} placements × "
                            f"{verify.replications} replications"):
        run = run_experiment(verify, base, out / "simulation", workers=workers, resume=resume,
                             cache_dir=cache_dir)
        summary = finish_experiment(run, cache_dir=cache_dir)
    chosen = summary[summary.kpi == spec.kpi].set_index("placement")
    ranking = static.set_index("placement").join(
        chosen[["share_within", "share_ci_low", "share_ci_high", "mean", "p_best", "cost_wan",
                "cost_per_gain_wan", "pareto"]], how="left")
    ranking["simulated_rank"] = ranking.p_best.rank(ascending=False, method="min")
    ranking = ranking.reset_index()
    excluded = pd.DataFrame(list(candidates.excluded), columns=["site", "reason"])
    write_tables(out, {"ranking": ranking, "static": static, "excluded": excluded},
                 kind="optimize")
    write_sites_geojson(out / "sites.geojson", solutions, candidates)
    table = Table(title=f"{model} (p = {p}, standard {standard:g} h, {len(candidates.names)} "
                  f"sites) vs simulation ({spec.kpi}, {verify.replications} replications)",
                  title_justify="left")
    costed = bool((ranking.cost_wan > 0).any())
    for col in ("static", "new site(s)", "objective", "gap", "simulated within [95% CI]",
                "P(best)", "sim rank", *(("cost 万元", "万元/pt") if costed else ())):
        table.add_column(col, overflow="fold")
    for r in ranking.itertuples():
        costs = ((f"{r.cost_wan:,.0f}" + (" (Pareto)" if r.pareto else ""),
                  "–" if r.cost_per_gain_wan != r.cost_per_gain_wan
                  else f"{r.cost_per_gain_wan:,.1f}") if costed else ())
        table.add_row(str(r.static_rank), escape(r.sites), f"{r.objective:,.3g}",
                      f"{r.gap:.1%}",
                      f"{_pct(r.share_within)} [{_pct(r.share_ci_low)}, {_pct(r.share_ci_high)}]",
                      _pct(r.p_best), f"{r.simulated_rank:.0f}", *costs)
    console.print(table)
    base_row = chosen.loc["current"]
    console.print(f"current layout: within {_pct(base_row.share_within)} "
                  f"[{_pct(base_row.share_ci_low)}, {_pct(base_row.share_ci_high)}]")
    console.print(f"results written to [bold]{escape(str(out))}[/] (ranking.csv, sites.geojson, "
                  "simulation/)")


@app.command("validate-model")
@user_errors
def validate_model(
    quick: Annotated[bool, typer.Option("--quick", help="Shorter runs, wider bounds.")] = False,
    cache_dir: CACHE_OPTION = DEFAULT_CACHE,
) -> None:
    """Check the model against queueing theory, networkx routing and its own invariants."""
    from sim.validation import run_checks

    with err_console.status("validating") as status:
        checks = run_checks(quick=quick, cache_dir=cache_dir,
                            progress=lambda stage: status.update(f"validating: {stage}"))
    table = Table(title="How we know the numbers are right", title_justify="left")
    for col in ("check", "theory", "simulated", "99% CI", "result"):
        table.add_column(col, justify="left" if col == "check" else "right", overflow="fold")
    for c in checks:
        ci = "exact" if c.ci_low != c.ci_low else f"[{c.ci_low:.4g}, {c.ci_high:.4g}]"
        table.add_row(f"{c.name}\n[dim]{c.note}[/]" if c.note else c.name, f"{c.theory:.4g}",
                      f"{c.simulated:.4g}", ci, "[green]PASS[/]" if c.passed else "[red]FAIL[/]")
    console.print(table)
    failed = [c.name for c in checks if not c.passed]
    if failed:
        err_console.print(f"[red]{len(failed)} check(s) failed:[/] {', '.join(failed)}")
        raise typer.Exit(1)
    console.print(f"[green]all {len(checks)} checks passed[/]")


@app.command()
@user_errors
def figures(
    results_dir: RESULTS_ARG,
    lang: LANG_OPTION = "zh",
    fmt: Annotated[str, typer.Option("--format", help="Comma-separated: png,svg,pdf.")
                   ] = "png,svg,pdf",
    out: Annotated[Path | None, typer.Option(help="Output folder "
                                             "(default: RESULTS_DIR/figures_LANG).")] = None,
    cache_dir: CACHE_OPTION = DEFAULT_CACHE,
) -> None:
    """Map, relief ECDF, arrival times, time line, placement comparison, sensitivity."""
    from sim.figures import make_figures

    paths = make_figures(_results(results_dir), out, lang=lang,
                         formats=[f.strip() for f in fmt.split(",") if f.strip()],
                         cache_dir=cache_dir)
    console.print(f"[green]{len(paths)} files[/] written to {paths[0].parent if paths else out}")


@app.command()
@user_errors
def report(
    results_dir: RESULTS_ARG,
    lang: LANG_OPTION = "zh",
    fmt: Annotated[str, typer.Option("--format", help="html (self-contained) or docx (Word).")
                   ] = "html",
    out: Annotated[Path | None, typer.Option(help="Report file "
                                             "(default: RESULTS_DIR/report_LANG.FORMAT).")
                   ] = None,
    cache_dir: CACHE_OPTION = DEFAULT_CACHE,
) -> None:
    """One report for a plan draft: self-contained HTML or Word, figures embedded."""
    from sim.report import write_report

    path = write_report(_results(results_dir), out, lang=lang, fmt=fmt, cache_dir=cache_dir)
    console.print(f"[green]report[/] {path}")


@app.command()
@user_errors
def gis(
    results_dir: RESULTS_ARG,
    out: Annotated[Path | None, typer.Option(help="GeoPackage file "
                                             "(default: RESULTS_DIR/results.gpkg).")] = None,
    cache_dir: CACHE_OPTION = DEFAULT_CACHE,
) -> None:
    """Sites, incidents, roads with the run's closures, rivers and closure areas as GeoPackage
    layers (EPSG:4326) for QGIS."""
    from sim.gis import export_gis

    path = export_gis(_results(results_dir), out, cache_dir=cache_dir)
    console.print(f"[green]GeoPackage[/] {path}")


def _results(path: Path) -> Path:
    if not path.is_dir():
        raise ReliefsimError(f"{path}: results directory not found")
    return path


@app.command("import")
@user_errors
def import_(
    kind: Annotated[str, typer.Argument(
        help="settlements, depots, shelters, team_bases or water_stations.")],
    source: Annotated[Path, typer.Argument(
        help="A table (.csv, .xlsx) or GIS layer (.geojson, .gpkg, .shp).")],
    into: Annotated[Path, typer.Option("--into", help="The scenario YAML to merge into.")],
    sheet: Annotated[str | None, typer.Option(
        help="Excel sheet or GeoPackage layer (default: the first).")] = None,
    crs: Annotated[str | None, typer.Option(
        help="Coordinates of the source: wgs84, gcj02, bd09, cgcs2000 or EPSG:<code> "
             "(default: the layer's own, else wgs84).")] = None,
    force: Annotated[bool, typer.Option(
        "--force", help="Replace items whose id is already in the scenario.")] = False,
) -> None:
    """Merge a planner's table or GIS layer into a scenario (Chinese or English headers)."""
    from sim.importer import import_into

    result = import_into(kind, source, into, sheet=sheet, crs=crs, force=force)
    console.print(f"[green]imported[/] {len(result.added)} new and {len(result.replaced)} "
                  f"replaced {result.kind} into {escape(str(into))}")


@app.command()
@user_errors
def init(
    network: Annotated[str, typer.Option(
        "--network", help="A local .osm/.osm.pbf extract (or builtin:helsinki).")],
    out: Annotated[Path, typer.Option("--out", help="The scenario YAML to write.")],
    name: Annotated[str | None, typer.Option(help="The scenario's name.")] = None,
    force: Annotated[bool, typer.Option("--force", help="Replace an existing file.")] = False,
    cache_dir: CACHE_OPTION = DEFAULT_CACHE,
) -> None:
    """Draft a scenario from the OSM extract itself: settlements, candidate depots and
    shelters, team bases and water stations, each marked for review."""
    from sim.draft import draft_scenario, write_draft

    draft = draft_scenario(network, name, cache_dir=cache_dir)
    path = write_draft(draft, out, force=force)
    counts = ", ".join(f"{len(v)} {k}" for k, v in draft.items()
                       if isinstance(v, list) and k != "commodities")
    console.print(f"[green]draft[/] {escape(str(path))}: {counts or 'no features found'} — "
                  "fill in what each 'review' note asks (reliefsim validate lists them)")


@app.command("export-ledger")
@user_errors
def export_ledger_(
    scenario: Annotated[Path, typer.Argument(help="Scenario YAML file.")],
    out: Annotated[Path, typer.Option("--out", help="The workbook to write (.xlsx).")],
) -> None:
    """The scenario as a ledger (台账): one Excel sheet per section, Chinese headers; reliefsim
    import reads each sheet back into the identical scenario."""
    from sim.ledger import SHEETS, export_ledger
    from sim.scenario import load_scenario

    path = export_ledger(load_scenario(scenario), out)
    console.print(f"[green]ledger[/] {escape(str(path))} (sheets: {', '.join(SHEETS.values())})")


@network_app.command("info")
@user_errors
def network_info(
    source: Annotated[str, typer.Argument(
        help="Scenario YAML, or a network source (.osm/.osm.pbf/.graphml, builtin:helsinki, "
             "place:NAME, bbox:W,S,E,N).")],
    cache_dir: CACHE_OPTION = DEFAULT_CACHE,
) -> None:
    """Nodes, edges, dropped components, bbox, speeds and unreachable sites of a network."""
    from sim.network import load_network

    if source.endswith((".yaml", ".yml")):
        from sim.scenario import load_scenario
        from sim.world import build_world

        spec = load_scenario(source)
        world = build_world(spec, cache_dir=cache_dir, origin=source)
        _print_report(world.road.report)
        _print_sites(world)
        if world.water is not None:
            _print_report(world.water.report)
        _warn(world.warnings)
        return
    _print_report(load_network(source, cache_dir=cache_dir).report)


def _print_report(report: Any) -> None:
    west, south, east, north = report.bbox
    table = Table(title=f"{report.kind} network: {report.source}", show_header=False)
    table.add_row("nodes", f"{report.n_nodes:,}")
    table.add_row("edges", f"{report.n_edges:,}")
    table.add_row("dropped (not in largest strongly connected component)",
                  f"{report.dropped_nodes:,} nodes in {report.dropped_components:,} components")
    table.add_row("bbox (W, S, E, N)", f"{west:.5f}, {south:.5f}, {east:.5f}, {north:.5f}")
    table.add_row("edges with a maxspeed tag", f"{report.maxspeed_share:.0%}")
    table.add_row("cache", "hit" if report.cache_hit else "miss (prepared and saved)")
    console.print(table)
    speeds = Table(title="speeds by class")
    for col in ("class", "edges", "km", "km/h"):
        speeds.add_column(col, justify="right" if col != "class" else "left")
    for row in report.speeds:
        speeds.add_row(row.highway, f"{row.edges:,}", f"{row.km:,.1f}", f"{row.kmh:.0f}")
    console.print(speeds)


def _print_sites(world: Any) -> None:
    table = Table(title="sites")
    for col in ("site", "kind", "snap m", "reachable from all depots", "reaches all"):
        table.add_column(col)
    for site in world.sites.values():
        table.add_row(site.id, site.kind, f"{site.snap_m:.0f}",
                      "yes" if site.reachable_in else "[red]no[/]",
                      "yes" if site.reachable_out else "[red]no[/]")
    console.print(table)


@network_app.command("fetch")
@user_errors
def network_fetch(
    place: Annotated[str, typer.Argument(help="Place name, e.g. '开平市, 江门市, 广东省, 中国'.")],
    out: Annotated[Path, typer.Option("--out", help="Where to write the GraphML file.")],
) -> None:
    """Download a drivable network by place name with osmnx (needs internet)."""
    from sim.network import fetch_place

    path = fetch_place(place, out)
    console.print(f"[green]saved[/] {path}")


def main() -> None:  # pragma: no cover - console entry point
    app(prog_name="reliefsim")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
