"""The report a planner attaches to a plan draft: self-contained HTML, or Word (.docx).

For a run: scenario, assumptions, the target table with pass/fail, and the figures. For an
experiment: additionally the intervals over replications and the placement ranking. The
content is built once as a list of blocks and rendered to either format.
"""

from __future__ import annotations

import base64
import html
import json
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from sim.errors import ReliefsimError
from sim.figures import baseline_run, make_figures, read_run
from sim.files import publish_file
from sim.fonts import embedded_font_css
from sim.glossary import REPORT_TEXT, label
from sim.scenario import Scenario

__all__ = ["FORMATS", "write_report"]

FORMATS = ("html", "docx")

TEXT = REPORT_TEXT

CSS = """
body{font-family:"ReliefsimCJK",sans-serif;max-width:1100px;
margin:2em auto;padding:0 1em;color:#222;line-height:1.5}
h1{border-bottom:3px solid #b22222;padding-bottom:.3em}h2{color:#b22222;margin-top:1.6em}
table{border-collapse:collapse;margin:.8em 0;font-size:14px}
th,td{border:1px solid #ccc;padding:4px 8px;text-align:right}th{background:#f3f3f3}
td:first-child,th:first-child{text-align:left}.pass{color:#1a7f37;font-weight:bold}
.fail{color:#cf222e;font-weight:bold}.na{color:#888}figure{margin:1.2em 0}
figure img{max-width:100%;border:1px solid #eee}figcaption{color:#555;font-size:13px}
.meta td{text-align:left}
"""

VERDICT_RGB = {"pass": (0x1A, 0x7F, 0x37), "fail": (0xCF, 0x22, 0x2E), "na": (0x88, 0x88, 0x88)}
WORD_CJK_FONT = "宋体"
"""East Asian font named in the .docx (present on Chinese Windows and Office installs)."""


# -- content ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Verdict:
    """A pass/fail cell (None: no such incidents, nothing to judge)."""

    passed: bool | None


Cell = str | Verdict


@dataclass(frozen=True)
class Heading:
    text: str
    level: int


@dataclass(frozen=True)
class Paragraph:
    lines: list[str]


@dataclass(frozen=True)
class Table:
    header: list[str] | None  # None: a two-column key/value table
    rows: list[list[Cell]]


@dataclass(frozen=True)
class Figure:
    path: Path
    caption: str


Block = Heading | Paragraph | Table | Figure


def _pct(x: float) -> str:
    return "–" if x != x else f"{x:.1%}"


def _num(x: float) -> str:
    return "–" if x != x else ("∞" if x == float("inf") else f"{x:.2f}")


def _scenario_blocks(scenario: Scenario, summary: dict[str, Any], t: dict[str, str]
                     ) -> list[Block]:
    network = summary["network"]
    meta: list[list[Cell]] = [
        [t["scenario"], scenario.name], ["", scenario.description],
        [t["network"], f"{network['source']} — {network['nodes']} nodes, "
                       f"{network['edges']} edges"],
        [t["seed"], str(summary["seed"])],
        [t["horizon"], f"{scenario.horizon_h:g} {t['hours']}"],
        [t["versions"], ", ".join(f"{k} {v}" for k, v in summary["versions"].items())]]
    policy = scenario.dispatch.policy
    policy_text = f"{policy} ({t['policy_plan']})" if policy == "plan" else policy
    delays = ", ".join(f"{k}: {v:g} h" for k, v in scenario.dispatch.escalation_delay_h.items())
    depots: list[list[Cell]] = [
        [d.name or d.id, d.tier, d.kind, ", ".join(f"{c} {q:,.0f}" for c, q in d.stock.items()),
         str(d.trucks.count)] for d in scenario.depots]
    return [Heading(t["scenario"], 2), Table(None, meta),
            Heading(t["assumptions"], 2),
            Paragraph([f"{t['policy']}: {policy_text}", f"{t['escalation']}: {delays}"]),
            Table([t["depots"], t["tier"], t["kind"], t["stock"], t["trucks"]], depots)]


def _run_blocks(tables: dict[str, pd.DataFrame], summary: dict[str, Any], scenario: Scenario,
                t: dict[str, str], lang: str) -> list[Block]:
    kpis = tables["kpis"]
    rows: list[list[Cell]] = [
        [r.name_zh if lang == "zh" else r.kpi, f"≤ {r.target:g} h", _num(r["mean"]),
         _num(r.p95), _pct(r.share_within), _pct(r.share_required),
         Verdict(None if r.n == 0 else bool(r.passed))] for _, r in kpis.iterrows()]
    blocks: list[Block] = [
        Heading(t["targets"], 2),
        Table([t["target"], t["standard"], t["value"], t["p95"], t["within"], t["required"],
               t["result"]], rows)]
    names = {x.id: x.name or x.id for x in [*scenario.settlements, *scenario.commodities,
                                             *scenario.depots]}
    why = tables.get("shortfalls")
    if why is not None and len(why):
        blocks += [Heading(t["why"], 2), Table(
            [t["settlement"], t["commodity"], t["late"], t["cause"], t["detail"]],
            [[names.get(r.settlement, r.settlement), names.get(r.commodity, r.commodity),
              f"{r.late:,}", r[f"cause_{lang}"], r[f"detail_{lang}"]]
             for _, r in why.iterrows()])]
    service = summary.get("service_areas") or []
    if service and scenario.settlements:
        blocks += [Heading(t["service"], 2), Table(
            [t["depots"], t["tier"], t["basis"], t["served"], t["people"]],
            [[names.get(a["depot"], a["depot"]), label("tier", a["tier"], lang),
              label("basis", a["basis"], lang),
              "、".join(names.get(x, x) for x in a["settlements"]) or "–",
              f"{a['people']:,}"] for a in service])]
    return blocks


def _experiment_blocks(exp_dir: Path, t: dict[str, str], lang: str) -> list[Block]:
    manifest = json.loads((exp_dir / "manifest.json").read_text(encoding="utf-8"))
    summary = pd.read_parquet(exp_dir / "summary.parquet")
    kpis = pd.read_parquet(exp_dir / "replications.parquet")
    names = dict(zip(kpis.kpi, kpis.name_zh, strict=False))
    rows: list[list[Cell]] = []
    for r in summary.itertuples():
        if r.n == 0:
            continue
        label = names.get(r.kpi, r.kpi) if lang == "zh" else r.kpi
        rows.append([f"{r.placement} / {r.policy} / {r.variant}", label, f"≤ {r.target:g} h",
                     f"{_num(r.mean)} [{_num(r.ci_low)}, {_num(r.ci_high)}]",
                     f"{_pct(r.share_within)} [{_pct(r.share_ci_low)}, {_pct(r.share_ci_high)}]",
                     _pct(r.pass_rate), Verdict(bool(r.pass_rate >= 0.95))])
    chosen = summary[summary.kpi == manifest["kpi"]].sort_values("p_best", ascending=False)
    costed = "cost_wan" in chosen and bool((chosen.cost_wan > 0).any())
    ranking: list[list[Cell]] = [
        [str(i), r.placement + (" ≈" if getattr(r, "same_as_best", False) else ""),
         f"{r.policy} / {r.variant}",
         f"{_pct(r.share_within)} [{_pct(r.share_ci_low)}, {_pct(r.share_ci_high)}]",
         _pct(r.p_best),
         *((f"{r.cost_wan:,.0f}" + (" ★" if r.pareto else ""),) if costed else ())]
        for i, r in enumerate(chosen.itertuples(), start=1)]
    precision = manifest.get("precision") or {}
    reached = precision.get("half_width")
    lines = [f"{t['replications']}: {manifest['replications']}; {t['ci']}; "
             f"{t['result']} = {t['pass_rate']} ≥ 95%"]
    if reached is not None:
        unit = "" if manifest.get("statistic") == "share_within" else f" {t['hours']}"
        goal = precision.get("goal")
        lines.append(f"{t['precision']}: ±{reached:.4g}{unit}"
                     + (f" ({t['goal']} ±{goal:g}{unit})" if goal is not None else ""))
    return [Heading(f"{t['experiment']}: {manifest['experiment']}", 2),
            Paragraph(lines),
            Table([t["placement"], t["target"], t["standard"], f"{t['value']} [{t['ci']}]",
                   f"{t['within']} [{t['ci']}]", t["pass_rate"], t["result"]], rows),
            Heading(f"{t['ranking']} ({manifest['kpi']})", 2),
            Table(["#", t["placement"], "policy / variant", t["within"], t["p_best"],
                   *((t["cost"],) if costed else ())], ranking),
            Paragraph([t["ranking_note"]])]


# -- HTML ------------------------------------------------------------------------------------


def _e(value: Any) -> str:
    return html.escape(str(value))


def _html_cell(cell: Cell, t: dict[str, str]) -> str:
    if isinstance(cell, str):
        return _e(cell)
    kind = _verdict_kind(cell)
    return f'<span class="{kind}">{_e(t[kind])}</span>'


def _html_block(block: Block, t: dict[str, str]) -> str:
    if isinstance(block, Heading):
        return f"<h{block.level}>{_e(block.text)}</h{block.level}>"
    if isinstance(block, Paragraph):
        return "<p>" + "<br>".join(_e(line) for line in block.lines) + "</p>"
    if isinstance(block, Figure):
        data = base64.b64encode(block.path.read_bytes()).decode("ascii")
        return (f'<figure><img alt="{_e(block.caption)}" src="data:image/png;base64,{data}">'
                f"<figcaption>{_e(block.caption)}</figcaption></figure>")
    body = "".join("<tr>" + "".join(f"<td>{_html_cell(c, t)}</td>" for c in row) + "</tr>"
                   for row in block.rows)
    if block.header is None:
        return f"<table class='meta'>{body}</table>"
    head = "".join(f"<th>{_e(h)}</th>" for h in block.header)
    return f"<table><tr>{head}</tr>{body}</table>"


def _write_html(blocks: list[Block], t: dict[str, str], lang: str, out: Path) -> None:
    body = "".join(_html_block(b, t) for b in blocks)
    font = embedded_font_css(html.unescape(body) + t["title"])
    out.write_text(f'<!DOCTYPE html><html lang="{"zh-CN" if lang == "zh" else "en"}"><head>'
                   f'<meta charset="utf-8"><title>{_e(t["title"])}</title>'
                   f"<style>{font}{CSS}</style></head><body>{body}</body></html>",
                   encoding="utf-8")


# -- Word ------------------------------------------------------------------------------------


def _write_docx(blocks: list[Block], t: dict[str, str], lang: str, out: Path) -> None:
    from docx import Document
    from docx.oxml.ns import qn
    from docx.shared import Cm, Pt, RGBColor

    doc = Document()
    doc.core_properties.title = t["title"]
    doc.core_properties.language = "zh-CN" if lang == "zh" else "en"
    for style in ("Normal", "Title", "Heading 1", "Heading 2", "Caption"):
        fonts = doc.styles[style].element.get_or_add_rPr().get_or_add_rFonts()
        fonts.set(qn("w:eastAsia"), WORD_CJK_FONT)
    doc.styles["Normal"].font.size = Pt(10.5)  # 五号
    width = doc.sections[0].page_width - doc.sections[0].left_margin \
        - doc.sections[0].right_margin
    for block in blocks:
        if isinstance(block, Heading):
            doc.add_heading(block.text, level=0 if block.level == 1 else block.level - 1)
        elif isinstance(block, Paragraph):
            paragraph = doc.add_paragraph()
            for i, line in enumerate(block.lines):
                run = paragraph.add_run(line)
                if i < len(block.lines) - 1:
                    run.add_break()
        elif isinstance(block, Figure):
            doc.add_picture(str(block.path), width=min(width, Cm(16)))
            doc.add_paragraph(block.caption, style="Caption")
        else:
            rows = ([block.header] if block.header else []) + block.rows
            table = doc.add_table(rows=len(rows), cols=len(rows[0]))
            table.style = "Table Grid"
            for r, row in enumerate(rows):
                for c, cell in enumerate(row):
                    run = table.cell(r, c).paragraphs[0].add_run(
                        cell if isinstance(cell, str) else t[_verdict_kind(cell)])
                    run.bold = bool(block.header) and r == 0
                    if isinstance(cell, Verdict):
                        run.bold = True
                        run.font.color.rgb = RGBColor(*VERDICT_RGB[_verdict_kind(cell)])
    doc.save(str(out))


def _verdict_kind(verdict: Verdict) -> str:
    if verdict.passed is None or verdict.passed != verdict.passed:
        return "na"
    return "pass" if verdict.passed else "fail"


# -- entry point -----------------------------------------------------------------------------


def write_report(results_dir: str | Path, out: str | Path | None = None, *,
                 lang: str = "zh", fmt: str = "html", cache_dir: Path | None = None) -> Path:
    """One report (self-contained HTML or Word) for a run or experiment; returns its path."""
    results_dir = Path(results_dir)
    if lang not in TEXT:
        raise ReliefsimError(f"--lang: {lang!r} — expected one of {sorted(TEXT)}")
    if fmt not in FORMATS:
        raise ReliefsimError(f"--format: {fmt!r} — expected one of {list(FORMATS)}")
    t = TEXT[lang]
    is_experiment = (results_dir / "manifest.json").exists()
    summary, scenario, tables = read_run(baseline_run(results_dir))
    out = Path(out) if out else results_dir / f"report_{lang}.{fmt}"
    with tempfile.TemporaryDirectory() as tmp, publish_file(out) as target:
        figures = make_figures(results_dir, Path(tmp), lang=lang, formats=("png",),
                               cache_dir=cache_dir)
        blocks: list[Block] = [
            Heading(f"{t['title']}: {scenario.name}", 1),
            *_scenario_blocks(scenario, summary, t),
            *(_experiment_blocks(results_dir, t, lang) if is_experiment
              else _run_blocks(tables, summary, scenario, t, lang)),
            Heading(t["figures"], 2),
            *(Figure(p, p.stem) for p in figures if p.suffix == ".png")]
        (_write_html if fmt == "html" else _write_docx)(blocks, t, lang, target)
    return out
