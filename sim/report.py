"""The report a planner attaches to a plan draft: self-contained HTML, Word (.docx) or PDF,
A4, in Chinese or English.

It is written as a planner writes an evaluation: 摘要 (conclusions first), 情景与主要假设
(every input and default with its source, or marked as an assumption), 评估方法, 结果
(each target with its rule), 方案比选 (per variant, for an experiment), 未达标原因, 局限与说明,
then the numbered figures. Tables are numbered 表1 … with their caption above, figures 图1 …
with caption and source line below. The content is built once as a list of blocks and
rendered to each format; the HTML page also carries an interactive map (offline).
"""

from __future__ import annotations

import base64
import html
import json
import math
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from sim.errors import ReliefsimError
from sim.figures import baseline_run, figure_plates, read_run, render
from sim.files import publish_file
from sim.fonts import embedded_font_css
from sim.glossary import (
    CAUSES,
    LIMITS,
    METHOD,
    REPORT_TEXT,
    SOURCES,
    kpi_label,
    label,
    variant_label,
)
from sim.scenario import Dispatch, Handout, Scenario, Targets

__all__ = ["FORMATS", "write_report"]

FORMATS = ("html", "docx", "pdf")

TEXT = REPORT_TEXT

CSS = """
@page{size:A4;margin:20mm 18mm}
body{font-family:"ReliefsimCJK",sans-serif;max-width:1000px;margin:2em auto;padding:0 1em;
color:#222;line-height:1.6}
h1{border-bottom:3px solid #b22222;padding-bottom:.3em;font-size:1.6em}
h2{color:#b22222;margin-top:1.6em;font-size:1.25em}
table{border-collapse:collapse;margin:.3em 0 1em;font-size:13px;page-break-inside:auto}
tr{page-break-inside:avoid}
th,td{border:1px solid #bbb;padding:3px 7px;text-align:right;vertical-align:top}
th{background:#f3f3f3;text-align:center}td:first-child{text-align:left}
td.text{text-align:left}.pass{color:#1a7f37;font-weight:bold}
.fail{color:#cf222e;font-weight:bold}.na{color:#888}
.tcap{font-weight:bold;margin-top:1em;text-align:center;break-after:avoid}
figure{margin:1.2em 0;page-break-inside:avoid;text-align:center}
figure img{max-width:100%}figcaption{font-size:14px}
.source{color:#666;font-size:12px;text-align:left}.note{color:#555;font-size:13px}
ul.summary li{margin:.3em 0}.webmap{margin:1em 0}
@media print{.webmap{display:none}body{max-width:none;margin:0;padding:0}}
"""

VERDICT_RGB = {"pass": (0x1A, 0x7F, 0x37), "fail": (0xCF, 0x22, 0x2E), "na": (0x88, 0x88, 0x88)}
WORD_FONTS = {"body": ("宋体", "Times New Roman"), "heading": ("黑体", "Arial")}
"""East Asian and Latin fonts named in the .docx: 宋体 and 黑体 come with every Chinese
Windows/Office (Word substitutes its own CJK font elsewhere)."""
A4_CM = (21.0, 29.7)


# -- content ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Verdict:
    """A pass/fail cell (None: nothing to judge)."""

    passed: bool | None


Cell = str | Verdict


@dataclass(frozen=True)
class Heading:
    text: str
    level: int


@dataclass(frozen=True)
class Paragraph:
    lines: list[str]
    bullets: bool = False


@dataclass(frozen=True)
class Table:
    caption: str
    header: list[str]
    rows: list[list[Cell]]
    note: str = ""
    number: int = 0


@dataclass(frozen=True)
class Figure:
    path: Path
    caption: str
    source: str
    number: int


@dataclass(frozen=True)
class Live:
    """HTML only: the interactive map fragment."""

    html: str
    note: str


Block = Heading | Paragraph | Table | Figure | Live


@dataclass
class Context:
    """What every section reads: language, texts, names of the scenario's things."""

    lang: str
    scenario: Scenario
    t: dict[str, str] = field(init=False)
    names: dict[str, str] = field(init=False)

    def __post_init__(self) -> None:
        self.t = TEXT[self.lang]
        s = self.scenario
        self.names = {x.id: x.name or x.id for x in [
            *s.settlements, *s.commodities, *s.depots, *s.disruptions, *s.incident_types,
            *s.team_bases, *s.water_stations, *s.helipads, *s.shelters]}

    def name(self, key: str) -> str:
        return self.names.get(key, key)

    def join(self, items: Any) -> str:
        """Items of a list in running text: 、 in Chinese, a comma in English."""
        return ("、" if self.lang == "zh" else ", ").join(items)

    def kpi(self, kpi: str, target: float | None = None, *, share: bool = False) -> str:
        types = {k.id: k.name or k.id for k in self.scenario.incident_types}
        return kpi_label(kpi, self.lang, share=share, target_h=target, type_names=types)

    def hours(self, x: float) -> str:
        if x != x:
            return "–"
        return self.t["beyond"] if math.isinf(x) else f"{x:.2f}"


def _pct(x: float) -> str:
    return "–" if x != x else f"{x:.1%}"


def _pp(x: float) -> str:
    return "–" if x != x else f"{x * 100:+.1f}"


def _summary_run(kpis: pd.DataFrame, why: pd.DataFrame | None, c: Context) -> list[str]:
    t, lines = c.t, []
    for r in kpis.itertuples():
        if r.n == 0:
            continue
        verdict = t["pass"] if r.passed else t["fail"]
        share = c.kpi(r.kpi, r.target, share=True)
        never = f"，{t['people_never'].format(n=r.never)}" if c.lang == "zh" and r.never else (
            f"; {t['people_never'].format(n=r.never)}" if r.never else "")
        sep = "：" if c.lang == "zh" else ": "
        lines.append(f"{c.kpi(r.kpi)}{sep}{share} {_pct(r.share_within)}（{t['required']} "
                     f"{_pct(r.share_required)}）{never} — {verdict}" if c.lang == "zh" else
                     f"{c.kpi(r.kpi)}{sep}{share} {_pct(r.share_within)} ({t['required']} "
                     f"{_pct(r.share_required)}){never} — {verdict}")
    if why is not None and len(why):
        late = why.groupby("cause").late.sum().sort_values(ascending=False)
        causes = c.join(
            f"{label('cause', k, c.lang)}（{v:,}）" if c.lang == "zh" else
            f"{label('cause', k, c.lang)} ({v:,})" for k, v in late.items())
        lines.append(f"{t['why']}（按未达标人数）：{causes}" if c.lang == "zh"
                      else f"{t['why']} (people late): {causes}")
    return lines


def _summary_experiment(summary: pd.DataFrame, manifest: dict[str, Any], c: Context
                        ) -> list[str]:
    lines = []
    rows = summary[(summary.kpi == manifest["kpi"]) & (summary.n > 0)]
    share = manifest.get("statistic", "share_within") == "share_within"
    target = float(rows.target.iloc[0]) if len(rows) else None
    name = c.kpi(manifest["kpi"], target, share=share)
    for (policy, variant), part in rows.groupby(["policy", "variant"], sort=False):
        best = part.sort_values("p_best", ascending=False).iloc[0]
        ties = [p for p in part[part.same_as_best.astype(bool)].placement if p != best.placement]
        head = variant_label(str(variant), c.lang)
        if rows.policy.nunique() > 1:
            head += f" / {label('policy', str(policy), c.lang)}"
        value = _pct(best.share_within) if share else f"{best['mean']:.2f}"
        if c.lang == "zh":
            text = (f"{head}：{name}最优可能性最大的方案为“{best.placement}”（{value}，"
                    f"为最优方案的概率{best.p_best:.0%}）")
            if ties:
                text += "；与其无显著差异：" + "、".join(f"“{p}”" for p in ties)
            if "cost_wan" in part and (part.cost_wan > 0).any():
                cheap = part[part.same_as_best.astype(bool)].sort_values("cost_wan").iloc[0]
                text += f"；其中费用最低的是“{cheap.placement}”（{cheap.cost_wan:,.0f}万元）"
        else:
            text = (f"{head}: the option most likely best on the {name} is '{best.placement}' "
                    f"({value}, probability of being best {best.p_best:.0%})")
            if ties:
                text += "; not significantly different: " + ", ".join(ties)
            if "cost_wan" in part and (part.cost_wan > 0).any():
                cheap = part[part.same_as_best.astype(bool)].sort_values("cost_wan").iloc[0]
                text += (f"; the cheapest of these is '{cheap.placement}' "
                         f"({cheap.cost_wan:,.0f} × 10,000 CNY)")
        lines.append(text)
    failing = summary[(summary.n > 0) & (summary.pass_rate < 0.95)]
    if len(failing):
        names = c.join(dict.fromkeys(c.kpi(k) for k in failing.kpi))
        lines.append(f"未在≥95%的重复中达标的指标：{names}" if c.lang == "zh" else
                     f"Targets not met in ≥ 95 % of replications by some option: {names}")
    return lines


def _source(value: Any, default: Any, key: str, c: Context) -> str:
    zh, en = SOURCES[key]
    if value != default:
        return c.t["set_by_scenario"]
    return zh if c.lang == "zh" else en


def _assumptions(scenario: Scenario, summary: dict[str, Any], c: Context) -> list[list[Cell]]:
    t, h = c.t, c.t["hours"]
    tg, dflt = scenario.targets, Targets()
    d, dd = scenario.dispatch, Dispatch()
    ho, dho = scenario.handout, Handout()
    rows: list[list[Cell]] = []
    for key in ("initial_relief_h", "effective_relief_h", "inland_river_arrival_h",
                "sea_arrival_h"):
        target_kpi = {"initial_relief_h": "initial_relief", "effective_relief_h":
                      "effective_relief", "inland_river_arrival_h": "inland_river_arrival",
                      "sea_arrival_h": "sea_arrival"}[key]
        rows.append([c.kpi(target_kpi), f"≤ {getattr(tg, key):g} {h}",
                     _source(getattr(tg, key), getattr(dflt, key), key, c)])
    rows.append([c.kpi("fires_out_24h"), f"≥ {tg.fire_out_share:.0%} / {tg.fire_out_h:g} {h}",
                 _source((tg.fire_out_h, tg.fire_out_share),
                         (dflt.fire_out_h, dflt.fire_out_share), "fire_out", c)])
    rows.append([t["required_share"], _pct(tg.time_share_required),
                 _source(tg.time_share_required, dflt.time_share_required,
                         "time_share_required", c)])
    rows.append([t["policy"], label("policy", d.policy, c.lang),
                 _source(d.policy, dd.policy, "policy", c)])
    delays = c.join(
        f"{label('tier', k, c.lang)} {v:g} {h}" for k, v in d.escalation_delay_h.items())
    rows.append([t["escalation"], delays,
                 _source(d.escalation_delay_h, dd.escalation_delay_h, "escalation_delay_h", c)])
    yes_no = ("是", "否") if c.lang == "zh" else ("yes", "no")
    rows.append(["escalate_if_late" if c.lang == "en" else "不能按时送达时提级",
                 yes_no[0] if d.escalate_if_late else yes_no[1],
                 _source(d.escalate_if_late, dd.escalate_if_late, "escalate_if_late", c)])
    support = {"if_earlier": (f"早到≥{d.support_margin_h:g}小时时增援",
                              f"when ≥ {d.support_margin_h:g} h earlier"),
               "after_delay": (f"等待{d.support_delay_h:g}小时后增援",
                               f"after waiting {d.support_delay_h:g} h"),
               "never": ("不跨区域", "never")}[d.support]
    rows.append(["跨区域支援" if c.lang == "zh" else "support across units",
                 support[0] if c.lang == "zh" else support[1],
                 _source((d.support, d.support_margin_h, d.support_delay_h),
                         (dd.support, dd.support_margin_h, dd.support_delay_h), "support", c)])
    rows.append(["受阻车辆等待时间" if c.lang == "zh" else "stranded truck waits",
                 f"{d.stranded_wait_h:g} {h}",
                 _source(d.stranded_wait_h, dd.stranded_wait_h, "stranded_wait_h", c)])
    rate = ho.people_per_h_per_point
    handout = ((f"每{ho.people_per_point:,}人1个发放点，每点每小时{rate:,.0f}人" if rate else
                "到达即发放") if c.lang == "zh" else
               (f"one point per {ho.people_per_point:,} people, {rate:,.0f} people/h each"
                if rate else "at unloading"))
    rows.append(["物资发放能力" if c.lang == "zh" else "hand-out capacity", handout,
                 _source((ho.people_per_point, rate),
                         (dho.people_per_point, dho.people_per_h_per_point), "handout", c)])
    rows.append([t["horizon"], f"{scenario.horizon_h:g} {h}", t["set_by_scenario"]])
    rows.append([t["seed"], str(summary["seed"]), t["set_by_scenario"]])
    return rows


def _context_blocks(scenario: Scenario, summary: dict[str, Any], c: Context) -> list[Block]:
    t = c.t
    network = summary["network"]
    meta: list[list[Cell]] = [
        [t["scenario"], scenario.name], [t["detail"], scenario.description or "–"],
        [t["network"], (f"{network['source']}（{network['nodes']:,}个节点、"
                        f"{network['edges']:,}条路段）") if c.lang == "zh" else
         f"{network['source']} ({network['nodes']:,} nodes, {network['edges']:,} edges)"],
        [t["versions"], ", ".join(f"{k} {v}" for k, v in summary["versions"].items())]]
    units = {x.id: x.unit or "" for x in scenario.commodities}
    depots: list[list[Cell]] = [
        [c.name(d.id), label("tier", d.tier, c.lang), label("kind", d.kind, c.lang),
         c.join(f"{c.name(k)} {q:,.0f}{units.get(k, '')}" for k, q in d.stock.items()) or "–",
         str(d.trucks.count)] for d in scenario.depots]
    commodities: list[list[Cell]] = [
        [c.name(x.id), x.unit or "–", f"{x.per_person:g}", "✓" if x.main else ""]
        for x in scenario.commodities]
    settlements: list[list[Cell]] = [
        [c.name(s.id), f"{s.people:,}", f"{s.onset_h:g}"] for s in scenario.settlements]
    closures: list[list[Cell]] = [
        [c.name(x.id), f"{x.window.start_h:g}–{x.window.end_h:g}",
         t["closure"] if x.factor is None else t["slowdown"].format(f=x.factor)]
        for x in scenario.disruptions]
    blocks: list[Block] = [
        Heading(t["context"], 2),
        Table(t["t_meta"], [t["item"], t["detail"]], meta),
        Table(t["t_assumptions"], [t["item"], t["setting"], t["source"]],
              _assumptions(scenario, summary, c)),
        Table(t["t_depots"], [t["depots"], t["tier"], t["kind"], t["stock"], t["trucks"]],
              depots),
        Table(t["commodities"], [t["commodity"], t["unit"], t["per_person"], t["main"]],
              commodities),
    ]
    if settlements:
        blocks.append(Table(t["t_settlements"], [t["settlement"], t["people"], t["onset"]],
                            settlements))
    if closures:
        blocks.append(Table(t["t_closures"], [t["item"], f"{t['window']}", t["kind"]],
                            closures))
    return blocks


def _method_blocks(scenario: Scenario, summary: dict[str, Any], manifest: dict[str, Any] | None,
                   c: Context) -> list[Block]:
    m = METHOD[c.lang]
    lines = [m["model"].format(policy=label("policy", scenario.dispatch.policy, c.lang))]
    if manifest is None:
        lines += [m["run"].format(seed=summary["seed"], horizon=scenario.horizon_h),
                  m["rule_run"]]
    else:
        kpi = c.kpi(manifest["kpi"], c.scenario.kpi_target(manifest["kpi"]),
                    share=manifest.get("statistic") == "share_within")
        lines += [m["exp"].format(n=manifest["replications"], resamples=4000, kpi=kpi),
                  m["rule_run"], m["rule_exp"]]
    lines.append(m["never"])
    return [Heading(c.t["method"], 2), Paragraph(lines)]


def _run_blocks(tables: dict[str, pd.DataFrame], summary: dict[str, Any], c: Context
                ) -> list[Block]:
    t = c.t
    kpis = tables["kpis"]
    rows: list[list[Cell]] = [
        [c.kpi(r.kpi), f"≤ {r.target:g} {t['hours']}", f"{r.n:,.0f}",
         c.hours(r["mean"]), c.hours(r.p95), _pct(r.share_within), _pct(r.share_required),
         (t["people_never"].format(n=r.never) if r.never else "–"),
         Verdict(None if r.n == 0 else bool(r.passed))] for _, r in kpis.iterrows()]
    blocks: list[Block] = [
        Heading(t["results"], 2),
        Table(t["t_targets"], [t["target"], t["standard"], t["n_col"], t["mean_h"], t["p95_h"],
                               t["share_col"], t["required_share"], t["never_col"], t["result"]],
              rows, note=METHOD[c.lang]["rule_run"])]
    blocks += _why_blocks(tables.get("shortfalls"), c)
    blocks += _evacuation_blocks(summary, tables, c) + _life_circle_blocks(summary, c)
    blocks += _service_blocks(summary, c)
    return blocks


def _why_blocks(why: pd.DataFrame | None, c: Context) -> list[Block]:
    if why is None or not len(why):
        return []
    t = c.t
    return [Heading(t["why"], 2), Table(
        t["t_why"], [t["settlement"], t["commodity"], t["late"], t["cause"], t["detail"]],
        [[c.name(r.settlement), c.name(r.commodity), f"{r.late:,}",
          CAUSES.get(r.cause, (r.cause, r.cause))[0 if c.lang == "zh" else 1],
          r[f"detail_{c.lang}"]] for _, r in why.iterrows()])]


def _evacuation_blocks(summary: dict[str, Any], tables: dict[str, pd.DataFrame],
                       c: Context) -> list[Block]:
    """转移安置与避难场所: who was moved where, when, and how full the shelters got."""
    from sim.glossary import EVACUATION_LABELS

    found = summary.get("evacuation")
    if not found:
        return []
    t, e = c.t, EVACUATION_LABELS[c.lang]
    colon = "：" if c.lang == "zh" else ": "
    lines = [f"{e['people_ordered']}{colon}{found['people_ordered']:,}；"
             f"{e['people_sheltered']}{colon}{found['people_sheltered']:,}；"
             f"{e['people_without_place']}{colon}{found['people_without_place']:,}"
             if c.lang == "zh" else
             f"{e['people_ordered']}: {found['people_ordered']:,}; {e['people_sheltered']}: "
             f"{found['people_sheltered']:,}; {e['people_without_place']}: "
             f"{found['people_without_place']:,}",
             f"{e['evacuation_complete_h']}{colon}{c.hours(found['evacuation_complete_h'])}",
             f"{e['evacuation_within'].format(h=format(found['target_h'], 'g'))}{colon}"
             f"{_pct(found['evacuation_within'])}",
             _walk_basis(found, c)]
    shelters: list[list[Cell]] = [
        [c.name(s["shelter"]), e.get(f"category_{s.get('category')}", "–")
         if s.get("category") else "–", f"{s['capacity']:,}", f"{s['assigned']:,}",
         f"{s['peak']:,}", _pct(s["peak_share"]), c.hours(s["peak_h"])]
        for s in found["shelters"]]
    groups = tables.get("evacuation")
    rows: list[list[Cell]] = [] if groups is None else [
        [c.name(g.settlement), c.name(g.shelter) if g.shelter else e["no_place"],
         e.get(g.mode, g.mode), f"{g.people:,}", f"{g.order_h:g}",
         c.hours(g.admitted_first_h), c.hours(g.admitted_last_h)]
        for g in groups.itertuples()]
    blocks: list[Block] = [
        Heading(t["evacuation_h2"], 2), Paragraph(lines),
        Table(t["t_shelters"], [e["shelter"], t["category"], e["capacity"], e["assigned"],
                                e["peak"], t["peak_share"], e["peak_h"]], shelters)]
    if rows:
        blocks.append(Table(t["t_evacuation"], [
            e["settlement"], e["shelter"], e["mode"], e["people"], e["order_h"],
            e["admitted_first_h"], e["admitted_last_h"]], rows))
    return blocks


def _walk_basis(found: dict[str, Any], c: Context) -> str:
    """What walking times were measured on, and at what speed."""
    from sim.glossary import EVACUATION_LABELS

    e = EVACUATION_LABELS[c.lang]
    text = e["basis_walk" if found.get("walk_basis") == "walk" else "basis_road"]
    kmh = f"{found['walk_kmh']:g} km/h"
    return f"{text}（{kmh}）" if c.lang == "zh" else f"{text} ({kmh})"


def _life_circle_blocks(summary: dict[str, Any], c: Context) -> list[Block]:
    """15分钟生活保障圈: shares of people within a walk of a stockpile point and a shelter."""
    found = summary.get("life_circle")
    if not found:
        return []
    t = c.t
    colon = "：" if c.lang == "zh" else ": "
    verdict = t["pass"] if found["passed"] else t["fail"]
    return [Heading(t["life_circle_h"], 2), Paragraph([
        f"{t['life_stock'].format(m=found['minutes'])}{colon}{_pct(found['stockpile_share'])}"
        f"（{t['required']} {_pct(found['required'])}）— {verdict}" if c.lang == "zh" else
        f"{t['life_stock'].format(m=found['minutes'])}: {_pct(found['stockpile_share'])} "
        f"({t['required']} {_pct(found['required'])}) — {verdict}",
        f"{t['life_shelter'].format(m=found['minutes'])}{colon}"
        f"{_pct(found['shelter_share'])}",
        _walk_basis(found, c)])]


def _service_blocks(summary: dict[str, Any], c: Context) -> list[Block]:
    service = summary.get("service_areas") or []
    if not service or not c.scenario.settlements:
        return []
    t = c.t
    return [Table(t["t_service"], [t["depots"], t["tier"], t["basis"], t["served"], t["people"]],
                  [[c.name(a["depot"]), label("tier", a["tier"], c.lang),
                    label("basis", a["basis"], c.lang),
                    c.join(c.name(x) for x in a["settlements"]) or "–", f"{a['people']:,}"]
                   for a in service])]


def _experiment_blocks(exp_dir: Path, manifest: dict[str, Any], c: Context) -> list[Block]:
    t = c.t
    summary = pd.read_parquet(exp_dir / "summary.parquet")
    policies = summary.policy.nunique() > 1
    rows: list[list[Cell]] = []
    for r in summary.itertuples():
        if r.n == 0:
            continue
        option = r.placement + (f" / {label('policy', r.policy, c.lang)}" if policies else "")
        mean = (f"{r.mean:.2f} [{r.ci_low:.2f}, {r.ci_high:.2f}]" if math.isfinite(r.mean)
                else t["some_never"])
        rows.append([option, variant_label(r.variant, c.lang), c.kpi(r.kpi),
                     f"≤ {r.target:g} {t['hours']}", mean,
                     f"{_pct(r.share_within)} [{_pct(r.share_ci_low)}, {_pct(r.share_ci_high)}]",
                     _pct(r.pass_rate), Verdict(bool(r.pass_rate >= 0.95))])
    blocks: list[Block] = [
        Heading(t["results"], 2),
        Table(t["t_configs"].format(n=manifest["replications"]),
              [t["placement"], t["variant"], t["target"], t["standard"],
               f"{t['mean_h']} [{t['ci_col']}]", f"{t['share_col']} [{t['ci_col']}]",
               t["pass_rate_col"], t["result"]], rows, note=METHOD[c.lang]["rule_exp"])]
    precision = manifest.get("precision") or {}
    if precision.get("half_width") is not None:
        unit = "" if manifest.get("statistic") == "share_within" else f" {t['hours']}"
        goal = precision.get("goal")
        colon = "：" if c.lang == "zh" else ": "
        blocks.append(Paragraph([f"{t['precision']}{colon}±{precision['half_width']:.4g}{unit}"
                                 + (f" ({t['goal']} ±{goal:g}{unit})" if goal else "")]))
    blocks.append(Heading(t["options"], 2))
    chosen = summary[(summary.kpi == manifest["kpi"]) & (summary.n > 0)]
    costed = "cost_wan" in chosen and bool((chosen.cost_wan > 0).any())
    share = manifest.get("statistic", "share_within") == "share_within"
    order = {p: k for k, p in enumerate(dict.fromkeys(summary.placement))}
    for (policy, variant), part in chosen.groupby(["policy", "variant"], sort=False):
        part = part.sort_values("placement", key=lambda col: col.map(order), kind="stable")
        head = variant_label(str(variant), c.lang)
        if policies:
            head += f" / {label('policy', str(policy), c.lang)}"
        table_rows: list[list[Cell]] = []
        for r in part.itertuples():
            value = (f"{_pct(r.share_within)} [{_pct(r.share_ci_low)}, {_pct(r.share_ci_high)}]"
                     if share else f"{r.mean:.2f} [{r.ci_low:.2f}, {r.ci_high:.2f}]")
            diff = (f"{_pp(r.diff_mean)} [{_pp(r.diff_ci_low)}, {_pp(r.diff_ci_high)}]" if share
                    else f"{r.diff_mean:+.2f} [{r.diff_ci_low:+.2f}, {r.diff_ci_high:+.2f}]")
            if r.placement == manifest["baseline"]:
                diff = "–"
            tie = t["tie"] if r.same_as_best else ""
            table_rows.append([r.placement, value, diff, _pct(r.p_best), tie,
                               *((f"{r.cost_wan:,.0f}" + (f"（{t['pareto']}）" if r.pareto
                                                          else ""),) if costed else ())])
        name = c.kpi(manifest["kpi"], float(part.target.iloc[0]), share=share)
        diff_head = f"{t['diff']}（百分点）" if c.lang == "zh" and share else (
            f"{t['diff']} (points)" if share else t["diff"])
        blocks.append(Table(
            t["t_options"].format(variant=head) + f"（{name}）" if c.lang == "zh"
            else t["t_options"].format(variant=head) + f" ({name})",
            [t["placement"], f"{t['share_col'] if share else t['mean_h']} [{t['ci_col']}]",
             diff_head, t["p_best_col"], t["tie"], *((t["cost_wan"],) if costed else ())],
            table_rows))
    return blocks


def _limits_blocks(c: Context) -> list[Block]:
    return [Heading(c.t["limits"], 2), Paragraph(list(LIMITS[c.lang]), bullets=True)]


# -- HTML ------------------------------------------------------------------------------------


def _e(value: Any) -> str:
    return html.escape(str(value))


def _html_cell(cell: Cell, t: dict[str, str]) -> str:
    if isinstance(cell, str):
        return f'<td class="text">{_e(cell)}</td>' if not _numeric(cell) else f"<td>{_e(cell)}</td>"
    kind = _verdict_kind(cell)
    return f'<td><span class="{kind}">{_e(t[kind])}</span></td>'


NUMERIC = re.compile(r"^[\d\s+\-–.,%\[\]]+$")
"""A cell that is only numbers (and their interval, sign, % and separators): right-aligned."""


def _numeric(text: str) -> bool:
    return bool(NUMERIC.match(text))


def _html_block(block: Block, t: dict[str, str]) -> str:
    if isinstance(block, Heading):
        return f"<h{block.level}>{_e(block.text)}</h{block.level}>"
    if isinstance(block, Paragraph):
        if block.bullets:
            return ('<ul class="summary">' + "".join(f"<li>{_e(x)}</li>" for x in block.lines)
                    + "</ul>")
        return "".join(f"<p>{_e(line)}</p>" for line in block.lines)
    if isinstance(block, Figure):
        data = base64.b64encode(block.path.read_bytes()).decode("ascii")
        return (f'<figure id="fig{block.number}"><img alt="{_e(block.caption)}" '
                f'src="data:image/png;base64,{data}"><figcaption>'
                f"{_e(_numbered('figure', block.number, block.caption, t))}</figcaption>"
                f'<div class="source">{_e(block.source)}</div></figure>')
    if isinstance(block, Live):
        return (f'<div class="webmap"><p class="tcap">{_e(t["map_live"])}</p>'
                f'<p class="note">{_e(block.note)}</p>{block.html}</div>')
    head = "".join(f"<th>{_e(h)}</th>" for h in block.header)
    body = "".join("<tr>" + "".join(_html_cell(c, t) for c in row) + "</tr>"
                   for row in block.rows)
    note = f'<p class="note">{_e(block.note)}</p>' if block.note else ""
    return (f'<p class="tcap" id="tab{block.number}">'
            f"{_e(_numbered('table', block.number, block.caption, t))}</p>"
            f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>{note}")


def _numbered(kind: str, number: int, caption: str, t: dict[str, str]) -> str:
    key = "table" if kind == "table" else "figure_n"
    sep = "\u3000" if t is TEXT["zh"] else ". "
    return t[key].format(n=number) + sep + caption


def _write_html(blocks: list[Block], t: dict[str, str], lang: str, out: Path) -> None:
    body = "".join(_html_block(b, t) for b in blocks)
    font = embedded_font_css(html.unescape(body) + t["title"])
    out.write_text(f'<!DOCTYPE html><html lang="{"zh-CN" if lang == "zh" else "en"}"><head>'
                   f'<meta charset="utf-8"><title>{_e(t["title"])}</title>'
                   f"<style>{font}{CSS}</style></head><body>{body}</body></html>",
                   encoding="utf-8")


# -- Word ------------------------------------------------------------------------------------


def _docx_fonts(style: Any, fonts: tuple[str, str]) -> None:
    from docx.oxml.ns import qn

    style.font.name = fonts[1]
    element = style.element.get_or_add_rPr().get_or_add_rFonts()
    element.set(qn("w:eastAsia"), fonts[0])
    element.set(qn("w:ascii"), fonts[1])
    element.set(qn("w:hAnsi"), fonts[1])


def _write_docx(blocks: list[Block], t: dict[str, str], lang: str, out: Path) -> None:
    from docx import Document
    from docx.enum.table import WD_TABLE_ALIGNMENT
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Cm, Pt, RGBColor

    doc = Document()
    doc.core_properties.title = t["title"]
    doc.core_properties.language = "zh-CN" if lang == "zh" else "en"
    section = doc.sections[0]
    section.page_width, section.page_height = Cm(A4_CM[0]), Cm(A4_CM[1])
    section.left_margin = section.right_margin = Cm(2.5)
    section.top_margin = section.bottom_margin = Cm(2.5)
    for style in ("Normal", "Caption", "List Bullet"):
        _docx_fonts(doc.styles[style], WORD_FONTS["body"])
    for style in ("Title", "Heading 1", "Heading 2"):
        _docx_fonts(doc.styles[style], WORD_FONTS["heading"])
    doc.styles["Normal"].font.size = Pt(10.5)  # 五号
    width = section.page_width - section.left_margin - section.right_margin
    for block in blocks:
        if isinstance(block, Live):
            continue
        if isinstance(block, Heading):
            doc.add_heading(block.text, level=0 if block.level == 1 else block.level - 1)
        elif isinstance(block, Paragraph):
            for line in block.lines:
                doc.add_paragraph(line, style="List Bullet" if block.bullets else None)
        elif isinstance(block, Figure):
            doc.add_picture(str(block.path), width=min(width, Cm(16)))
            doc.paragraphs[-1].alignment = WD_ALIGN_PARAGRAPH.CENTER
            cap = doc.add_paragraph(_numbered("figure", block.number, block.caption, t),
                                    style="Caption")
            cap.alignment = WD_ALIGN_PARAGRAPH.CENTER
            source = doc.add_paragraph(block.source)
            source.runs[0].font.size = Pt(8)
        else:
            cap = doc.add_paragraph(_numbered("table", block.number, block.caption, t),
                                    style="Caption")
            cap.alignment = WD_ALIGN_PARAGRAPH.CENTER
            rows = [block.header, *block.rows]
            table = doc.add_table(rows=len(rows), cols=len(block.header))
            table.style = "Table Grid"
            table.alignment = WD_TABLE_ALIGNMENT.CENTER
            for r, row in enumerate(rows):
                for k, cell in enumerate(row):
                    run = table.cell(r, k).paragraphs[0].add_run(
                        cell if isinstance(cell, str) else t[_verdict_kind(cell)])
                    run.font.size = Pt(9)
                    run.bold = r == 0
                    if isinstance(cell, Verdict):
                        run.bold = True
                        run.font.color.rgb = RGBColor(*VERDICT_RGB[_verdict_kind(cell)])
            if block.note:
                note = doc.add_paragraph(block.note)
                note.runs[0].font.size = Pt(9)
    doc.save(str(out))


def _verdict_kind(verdict: Verdict) -> str:
    if verdict.passed is None or verdict.passed != verdict.passed:
        return "na"
    return "pass" if verdict.passed else "fail"


# -- entry point -----------------------------------------------------------------------------


def _number_tables(blocks: list[Block]) -> list[Block]:
    out: list[Block] = []
    n = 0
    for block in blocks:
        if isinstance(block, Table):
            n += 1
            block = Table(block.caption, block.header, block.rows, block.note, n)
        out.append(block)
    return out


def _live_map(run_dir: Path, lang: str, cache_dir: Path | None, map_number: int) -> Live | None:
    from sim.figures import _closed_edges
    from sim.webmap import interactive_map
    from sim.world import build_world

    summary, scenario, tables = read_run(run_dir)
    world = build_world(scenario, cache_dir=cache_dir)
    fragment = interactive_map(world, tables["relief"], _closed_edges(world, summary), lang)
    return Live(fragment, TEXT[lang]["map_live_note"].format(n=map_number))


def build_blocks(results_dir: Path, figures: list[Figure], *, lang: str,
                 cache_dir: Path | None, live: bool) -> list[Block]:
    """The report's content for a run or experiment folder (figures already drawn)."""
    results_dir = Path(results_dir)
    t = TEXT[lang]
    manifest_path = results_dir / "manifest.json"
    manifest = (json.loads(manifest_path.read_text(encoding="utf-8"))
                if manifest_path.exists() else None)
    run_dir = baseline_run(results_dir)
    summary, scenario, tables = read_run(run_dir)
    c = Context(lang, scenario)
    if manifest is None:
        conclusions = _summary_run(tables["kpis"], tables.get("shortfalls"), c)
        results = _run_blocks(tables, summary, c)
    else:
        exp_summary = pd.read_parquet(results_dir / "summary.parquet")
        conclusions = _summary_experiment(exp_summary, manifest, c)
        results = _experiment_blocks(results_dir, manifest, c)
        results += (_why_blocks(tables.get("shortfalls"), c)
                    + _evacuation_blocks(summary, tables, c) + _life_circle_blocks(summary, c)
                    + _service_blocks(summary, c))
    map_figure = next((f for f in figures if f.path.stem == "map"), None)
    live_map = (_live_map(run_dir, lang, cache_dir, map_figure.number if map_figure else 0)
                if live else None)
    blocks: list[Block] = [
        Heading(f"{t['title']}：{scenario.name}" if lang == "zh"
                else f"{t['title']}: {scenario.name}", 1),
        Heading(t["summary"], 2), Paragraph(conclusions, bullets=True),
        *_context_blocks(scenario, summary, c),
        *_method_blocks(scenario, summary, manifest, c),
        *results,
        *_limits_blocks(c),
        Heading(t["figures"], 2),
        *([live_map] if live_map else []),
        *figures]
    return _number_tables(blocks)


def write_report(results_dir: str | Path, out: str | Path | None = None, *,
                 lang: str = "zh", fmt: str = "html", cache_dir: Path | None = None) -> Path:
    """One report (self-contained HTML, Word or PDF; A4) for a run or experiment."""
    results_dir = Path(results_dir)
    if lang not in TEXT:
        raise ReliefsimError(f"--lang: {lang!r} — expected one of {sorted(TEXT)}")
    if fmt not in FORMATS:
        raise ReliefsimError(f"--format: {fmt!r} — expected one of {list(FORMATS)}")
    t = TEXT[lang]
    out = Path(out) if out else results_dir / f"report_{lang}.{fmt}"
    with tempfile.TemporaryDirectory() as tmp:
        plates, source = figure_plates(results_dir, lang=lang, cache_dir=cache_dir)
        drawn = render(plates, Path(tmp), lang=lang, formats=("png",), source=source,
                       captions=False)
        figures = [Figure(paths[0], plate.caption, source, number)
                   for number, plate, paths in drawn]
        blocks = build_blocks(results_dir, figures, lang=lang, cache_dir=cache_dir,
                              live=fmt == "html")
        if fmt == "pdf":  # Chromium prints the page; html_to_pdf publishes the file
            from sim.pdf import html_to_pdf

            page = Path(tmp) / "report.html"
            _write_html(blocks, t, lang, page)
            return html_to_pdf(page, out)
        with publish_file(out) as target:
            (_write_docx if fmt == "docx" else _write_html)(blocks, t, lang, target)
    return out
