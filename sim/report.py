"""A self-contained HTML report (figures embedded, no external resources) for plan drafts.

For a run: scenario, assumptions, the target table with pass/fail, and the figures. For an
experiment: additionally the intervals over replications and the placement ranking.
"""

from __future__ import annotations

import base64
import html
import json
import tempfile
from pathlib import Path
from typing import Any

import pandas as pd

from sim.errors import ReliefsimError
from sim.figures import make_figures, read_run
from sim.fonts import embedded_font_css
from sim.scenario import Scenario

__all__ = ["write_report"]

TEXT: dict[str, dict[str, str]] = {
    "zh": {
        "title": "应急救助仿真评估报告", "scenario": "情景", "network": "路网",
        "seed": "随机种子", "horizon": "仿真时长", "versions": "软件版本",
        "assumptions": "主要假设", "policy": "调度规则", "escalation": "逐级调用延迟",
        "depots": "储备库", "targets": "目标达成情况", "target": "指标", "standard": "标准",
        "value": "均值", "p95": "95%分位", "within": "达标率", "required": "要求",
        "result": "结论", "pass": "达标", "fail": "未达标", "na": "无此类事件",
        "figures": "图表", "ranking": "布局方案排序", "placement": "方案",
        "p_best": "最优概率", "ci": "95%置信区间", "replications": "重复次数",
        "experiment": "比较试验", "tier": "层级", "kind": "类型", "stock": "储备",
        "trucks": "车辆", "generated": "生成时间", "policy_plan": "先近后远、先主后次、满足急需",
        "pass_rate": "各次重复达标比例", "hours": "小时",
    },
    "en": {
        "title": "Relief simulation report", "scenario": "Scenario", "network": "Network",
        "seed": "Seed", "horizon": "Horizon", "versions": "Versions",
        "assumptions": "Assumptions", "policy": "Dispatch policy",
        "escalation": "Escalation delays", "depots": "Depots", "targets": "Targets",
        "target": "target", "standard": "standard", "value": "mean", "p95": "p95",
        "within": "share within", "required": "required", "result": "result",
        "pass": "PASS", "fail": "FAIL", "na": "no such incidents", "figures": "Figures",
        "ranking": "Placement ranking", "placement": "placement", "p_best": "P(best)",
        "ci": "95% CI", "replications": "replications", "experiment": "Experiment",
        "tier": "tier", "kind": "kind", "stock": "stock", "trucks": "trucks",
        "generated": "generated", "policy_plan": "nearest first, main before secondary, "
        "urgent first", "pass_rate": "share of replications passing", "hours": "h",
    },
}

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


def _e(value: Any) -> str:
    return html.escape(str(value))


def _pct(x: float) -> str:
    return "–" if x != x else f"{x:.1%}"


def _num(x: float) -> str:
    return "–" if x != x else ("∞" if x == float("inf") else f"{x:.2f}")


def _table(header: list[str], rows: list[list[str]]) -> str:
    head = "".join(f"<th>{_e(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def _verdict(passed: Any, t: dict[str, str]) -> str:
    if passed is None or passed != passed:
        return f'<span class="na">{t["na"]}</span>'
    return f'<span class="pass">{t["pass"]}</span>' if passed else \
        f'<span class="fail">{t["fail"]}</span>'


def _scenario_section(scenario: Scenario, summary: dict[str, Any], t: dict[str, str],
                      lang: str) -> str:
    meta = [[t["scenario"], _e(scenario.name)], ["", _e(scenario.description)],
            [t["network"], _e(f"{summary['network']['source']} — {summary['network']['nodes']} "
                              f"nodes, {summary['network']['edges']} edges")],
            [t["seed"], _e(summary["seed"])],
            [t["horizon"], _e(f"{scenario.horizon_h:g} {t['hours']}")],
            [t["versions"], _e(", ".join(f"{k} {v}" for k, v in summary["versions"].items()))]]
    policy = scenario.dispatch.policy
    policy_text = f"{policy} ({t['policy_plan']})" if policy == "plan" else policy
    delays = ", ".join(f"{k}: {v:g} h" for k, v in scenario.dispatch.escalation_delay_h.items())
    depots = [[_e(d.name or d.id), _e(d.tier), _e(d.kind),
               _e(", ".join(f"{c} {q:,.0f}" for c, q in d.stock.items())),
               _e(d.trucks.count)] for d in scenario.depots]
    return (f"<h2>{t['scenario']}</h2><table class='meta'>" +
            "".join(f"<tr><td>{a}</td><td>{b}</td></tr>" for a, b in meta) + "</table>"
            f"<h2>{t['assumptions']}</h2><p>{t['policy']}: {_e(policy_text)}<br>"
            f"{t['escalation']}: {_e(delays)}</p>" +
            _table([t["depots"], t["tier"], t["kind"], t["stock"], t["trucks"]], depots))


def _figures_section(paths: list[Path], t: dict[str, str]) -> str:
    parts = [f"<h2>{t['figures']}</h2>"]
    for path in paths:
        if path.suffix != ".png":
            continue
        data = base64.b64encode(path.read_bytes()).decode("ascii")
        parts.append(f'<figure><img alt="{_e(path.stem)}" src="data:image/png;base64,{data}">'
                     f"<figcaption>{_e(path.stem)}</figcaption></figure>")
    return "".join(parts)


def _run_targets(kpis: pd.DataFrame, t: dict[str, str], lang: str) -> str:
    rows = [[_e(r.name_zh if lang == "zh" else r.kpi), f"≤ {r.target:g} h", _num(r["mean"]),
             _num(r.p95), _pct(r.share_within), _pct(r.share_required), _verdict(
                 None if r.n == 0 else bool(r.passed), t)] for _, r in kpis.iterrows()]
    return f"<h2>{t['targets']}</h2>" + _table(
        [t["target"], t["standard"], t["value"], t["p95"], t["within"], t["required"],
         t["result"]], rows)


def _experiment_sections(exp_dir: Path, t: dict[str, str], lang: str) -> str:
    manifest = json.loads((exp_dir / "manifest.json").read_text(encoding="utf-8"))
    summary = pd.read_parquet(exp_dir / "summary.parquet")
    kpis = pd.read_parquet(exp_dir / "replications.parquet")
    names = dict(zip(kpis.kpi, kpis.name_zh, strict=False))
    rows = []
    for r in summary.itertuples():
        if r.n == 0:
            continue
        label = names.get(r.kpi, r.kpi) if lang == "zh" else r.kpi
        rows.append([_e(f"{r.placement} / {r.policy} / {r.variant}"), _e(label),
                     f"≤ {r.target:g} h", f"{_num(r.mean)} [{_num(r.ci_low)}, {_num(r.ci_high)}]",
                     f"{_pct(r.share_within)} [{_pct(r.share_ci_low)}, {_pct(r.share_ci_high)}]",
                     _pct(r.pass_rate), _verdict(r.pass_rate >= 0.95, t)])
    chosen = summary[summary.kpi == manifest["kpi"]].sort_values("p_best", ascending=False)
    ranking = [[str(i), _e(r.placement), _e(f"{r.policy} / {r.variant}"),
                f"{_pct(r.share_within)} [{_pct(r.share_ci_low)}, {_pct(r.share_ci_high)}]",
                _pct(r.p_best)] for i, r in enumerate(chosen.itertuples(), start=1)]
    return (f"<h2>{t['experiment']}: {_e(manifest['experiment'])}</h2>"
            f"<p>{t['replications']}: {manifest['replications']}; {t['ci']}; "
            f"{t['result']} = {t['pass_rate']} ≥ 95%</p>" +
            _table([t["placement"], t["target"], t["standard"], f"{t['value']} [{t['ci']}]",
                    f"{t['within']} [{t['ci']}]", t["pass_rate"], t["result"]], rows) +
            f"<h2>{t['ranking']} ({_e(manifest['kpi'])})</h2>" +
            _table(["#", t["placement"], "policy / variant", t["within"], t["p_best"]], ranking))


def write_report(results_dir: str | Path, out_html: str | Path | None = None, *,
                 lang: str = "zh", cache_dir: Path | None = None) -> Path:
    """One self-contained HTML report for a run or experiment directory; returns its path."""
    results_dir = Path(results_dir)
    if lang not in TEXT:
        raise ReliefsimError(f"--lang: {lang!r} — expected one of {sorted(TEXT)}")
    t = TEXT[lang]
    is_experiment = (results_dir / "manifest.json").exists()
    run_dir = results_dir
    if is_experiment:
        manifest = json.loads((results_dir / "manifest.json").read_text(encoding="utf-8"))
        if not manifest.get("complete"):
            raise ReliefsimError(f"{results_dir}: the experiment is not finished")
        baseline = next(c["id"] for c in manifest["configs"]
                        if c["placement"] == manifest["baseline"])
        run_dir = results_dir / "runs" / baseline
    summary, scenario, tables = read_run(run_dir)
    with tempfile.TemporaryDirectory() as tmp:
        figures = make_figures(results_dir, Path(tmp), lang=lang, formats=("png",),
                               cache_dir=cache_dir)
        body = (f"<h1>{t['title']}: {_e(scenario.name)}</h1>" +
                _scenario_section(scenario, summary, t, lang) +
                (_experiment_sections(results_dir, t, lang) if is_experiment else
                 _run_targets(tables["kpis"], t, lang)) +
                _figures_section(figures, t))
    out = Path(out_html) if out_html else results_dir / f"report_{lang}.html"
    out.parent.mkdir(parents=True, exist_ok=True)
    font = embedded_font_css(html.unescape(body) + t["title"])
    out.write_text(f'<!DOCTYPE html><html lang="{"zh-CN" if lang == "zh" else "en"}"><head>'
                   f'<meta charset="utf-8"><title>{_e(t["title"])}</title>'
                   f"<style>{font}{CSS}</style></head><body>{body}</body></html>",
                   encoding="utf-8")
    return out
