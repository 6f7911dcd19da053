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
from sim.glossary import CLI_LABELS, REPORT_TEXT

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


def _check_lang(value: str) -> str:
    """``--lang`` is checked while parsing: one message and exit 2 before any work."""
    if value not in CLI_LABELS:
        message = f"--lang: {value!r} — expected one of {sorted(CLI_LABELS)}"
        err_console.print(f"[bold red]error:[/] {escape(message)}", highlight=False,
                          soft_wrap=True)
        raise typer.Exit(2)
    return value


LANG_OPTION = Annotated[str, typer.Option(
    "--lang", callback=_check_lang,
    help="Language of what is printed: zh (as the plans write it) or en.")]


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


def _t(lang: str, key: str, **values: Any) -> str:
    """The ``lang`` text of ``key`` in :data:`sim.glossary.CLI_LABELS`, filled with ``values``
    (escape user text before passing it: the texts are rich markup)."""
    text = CLI_LABELS[lang][key]
    return text.format(**values) if values else text


def _names(items: Any) -> dict[str, str]:
    """Display names by id: an item's name, else its id."""
    return {x.id: x.name or x.id for x in items}


def _type_names(scenario: Any) -> dict[str, str]:
    return _names(scenario.incident_types)


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
    lang: LANG_OPTION = "zh",
) -> None:
    """Check a scenario (or an experiment, its base and every placement) and its sites
    against the network; warn about what cannot work as meant."""
    from sim.scenario import load_scenario, pre_run_warnings, read_yaml

    name, origin = escape(str(scenario)), str(scenario)
    data = read_yaml(scenario)
    if isinstance(data, dict) and "base" in data and "placements" in data:  # an experiment
        from sim.experiment import configurations, load_experiment

        experiment, spec = load_experiment(scenario)
        configs = configurations(experiment, spec, origin=str(scenario))
        what = _t(lang, "experiment_what", name=escape(experiment.name), n=len(configs))
        origin = str(scenario.parent / experiment.base)
    else:
        spec, configs = load_scenario(scenario), []
        what = escape(spec.name)
    if schema_only:
        _warn(pre_run_warnings(spec))
        console.print(_t(lang, "ok_schema", name=name, what=what))
        return
    from sim.world import build_world  # the network's libraries: not for --schema-only

    world = build_world(spec, cache_dir=cache_dir, origin=origin)
    warnings = list(world.warnings)
    for config in configs:
        placed = world.with_scenario(config.scenario, origin=f"{scenario}: placement "
                                     f"{config.placement!r}")
        warnings += [w for w in placed.warnings if w not in warnings]
    _warn(warnings)
    print_service_areas(world, lang)
    console.print(_t(lang, "ok", name=name, what=what, sites=len(world.sites),
                     nodes=world.road.report.n_nodes))


def print_service_areas(world: Any, lang: str = "zh") -> None:
    """Which settlements each depot serves as their own (属地), and how that was found."""
    from sim.glossary import label
    from sim.world import service_table

    rows = service_table(world)
    if not rows or not world.scenario.settlements:
        return
    names = _names(world.scenario.settlements)
    kinds = {d.id: d.kind for d in world.scenario.depots}
    table = Table(title=_t(lang, "service_title"), title_justify="left")
    for key in ("depot", "tier", "basis", "served", "people"):
        table.add_column(_t(lang, key), overflow="fold",
                         justify="right" if key == "people" else "left")
    for r in rows:
        kind = kinds.get(r.depot, "physical")  # 协议储备 / 产能储备 said under the tier
        tier = escape(label("tier", r.tier, lang)) + (
            "" if kind == "physical" else f"\n[dim]{escape(label('kind', kind, lang))}[/]")
        table.add_row(escape(r.name or r.depot) + (f"\n[dim]{escape(r.area)}[/]" if r.area else ""),
                      tier, escape(label("basis", r.basis, lang)),
                      escape(_t(lang, "sep").join(names.get(x, x) for x in r.settlements))
                      or f"[dim]{_t(lang, 'support_only')}[/]",
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
    lang: LANG_OPTION = "zh",
) -> None:
    """Run one replication, print targets vs results and write the records."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from sim.files import claim_dir
    from sim.glossary import label
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
    hours = _t(lang, "hours")
    with Progress(TextColumn(_t(lang, "simulating")), BarColumn(),
                  TextColumn("{task.completed:.0f}/{task.total:.0f} " + hours),
                  TimeElapsedColumn(), console=err_console, transient=True) as bar:
        task = bar.add_task("sim", total=spec.horizon_h)
        result = run_replication(world, seed=seed, policy=policy, explain=True,
                                 progress=lambda now: bar.update(task, completed=now))
    save_run(out, world, result)
    print_service_areas(world, lang)
    print_kpis(result.kpis, lang=lang, type_names=_type_names(spec),
               title=_t(lang, "run_title", scenario=escape(spec.name), seed=result.seed,
                        policy=escape(label("policy", result.policy, lang))))
    print_shortfalls(result.shortfalls, spec, lang)
    res = result.resources
    util = res["truck_utilisation"]
    console.print(_t(lang, "resources", people=f"{res['people_affected']:,.0f}",
                     km=f"{res['vehicle_km']:,.1f}", util="–" if util != util else f"{util:.0%}",
                     stockouts=f"{res['stockouts']:.0f}"))
    print_cutoffs(result.records, spec, lang)
    print_evacuation(out, spec, lang)
    console.print(_t(lang, "records_written", out=escape(str(out))))


def print_evacuation(run_dir: Path, scenario: Any, lang: str = "zh") -> None:
    """转移安置: evacuees sheltered and without a place, completion, share within target,
    each shelter's peak vs capacity; and the 15-minute life-support circle."""
    import json

    from sim.glossary import EVACUATION_LABELS

    summary = json.loads((run_dir / "summary.json").read_text(encoding="utf-8"))
    e, found, circle = EVACUATION_LABELS[lang], summary.get("evacuation"), summary.get(
        "life_circle")
    colon = "：" if lang == "zh" else ": "
    if found:
        table = Table(title=e["evacuation"], title_justify="left")
        for key in ("shelter", "capacity", "assigned", "peak", "peak_h"):
            table.add_column(e[key], justify="left" if key == "shelter" else "right")
        names = _names(scenario.shelters)
        for s in found["shelters"]:
            table.add_row(escape(names.get(s["shelter"], s["shelter"])), f"{s['capacity']:,}",
                          f"{s['assigned']:,}", f"{s['peak']:,}",
                          "–" if s["peak"] == 0 else f"{s['peak_h']:.2f}")
        console.print(table)
        within = e["evacuation_within"].format(h=format(found["target_h"], "g"))
        console.print(
            f"{e['people_sheltered']}{colon}{found['people_sheltered']:,} · "
            f"{e['people_without_place']}{colon}{found['people_without_place']:,} · "
            f"{e['evacuation_complete_h']}{colon}{found['evacuation_complete_h']:.2f} · "
            f"{within}{colon}{found['evacuation_within']:.1%}")
    if circle:
        verdict = _t(lang, "pass" if circle["passed"] else "fail")
        basis = e["basis_walk" if circle["walk_basis"] == "walk" else "basis_road"]
        console.print(
            f"{escape(REPORT_TEXT[lang]['life_stock'].format(m=circle['minutes']))}{colon}"
            f"{circle['stockpile_share']:.1%} ({verdict}) · "
            f"{escape(REPORT_TEXT[lang]['life_shelter'].format(m=circle['minutes']))}{colon}"
            f"{circle['shelter_share']:.1%} · {escape(basis)}")


def print_cutoffs(records: Any, scenario: Any, lang: str = "zh") -> None:
    """Settlements cut off by a road closure: when, until when, and the closures then."""
    names, closures = _names(scenario.settlements), _names(scenario.disruptions)
    for c in records.cutoffs:
        roads = _t(lang, "sep").join(dict.fromkeys(
            closures.get(r.disruption, r.disruption) for r in records.closures
            if r.factor == float("inf") and r.start_h <= c.cut_h + 1e-9 < r.end_h))
        values = {"name": escape(names.get(c.settlement, c.settlement)),
                  "cut": f"{c.cut_h:.2f}", "until": f"{c.reopened_h:.2f}"}
        line = _t(lang, "cut_off_end" if c.reopened_h == float("inf") else "cut_off", **values)
        if roads:
            line += _t(lang, "closed_roads", roads=escape(roads))
        console.print(line)


def print_shortfalls(rows: Any, scenario: Any, lang: str = "zh") -> None:
    """未达标原因: the binding cause for every settlement × commodity that misses a target."""
    if rows is None or rows.empty:
        return
    settlements, commodities = _names(scenario.settlements), _names(scenario.commodities)
    table = Table(title=_t(lang, "why"), title_justify="left")
    for key in ("where", "late", "cause", "detail"):
        table.add_column(_t(lang, key), overflow="fold",
                         justify="right" if key == "late" else "left")
    for r in rows.itertuples():
        table.add_row(f"{escape(settlements.get(r.settlement, r.settlement))} / "
                      f"{escape(commodities.get(r.commodity, r.commodity))}",
                      f"{r.late:,}", escape(r.cause_zh if lang == "zh" else r.cause_en),
                      escape(r.detail_zh if lang == "zh" else r.detail_en))
    console.print(table)


def print_kpis(items: list[Any], *, title: str, lang: str = "zh",
               type_names: dict[str, str] | None = None) -> None:
    """The target table: value vs plan target, share within, pass/fail — by the plans' names
    of the targets (never their ids)."""
    from sim.glossary import kpi_label

    table = Table(title=title, title_justify="left")
    table.add_column(_t(lang, "target"), overflow="fold", min_width=16)
    # the verdict first: a narrow terminal crops the details, never whether a target is met
    for key in ("result", "standard", "within", "n", "mean_h", "p95_h", "max_h"):
        table.add_column(_t(lang, key), justify="right", overflow="fold")
    for k in items:
        verdict = (f"[dim]{_t(lang, 'na')}[/]" if k.passed is None
                   else f"[green]{_t(lang, 'pass')}[/]" if k.passed
                   else f"[red]{_t(lang, 'fail')}[/]")
        name = kpi_label(k.kpi, lang, type_names=type_names)
        share = kpi_label(k.kpi, lang, share=True, target_h=k.target, type_names=type_names)
        never = f"\n[yellow]{_t(lang, 'never_count', n=f'{k.never:,.0f}')}[/]" if k.never else ""
        table.add_row(f"{escape(name)}\n[dim]{escape(share)}[/]", verdict,
                      f"{_t(lang, 'at_most_h', h=f'{k.target:g}')}\n"
                      f"[dim]{_t(lang, 'required', share=_pct(k.share_required))}[/]",
                      _pct(k.share_within), f"{k.n:,.0f}{never}", _fmt(k.mean, lang),
                      _fmt(k.p95, lang), _fmt(k.max, lang))
    console.print(table)


def _fmt(x: float, lang: str = "zh") -> str:
    """A time in hours; 'not served by the end' for never (inf)."""
    if x != x:
        return "–"
    return _t(lang, "never") if x == float("inf") else f"{x:.2f}"


def _pct(x: float) -> str:
    return "–" if x != x else f"{x:.1%}"


def _range(low: float, high: float, lang: str) -> str:
    """An interval of times; one dash when there is none."""
    if low != low and high != high:
        return "–"
    return f"{_fmt(low, lang)}–{_fmt(high, lang)}"


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
    lang: LANG_OPTION = "zh",
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
    columns = (TextColumn(_t(lang, "replications_bar")), BarColumn(), MofNCompleteColumn(),
               TimeElapsedColumn(), TextColumn(_t(lang, "eta")), TimeRemainingColumn())
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
    print_comparison(summary, spec, lang, type_names=_type_names(base))
    if spec.sequential is not None:
        from sim.batch import half_width

        reached = half_width(run, run.replications)
        goal = spec.sequential.half_width

        def value(x: float, fmt: str) -> str:
            text = format(x, fmt)
            return text if spec.statistic == "share_within" else _t(lang, "hours_value", x=text)

        console.print(_t(lang, "precision", reached=value(reached, ".4g"), n=run.replications,
                         goal=value(goal, "g"),
                         met=_t(lang, "met" if reached <= goal else "not_met")))
    console.print(_t(lang, "results_written", out=escape(str(out)), reps=run.replications,
                     configs=len(run.configs)))


def with_precision(spec: Any, precision: float, max_replications: int | None) -> Any:
    """The experiment adding replications until ``precision`` (README, "Experiments")."""
    from sim.experiment import Sequential

    most = max_replications or (spec.sequential.max_replications if spec.sequential else 200)
    if most < spec.replications:
        raise ReliefsimError(f"--max-replications: {most} — expected at least the "
                             f"experiment's replications ({spec.replications})")
    return spec.model_copy(update={"sequential": Sequential(
        half_width=precision, batch=spec.chunk_size, max_replications=most)})


def print_comparison(summary: Any, spec: Any, lang: str = "zh",
                     type_names: dict[str, str] | None = None) -> None:
    """Per variant (and policy), the experiment's KPI for each option: intervals, Δ vs the
    baseline, P(best) and cost, then which option is best (or which cannot be told apart);
    an overview of every target after. Options, variants and targets by their names."""
    from sim.glossary import kpi_label, label, variant_label

    t = functools.partial(_t, lang)
    share = spec.statistic == "share_within"
    chosen = summary[summary.kpi == spec.kpi]
    kpi = kpi_label(spec.kpi, lang, type_names=type_names)
    within = kpi_label(spec.kpi, lang, share=True, target_h=chosen.target.iloc[0],
                       type_names=type_names)
    stat = within if share else t("stat_mean" if spec.statistic == "mean" else "stat_p95",
                                  kpi=kpi)
    policies = summary.policy.nunique() > 1
    costed = bool((chosen.cost_wan > 0).any())
    order = {p.name: i for i, p in enumerate(spec.placements)}

    def in_order(rows: Any) -> Any:  # the experiment's order of options in every block
        return rows.sort_values("placement", key=lambda x: x.map(order), kind="stable")

    def where(variant: str, policy: str) -> str:
        text = escape(variant_label(variant, lang))
        return text + (t("policy_suffix", policy=escape(label("policy", policy, lang)))
                       if policies else "")

    for (variant, policy), rows in chosen.groupby(["variant", "policy"], sort=False):
        table = Table(title=t("variant_title", where=where(variant, policy), stat=escape(stat),
                              baseline=escape(spec.baseline_name)), title_justify="left")
        heads = [t("option"), within, t("mean_h"), t("pass_rate"),
                 t("diff" if share else "diff_h"), t("p_best")]
        if costed:
            heads += [t("cost"), t("per_point" if share else "per_hour")]
        for i, head in enumerate(heads):
            table.add_column(escape(head), justify="left" if i == 0 else "right",
                             overflow="fold")
        for r in in_order(rows).itertuples():
            costs = ((f"{r.cost_wan:,.0f}" + (f"\n[green]{t('pareto')}[/]" if r.pareto else ""),
                      "–" if r.cost_per_gain_wan != r.cost_per_gain_wan
                      else f"{r.cost_per_gain_wan:,.1f}") if costed else ())
            table.add_row(escape(r.placement) + (f"\n[green]{t('tie')}[/]"
                                                 if r.same_as_best else ""),
                          f"{_pct(r.share_within)}\n[dim]{_pct(r.share_ci_low)}–"
                          f"{_pct(r.share_ci_high)}[/]",
                          f"{_fmt(r.mean, lang)}\n[dim]{_range(r.ci_low, r.ci_high, lang)}[/]",
                          _pct(r.pass_rate),
                          f"{_signed(r.diff_mean, spec.statistic)}\n[dim]"
                          f"{_signed(r.diff_ci_low, spec.statistic)}…"
                          f"{_signed(r.diff_ci_high, spec.statistic)}[/]",
                          _pct(r.p_best), *costs)
        console.print(table)
        tied = [r.placement for r in rows.itertuples() if r.same_as_best]
        if len(tied) > 1:  # no order among options the replications cannot tell apart
            console.print(t("tied", kpi=escape(kpi), where=where(variant, policy),
                            names=escape(t("sep").join(tied))))
        elif len(rows):
            best = rows.sort_values("p_best", ascending=False).iloc[0]
            console.print(t("best", kpi=escape(kpi), where=where(variant, policy),
                            name=escape(best.placement), p=_pct(best.p_best),
                            within=escape(kpi_label(spec.kpi, lang, share=True,
                                                    target_h=best.target,
                                                    type_names=type_names)),
                            share=_pct(best.share_within), low=_pct(best.share_ci_low),
                            high=_pct(best.share_ci_high)))
        if costed:
            front = t("sep").join(t("pareto_item", name=p, cost=f"{c:,.0f}") for p, c in
                                  rows[rows.pareto].sort_values("cost_wan")[
                                      ["placement", "cost_wan"]].values)
            console.print(t("pareto_line", where=where(variant, policy), stat=escape(stat),
                            front=escape(front)))
    measured = [k for k, rows in summary.groupby("kpi", sort=False) if rows.n.max() > 0]
    overview = Table(title=t("overview"), title_justify="left")
    keys = ["variant", *(["policy"] if policies else []), "option"]
    for key in keys:
        overview.add_column(t(key), overflow="fold")
    for k in measured:
        overview.add_column(escape(kpi_label(k, lang, share=True, type_names=type_names,
                                             target_h=summary[summary.kpi == k].target.iloc[0])),
                            justify="right", overflow="fold")
    groups = summary.groupby(["variant", "policy"], sort=False)
    for i, ((variant, policy), group) in enumerate(groups):
        if i:
            overview.add_section()
        for placement, rows in in_order(group).groupby("placement", sort=False):
            by_kpi = rows.set_index("kpi")
            cells = {"variant": variant_label(variant, lang),
                     "policy": label("policy", policy, lang), "option": placement}
            overview.add_row(*[escape(cells[key]) for key in keys],
                             *[_pct(by_kpi.loc[k, "share_within"]) for k in measured])
    console.print(overview)


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

    from sim import __version__
    from sim.experiment import load_experiment
    from sim.figures import caption, save_figure, sensitivity_bars
    from sim.files import claim_dir, publish_dir
    from sim.glossary import METHOD_NAMES, kpi_label, source_line
    from sim.sensitivity import METHODS
    from sim.sensitivity import sensitivity as analyse
    from sim.workload import check_workload, estimate

    if method not in METHODS:
        raise ReliefsimError(f"--method: {method!r} — expected one of {list(METHODS)}")
    spec, base = load_experiment(experiment)
    out = out or Path("results") / f"{experiment.stem}-sensitivity"
    claim_dir(out, "sensitivity")
    d = len(spec.factors)
    points = samples * (d + 1) if method == "morris" else (
        (1 << max(0, samples - 1).bit_length()) * (d + 2))
    check_workload(replace(estimate(base), runs=points * replications), yes=yes,
                   what=f"{experiment} ({points} points × {replications} replications)")
    with Progress(TextColumn(_t(lang, "sensitivity_bar")), BarColumn(), MofNCompleteColumn(),
                  console=err_console, transient=True) as bar:
        task = bar.add_task("s", total=points * replications)
        result = analyse(spec, base, method=method, samples=samples, replications=replications,
                         cache_dir=cache_dir, origin=str(experiment),
                         progress=lambda done, total: bar.update(task, completed=done,
                                                                 total=total))
    with publish_dir(out, "sensitivity") as tmp:
        result.indices.to_csv(tmp / "sensitivity.csv", index=False, encoding="utf-8-sig")
        result.sample.to_csv(tmp / "sample.csv", index=False, encoding="utf-8-sig")
        source = source_line(lang, scenario=base.name, version=__version__,
                             replications=replications)
        for number, kpi in enumerate(dict.fromkeys(result.indices.kpi), start=1):
            text = caption("sensitivity_indices", lang, method=METHOD_NAMES[method][lang],
                           kpi=kpi_label(kpi, lang, share=True, target_h=base.kpi_target(kpi)))
            save_figure(sensitivity_bars(result.indices, kpi, method, lang), tmp,
                        f"sensitivity_{kpi}", ("png", "svg", "pdf"), number=number,
                        text=text, source=source, lang=lang)
    chosen = result.indices[result.indices.kpi == spec.kpi]
    main = "mu_star" if method == "morris" else "ST"
    indices = ("mu_star", "sigma") if method == "morris" else ("S1", "ST")
    table = Table(title=_t(lang, "sensitivity_title",
                           kpi=escape(kpi_label(spec.kpi, lang, type_names=_type_names(base))),
                           method=_t(lang, method), points=len(result.sample),
                           reps=replications), title_justify="left")
    for key in ("factor", *indices):
        table.add_column(_t(lang, key), justify="left" if key == "factor" else "right",
                         overflow="fold")
    wide = chosen.pivot_table(index="factor", columns="index", values=["value", "conf"],
                              dropna=False, sort=False)
    for factor in wide.sort_values(("value", main), ascending=False).index:
        cells = []
        for index in indices:
            value, conf = wide.loc[factor, ("value", index)], wide.loc[factor, ("conf", index)]
            cells.append(f"{value:.3f}" + ("" if conf != conf else f" ± {conf:.3f}"))
        table.add_row(escape(str(factor)), *cells)
    console.print(table)
    console.print(_t(lang, "sensitivity_written", out=escape(str(out))))


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
    lang: LANG_OPTION = "zh",
) -> None:
    """Choose depot sites with a location model, then verify the top K by simulation."""
    import pandas as pd

    from sim.batch import run_experiment
    from sim.compare import finish_experiment
    from sim.experiment import experiment_workload, load_experiment
    from sim.files import claim_dir, register
    from sim.glossary import kpi_label
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
    with err_console.status(_t(lang, "optimize_status", n=len(verify.placements),
                               reps=verify.replications)):
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
    types = _type_names(base)
    within = kpi_label(spec.kpi, lang, share=True, target_h=chosen.target.iloc[0],
                       type_names=types)
    table = Table(title=_t(lang, "optimize_title", model=_t(lang, f"model_{model}"), p=p,
                           standard=f"{standard:g}", sites=len(candidates.names),
                           kpi=escape(kpi_label(spec.kpi, lang, type_names=types)),
                           reps=verify.replications), title_justify="left")
    costed = bool((ranking.cost_wan > 0).any())
    heads = [_t(lang, "static_rank"), _t(lang, "new_sites"), _t(lang, "objective"),
             _t(lang, "gap"), _t(lang, "simulated_ci", within=within), _t(lang, "p_best"),
             _t(lang, "sim_rank"), *((_t(lang, "cost"), _t(lang, "per_point")) if costed else ())]
    for head in heads:
        table.add_column(escape(head), overflow="fold")
    for r in ranking.itertuples():
        costs = ((f"{r.cost_wan:,.0f}" + (f" ({_t(lang, 'pareto')})" if r.pareto else ""),
                  "–" if r.cost_per_gain_wan != r.cost_per_gain_wan
                  else f"{r.cost_per_gain_wan:,.1f}") if costed else ())
        table.add_row(str(r.static_rank),
                      escape(r.sites),
                      f"{r.objective:,.3g}", f"{r.gap:.1%}",
                      f"{_pct(r.share_within)} [{_pct(r.share_ci_low)}, {_pct(r.share_ci_high)}]",
                      _pct(r.p_best), f"{r.simulated_rank:.0f}", *costs)
    console.print(table)
    base_row = chosen.loc["current"]
    console.print(_t(lang, "current_layout", within=escape(within),
                     share=_pct(base_row.share_within), low=_pct(base_row.share_ci_low),
                     high=_pct(base_row.share_ci_high)))
    console.print(_t(lang, "optimize_written", out=escape(str(out))))


@app.command("validate-model")
@user_errors
def validate_model(
    quick: Annotated[bool, typer.Option("--quick", help="Shorter runs, wider bounds.")] = False,
    cache_dir: CACHE_OPTION = DEFAULT_CACHE,
    lang: LANG_OPTION = "zh",
) -> None:
    """Check the model against queueing theory, networkx routing and its own invariants."""
    from sim.validation import run_checks

    busy = _t(lang, "validating")
    with err_console.status(busy) as status:
        checks = run_checks(quick=quick, cache_dir=cache_dir,
                            progress=lambda stage: status.update(f"{busy}: {stage}"))
    table = Table(title=_t(lang, "checks_title"), title_justify="left")
    for key in ("check", "theory", "simulated", "ci99", "result"):
        table.add_column(_t(lang, key), justify="left" if key == "check" else "right",
                         overflow="fold")
    for c in checks:
        ci = _t(lang, "exact") if c.ci_low != c.ci_low else f"[{c.ci_low:.4g}, {c.ci_high:.4g}]"
        name = escape(c.name) + (f"\n[dim]{escape(c.note)}[/]" if c.note else "")
        table.add_row(name, f"{c.theory:.4g}", f"{c.simulated:.4g}", ci,
                      f"[green]{_t(lang, 'check_pass')}[/]" if c.passed
                      else f"[red]{_t(lang, 'check_fail')}[/]")
    console.print(table)
    failed = [c.name for c in checks if not c.passed]
    if failed:
        err_console.print(_t(lang, "checks_failed", n=len(failed),
                             names=escape(", ".join(failed))))
        raise typer.Exit(1)
    console.print(_t(lang, "checks_passed", n=len(checks)))


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
    """A run or experiment results folder, or an experiment's example run (OUT/runs/CONFIG,
    kept with the others in one folder)."""
    from sim.results import EXAMPLES

    if not (path.is_dir() or (path.parent / EXAMPLES).is_file()):
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
    lang: LANG_OPTION = "zh",
) -> None:
    """Nodes, edges, dropped components, bbox, speeds and unreachable sites of a network."""
    from sim.network import load_network

    if source.endswith((".yaml", ".yml")):
        from sim.scenario import load_scenario
        from sim.world import build_world

        spec = load_scenario(source)
        world = build_world(spec, cache_dir=cache_dir, origin=source)
        _print_report(world.road.report, lang)
        _print_sites(world, lang)
        if world.water is not None:
            _print_report(world.water.report, lang)
        _warn(world.warnings)
        return
    _print_report(load_network(source, cache_dir=cache_dir).report, lang)


def _print_report(report: Any, lang: str = "zh") -> None:
    west, south, east, north = report.bbox
    table = Table(title=_t(lang, "network_title", kind=_t(lang, f"network_{report.kind}"),
                           source=escape(str(report.source))), show_header=False)
    table.add_row(_t(lang, "nodes"), f"{report.n_nodes:,}")
    table.add_row(_t(lang, "edges"), f"{report.n_edges:,}")
    table.add_row(_t(lang, "dropped"), _t(lang, "dropped_value",
                                          nodes=f"{report.dropped_nodes:,}",
                                          components=f"{report.dropped_components:,}"))
    table.add_row(_t(lang, "bbox"), f"{west:.5f}, {south:.5f}, {east:.5f}, {north:.5f}")
    table.add_row(_t(lang, "maxspeed"), f"{report.maxspeed_share:.0%}")
    table.add_row(_t(lang, "cache"), _t(lang, "cache_hit" if report.cache_hit else "cache_miss"))
    console.print(table)
    speeds = Table(title=_t(lang, "speeds_title"))
    for key in ("road_class", "edge_count", "km", "kmh"):
        speeds.add_column(_t(lang, key), justify="left" if key == "road_class" else "right")
    for row in report.speeds:
        speeds.add_row(escape(row.highway), f"{row.edges:,}", f"{row.km:,.1f}", f"{row.kmh:.0f}")
    console.print(speeds)


def _print_sites(world: Any, lang: str = "zh") -> None:
    from sim.scenario import SITE_FIELDS

    names: dict[str, str] = {}
    for field_name, _ in SITE_FIELDS:
        names.update(_names(getattr(world.scenario, field_name)))
    table = Table(title=_t(lang, "sites_title"))
    for key in ("site", "kind", "snap_m", "reachable_in", "reachable_out"):
        table.add_column(_t(lang, key), overflow="fold")
    for site in world.sites.values():
        table.add_row(escape(names.get(site.id, site.id)), _t(lang, f"kind_{site.kind}"),
                      f"{site.snap_m:.0f}",
                      _t(lang, "yes") if site.reachable_in else f"[red]{_t(lang, 'no')}[/]",
                      _t(lang, "yes") if site.reachable_out else f"[red]{_t(lang, 'no')}[/]")
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
