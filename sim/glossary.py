"""Words on the page: the labels the outputs show, in Chinese (as the plans write it) and
English — causes, tiers, service-area bases, figure and report texts, ledger values. Other
modules look labels up here instead of spelling them (the CLI's table headings still spell
theirs; issue #18 moves them here)."""

from __future__ import annotations

__all__ = [
    "CAPTIONS",
    "CAUSES",
    "CAUSE_DETAILS",
    "CLI_LABELS",
    "EVACUATION_LABELS",
    "FIGURE_LABELS",
    "KIND_LABELS",
    "KPI_LABELS",
    "LIMITS",
    "MAP_LABELS",
    "METHOD",
    "METHOD_NAMES",
    "POLICY_NAMES",
    "REPORT_TEXT",
    "SERVICE_BASIS",
    "SOURCES",
    "TIER_LABELS",
    "TIER_NAMES",
    "WALK_LABELS",
    "WEB_LABELS",
    "kpi_label",
    "label",
    "source_line",
    "variant_label",
]

TIER_NAMES: dict[str, tuple[str, str]] = {
    "village": ("村（社区）级储备点", "village/community point"),
    "town": ("乡镇（街道）级储备点", "town/street point"),
    "county": ("县（区）级储备库", "county/district warehouse"),
    "enterprise": ("协议/产能储备", "contract/capacity reserve"),
    "city": ("市级储备库", "city warehouse"),
    "province": ("省级储备库", "provincial warehouse"),
    "neighbour": ("相邻地区支援", "neighbouring region"),
}

CAUSES: dict[str, tuple[str, str]] = {
    "no_stock": ("储备不足（本级及可调用层级无库存）", "no stock in the tiers allowed"),
    "trucks_busy": ("车辆不足（等待空闲车辆）", "trucks busy (waiting for a truck)"),
    "cut_off": ("交通中断", "cut off by a road closure"),
    "travel": ("运输路程过长", "travel time"),
    "handout": ("发放能力不足", "hand-out (distribution) too slow"),
}
"""Binding causes of a missed relief target (:mod:`sim.shortfalls`)."""

CAUSE_DETAILS: dict[str, tuple[str, str]] = {
    "no_stock": ("可调用层级库存不足，{wait:.1f}小时后由{depot}供应",
                 "the tiers allowed ran short; supplied by {depot} after {wait:.1f} h"),
    "no_stock_never": ("可调用层级库存耗尽，至模拟结束未送达",
                       "the tiers allowed ran out; not delivered by the end"),
    "trucks_busy": ("等待空闲车辆{wait:.1f}小时（{depot}）",
                    "waited {wait:.1f} h for a truck ({depot})"),
    "trucks_busy_never": ("尚有库存但车辆一直繁忙，至模拟结束未送达",
                          "stock left but trucks busy; not delivered by the end"),
    "cut_off": ("因{closures}交通中断{cut:.1f}小时（至第{until:.1f}小时）",
                "cut off {cut:.1f} h by {closures} (until {until:.1f} h)"),
    "cut_off_end": ("因{closures}交通中断，至模拟结束仍未恢复",
                    "cut off by {closures} until the end of the run"),
    "travel": ("自{depot}装车、行驶、卸车共{trip:.1f}小时",
               "loading, driving and unloading from {depot} took {trip:.1f} h"),
    "handout": ("物资到达后发放用时{handout:.1f}小时（发放能力每小时{rate:,.0f}人）",
                "hand-out took {handout:.1f} h after the goods came ({rate:,.0f} people per "
                "hour)"),
}
"""One sentence per cause, with its numbers (formatted by :mod:`sim.shortfalls`)."""

SERVICE_BASIS: dict[str, tuple[str, str]] = {
    "area": ("按行政区划（属地）", "by administrative unit"),
    "travel time": ("按路网行驶时间就近划分", "nearest by road travel time"),
}

KPI_LABELS: dict[str, tuple[str, str, str, str]] = {
    "initial_relief": ("受灾群众基本生活初步救助时间", "time to initial basic-living relief",
                       "{h}小时内得到初步救助的人口比例",
                       "share of people with initial relief within {h} h"),
    "effective_relief": ("受灾人员基本生活得到有效救助时间", "time until basic needs are met",
                         "{h}小时内基本生活得到有效救助的人口比例",
                         "share of people whose basic needs are met within {h} h"),
    "inland_river_arrival": ("内河应急处置现场到达时间", "on-scene arrival, inland river",
                             "{h}小时内到达现场的内河事件比例",
                             "share of inland-river incidents reached within {h} h"),
    "sea_arrival": ("海域（12海里以内）应急处置现场到达时间",
                    "on-scene arrival, sea within 12 nautical miles",
                    "{h}小时内到达现场的海域事件比例",
                    "share of sea incidents reached within {h} h"),
    "life_circle_15min": ("市民15分钟生活保障圈（步行至储备点）",
                          "15-minute life-support circle (walk to a stockpile point)",
                          "{h}分钟步行范围内有储备点的人口比例",
                          "share of people within a {h}-minute walk of a stockpile point"),
    "fires_out_24h": ("森林火灾24小时扑灭率", "forest fires out within 24 h",
                      "{h}小时内扑灭的森林火灾比例", "share of forest fires out within {h} h"),
    "evacuation": ("受灾群众转移至避难场所时间", "time for evacuees to get into a shelter",
                   "转移令下达后{h}小时内进入避难场所的转移群众比例",
                   "share of evacuees in a shelter within {h} h of the order"),
    "_arrival": ("{name}现场到达时间", "on-scene arrival, {name}",
                 "{h}小时内到达现场的{name}事件比例",
                 "share of {name} incidents reached within {h} h"),
}
"""Per plan target (KPI id): its name and the name of its share within target, zh and en
(``_arrival``: an incident type's own target, ``<type>_arrival``)."""


def kpi_label(kpi: str, lang: str = "zh", *, share: bool = False, target_h: float | None = None,
              type_names: dict[str, str] | None = None) -> str:
    """The display name of a KPI (``share``: of its share within ``target_h``), never its id;
    ``type_names`` maps incident type ids to names for ``<type>_arrival``."""
    key, name = kpi, ""
    if kpi not in KPI_LABELS and kpi.endswith("_arrival"):
        key, type_id = "_arrival", kpi.removesuffix("_arrival")
        name = (type_names or {}).get(type_id) or type_id
    if key not in KPI_LABELS:
        return kpi
    zh, en, zh_share, en_share = KPI_LABELS[key]
    text = (zh_share if lang == "zh" else en_share) if share else (zh if lang == "zh" else en)
    hours = "–" if target_h is None else f"{target_h:g}"
    return text.format(h=hours, name=name)


POLICY_NAMES: dict[str, tuple[str, str]] = {
    "plan": ("按预案调度（先近后远、先主后次、满足急需）",
             "as the plans say (nearest first, main goods first, urgent first)"),
    "fcfs": ("先到先调度", "first come, first served"),
    "nearest_idle": ("就近空闲车辆调度", "nearest idle vehicle"),
}

VARIANT_NAMES: dict[str, tuple[str, str]] = {
    "base": ("基准情景", "base case"),
    "expected": ("按年超越概率加权的期望值", "expected (weighted by annual exceedance)"),
}
"""Names of the variants reliefsim makes itself (an experiment without variants; the
probability-weighted rows of hazard variants)."""


def variant_label(name: str, lang: str = "zh") -> str:
    """A variant's display name: the experiment's own name, or reliefsim's for its own."""
    zh, en = VARIANT_NAMES.get(name, (name, name))
    return zh if lang == "zh" else en


CAPTIONS: dict[str, tuple[str, str]] = {
    "map": ("路网、储备库（点）、交通中断路段与受灾群众初步救助时间",
            "Road network, depots, closed roads and time to initial relief"),
    "relief_ecdf": ("受灾群众获得初步救助和有效救助的时间分布",
                    "Time until affected people receive initial and effective relief"),
    "arrivals": ("各类突发事件救援力量到达现场时间", "On-scene arrival time by incident type"),
    "timeline": ("救助进程：已救助人数、储备库存、在途车辆与队伍", "Relief over time: people "
                 "relieved, stock, vehicles and teams at work"),
    "comparison": ("各方案{kpi}比较（按情景；95%置信区间）",
                   "Options compared on the {kpi} (per variant; 95% intervals)"),
    "sensitivity": ("各情景下基准方案{kpi}的变化", "Change of the {kpi} of the baseline "
                    "option across variants"),
    "pareto": ("各方案费用与{kpi}（帕累托前沿）", "Cost and {kpi} of each option (Pareto "
               "front)"),
    "relief_ecdf_all_replications": ("基准方案全部重复的受灾群众获得救助时间分布",
                                     "Time to relief over all replications, baseline option"),
    "arrivals_all_replications": ("基准方案全部重复的救援到达现场时间",
                                  "On-scene arrival over all replications, baseline option"),
    "sensitivity_indices": ("各因素对{kpi}的影响（{method}）",
                            "Influence of each factor on the {kpi} ({method})"),
    "shelters": ("各避难场所入住人数随时间变化与容纳人数（虚线）",
                 "People admitted to each shelter over time, with its capacity (dashed)"),
    "life_circle": ("15分钟生活保障圈：受灾点步行至储备点、避难场所的时间",
                    "The 15-minute life-support circle: walking time from each settlement to "
                    "a stockpile point and a shelter"),
}
"""Figure captions (numbered 图1, 图2 … / Figure 1 … where they are placed)."""


METHOD_NAMES: dict[str, dict[str, str]] = {
    "morris": {"zh": "Morris筛选法", "en": "Morris screening"},
    "sobol": {"zh": "Sobol'方差分解", "en": "Sobol' variance decomposition"},
}


def source_line(lang: str, *, scenario: str, version: str, replications: int | None = None,
                seed: int | None = None) -> str:
    """The source line under a figure or table: what computed it, on which data."""
    if lang == "zh":
        runs = f"，{replications}次重复" if replications else ""
        seeds = f"，随机种子{seed}" if seed is not None else ""
        return (f"资料来源：reliefsim {version} 仿真计算（情景：{scenario}{runs}{seeds}）；"
                "路网 © OpenStreetMap 贡献者（ODbL）")
    runs = f", {replications} replications" if replications else ""
    seeds = f", seed {seed}" if seed is not None else ""
    return (f"Source: reliefsim {version} simulation (scenario: {scenario}{runs}{seeds}); "
            "road network © OpenStreetMap contributors (ODbL)")


DEPOT_KINDS: dict[str, tuple[str, str]] = {
    "physical": ("实物储备", "physical stock"),
    "contract": ("协议储备", "contract reserve (supplier's stock)"),
    "capacity": ("产能储备", "production-capacity reserve"),
}

_TABLES = {"cause": CAUSES, "tier": TIER_NAMES, "basis": SERVICE_BASIS, "policy": POLICY_NAMES,
           "variant": VARIANT_NAMES, "kind": DEPOT_KINDS}


def label(kind: str, key: str, lang: str = "zh") -> str:
    """The ``lang`` ('zh' or 'en') label of ``key`` in the table ``kind``; the key itself when
    it has none."""
    zh, en = _TABLES[kind].get(key, (key, key))
    return zh if lang == "zh" else en


# -- figures, reports and the ledger ------------------------------------------------------

FIGURE_LABELS: dict[str, dict[str, str]] = {
    "zh": {
        "hours": "时间（小时）", "h": "小时", "share_people": "受灾群众累计占比（%）",
        "initial": "初步救助", "effective": "有效救助", "target": "目标", "within": "达标",
        "never_people": "至模拟结束未获救助：{n:,.0f}人", "arrival_h": "到达现场时间（小时）",
        "people_relieved": "已得到初步救助人数", "stock": "{name}库存（{unit}）",
        "busy": "作业中的车辆与队伍", "closure": "交通中断时段", "share_within": "目标内占比（%）",
        "diff": "与基准方案之差（百分点）", "diff_h": "与基准方案之差（小时）",
        "p_best": "为最优方案的概率（%）", "change": "相对“{base}”的变化（百分点）",
        "depot": "储备库", "team_base": "救援队驻地", "water_station": "水上救援站",
        "helipad": "直升机起降点", "settlement": "受灾点", "closed": "交通中断路段",
        "ok": "达标", "late": "超过初步救助目标", "never": "未获救助",
        "service": "服务范围（本级储备点属地）", "factor": "因素",
        "cost_wan": "费用（万元）", "share_pct": "目标内占比（%）", "tie": "≈ 与最优方案无显著差异",
        "mu_star": "平均绝对基本效应 μ*（目标内占比）", "S1": "一阶指数 S1", "ST": "总效应指数 ST",
        "lon": "经度", "lat": "纬度", "trucks": "车辆", "teams": "救援力量",
        "figure": "图{n}", "mean_h": "平均时间（小时）",
    },
    "en": {
        "hours": "time (hours)", "h": "h",
        "share_people": "cumulative share of affected people (%)",
        "initial": "initial relief", "effective": "effective relief", "target": "target",
        "within": "within", "never_people": "not relieved by the end: {n:,.0f} people",
        "arrival_h": "on-scene arrival (hours)", "people_relieved": "people with initial relief",
        "stock": "stock of {name} ({unit})", "busy": "vehicles and teams at work",
        "closure": "road closure", "share_within": "share within target (%)",
        "diff": "difference vs baseline (percentage points)",
        "diff_h": "difference vs baseline (hours)", "p_best": "probability of being best (%)",
        "change": "change vs '{base}' (percentage points)", "depot": "depot",
        "team_base": "team base", "water_station": "water station", "helipad": "helipad",
        "settlement": "settlement", "closed": "closed road", "ok": "within target",
        "late": "beyond initial target", "never": "not relieved",
        "service": "service area (own lowest-tier depot)", "factor": "factor",
        "cost_wan": "cost (10,000 CNY)", "share_pct": "share within target (%)",
        "tie": "≈ not significantly different from the best",
        "mu_star": "mean absolute elementary effect μ* (share within)",
        "S1": "first-order index S1", "ST": "total-effect index ST", "lon": "longitude",
        "lat": "latitude", "trucks": "trucks", "teams": "teams", "figure": "Figure {n}",
        "mean_h": "mean time (hours)",
    },
}
"""Figure axes, legends and annotations."""

REPORT_TEXT: dict[str, dict[str, str]] = {
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
        "why": "未达标原因", "settlement": "受灾点", "commodity": "物资", "late": "未达标人数",
        "cause": "原因", "detail": "说明", "service": "储备库服务范围（属地）",
        "basis": "划分依据", "served": "服务对象", "people": "人口",
        "precision": "所选指标95%置信区间半宽（达到的精度）", "goal": "要求",
        "cost": "费用（万元，★为帕累托前沿）",
        "ranking_note": ("≈：与最优方案的配对差异不显著（无法区分）；"
                         "expected：按年超越概率加权的期望值。"),
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
        "why": "Why targets fail", "settlement": "settlement", "commodity": "commodity",
        "late": "people late", "cause": "cause", "detail": "detail",
        "service": "Depot service areas", "basis": "basis", "served": "serves",
        "people": "people",
        "precision": "95% CI half-width of the chosen KPI (precision reached)", "goal": "goal",
        "cost": "cost (10k CNY, ★ Pareto front)",
        "ranking_note": "≈: not significantly different from the best (paired); expected: "
                        "weighted by annual exceedance probability.",
    },
}
"""Report headings and table headers."""

REPORT_TEXT["zh"].update({
    "summary": "摘要", "context": "情景与主要假设", "method": "评估方法", "results": "结果",
    "options": "方案比选", "limits": "局限与说明", "figures": "图", "map_live": "交互式地图",
    "map_live_note": "可拖动、缩放；鼠标悬停查看受灾点和储备库的数值；点击图例显示或隐藏图层。"
                     "（打印版见图{n}）",
    "table": "表{n}", "item": "项目", "source": "来源",
    "set_by_scenario": "情景文件设定", "assumption": "假设（规划未规定）",
    "t_meta": "情景概况", "t_assumptions": "主要参数、默认值及其来源", "t_depots": "储备库（点）",
    "t_settlements": "受灾点（安置点）", "t_closures": "交通中断路段与时段",
    "t_targets": "规划目标达成情况（单次仿真）",
    "t_configs": "各方案、情景的目标达成情况（{n}次重复）",
    "t_options": "{variant}：各方案比较", "t_why": "未达标原因",
    "t_service": "储备库服务范围（属地）",
    "people_never": "{n:,.0f}人至模拟结束未获救助", "none_never": "全部获得救助",
    "rule": "判定规则", "rule_run": "时限内比例 ≥ 要求比例",
    "rule_exp": "≥95%的重复达标", "onset": "受灾时刻（小时）", "window": "时段（小时）",
    "closure": "封闭", "slowdown": "通行变慢（行驶时间×{f:g}）", "commodities": "物资",
    "per_person": "人均需求", "main": "初步救助物资", "unit": "单位", "diff": "与基准方案之差",
    "cost_wan": "费用（万元）", "pareto": "帕累托前沿", "tie": "与最优无显著差异",
    "best": "最优", "variant": "情景", "policy_col": "调度规则", "p_best_col": "为最优方案的概率",
    "mean_h": "平均（小时）", "p95_h": "95%分位（小时）", "beyond": "超过仿真时长",
    "n_col": "人数/事件数", "required_share": "要求比例", "share_col": "时限内比例",
    "ci_col": "95%置信区间", "pass_rate_col": "达标的重复比例", "figure_n": "图{n}",
    "never_col": "未获救助", "some_never": "有人员未获救助", "setting": "设定值",
    "evacuation_h2": "转移安置与避难场所", "t_shelters": "避难场所容纳与入住情况",
    "t_evacuation": "转移安置分组（受灾点→避难场所）", "peak_share": "最高在住/容纳",
    "life_circle_h": "15分钟生活保障圈", "category": "类别",
    "life_stock": "{m:g}分钟内可步行到达储备点的人口比例",
    "life_shelter": "{m:g}分钟内可步行到达有空余容量避难场所的人口比例",
})
REPORT_TEXT["en"].update({
    "summary": "Summary", "context": "Scenario and main assumptions", "method": "Method",
    "results": "Results", "options": "Options compared", "limits": "Limitations",
    "figures": "Figures", "map_live": "Interactive map",
    "map_live_note": "Drag to pan, scroll to zoom; hover a settlement or depot for its numbers;"
                     " click the legend to show or hide a layer. (Printed: Figure {n}.)",
    "table": "Table {n}", "item": "item", "source": "source",
    "set_by_scenario": "set in the scenario file", "assumption": "assumption (no plan states it)",
    "t_meta": "Scenario", "t_assumptions": "Main parameters, defaults and their sources",
    "t_depots": "Depots", "t_settlements": "Affected settlements",
    "t_closures": "Closed roads and their windows",
    "t_targets": "Plan targets (one replication)",
    "t_configs": "Targets per option and variant ({n} replications)",
    "t_options": "{variant}: options compared", "t_why": "Why targets fail",
    "t_service": "Depot service areas",
    "people_never": "{n:,.0f} people not relieved by the end", "none_never": "everyone relieved",
    "rule": "rule", "rule_run": "share within ≥ share required",
    "rule_exp": "≥ 95% of replications pass", "onset": "onset (h)", "window": "window (h)",
    "closure": "closed", "slowdown": "slowed (travel time ×{f:g})", "commodities": "Commodities",
    "per_person": "per person", "main": "initial-relief goods", "unit": "unit",
    "diff": "difference vs baseline", "cost_wan": "cost (10,000 CNY)", "pareto": "Pareto front",
    "tie": "not significantly different from the best", "best": "best", "variant": "variant",
    "policy_col": "dispatch policy", "p_best_col": "probability of being best",
    "mean_h": "mean (h)", "p95_h": "p95 (h)", "beyond": "beyond the horizon",
    "n_col": "people / incidents", "required_share": "share required",
    "share_col": "share within", "ci_col": "95% CI", "pass_rate_col": "replications passing",
    "figure_n": "Figure {n}", "never_col": "not relieved", "some_never": "some never relieved",
    "setting": "setting", "evacuation_h2": "Evacuation and shelters",
    "t_shelters": "Shelters: capacity and occupancy",
    "t_evacuation": "Evacuation groups (settlement → shelter)", "peak_share": "peak / capacity",
    "life_circle_h": "15-minute life-support circle", "category": "class",
    "life_stock": "share of people within {m:g} minutes' walk of a stockpile point",
    "life_shelter": "share of people within {m:g} minutes' walk of a shelter with room",
})

SOURCES: dict[str, tuple[str, str]] = {
    "initial_relief_h": ("地方“十四五”应急体系规划指标：受灾群众基本生活初步救助时间<8小时",
                         "local 14th Five-Year emergency plans: initial relief < 8 h"),
    "effective_relief_h": ("规划目标：受灾人员基本生活得到有效救助时间缩短至10小时以内",
                           "plans: basic needs effectively met within 10 h"),
    "inland_river_arrival_h": ("规划指标：内河应急处置现场到达时间<1小时",
                               "plans: inland-river on-scene arrival < 1 h"),
    "sea_arrival_h": ("规划指标：海域（12海里以内）应急处置现场到达时间<2小时",
                      "plans: sea (12 nm) on-scene arrival < 2 h"),
    "fire_out": ("规划指标：24小时森林火灾扑灭率≥95%", "plans: ≥ 95 % of forest fires out in 24 h"),
    "time_share_required": ("假设：每一位受灾群众（每一起事件）均须在时限内（规划未规定比例）",
                            "assumption: every person (incident) within the time limit"),
    "policy": ("预案调度原则：先近后远、先主后次、满足急需", "the plans' dispatch principles"),
    "escalation_delay_h": ("假设（规划未规定各级调用所需时间）",
                           "assumption (no plan gives the time to call up each tier)"),
    "escalate_if_late": ("小事不出村、大事不出镇：本级不能按时送达时逐级提请上级",
                         "escalate when the open tiers cannot deliver in time"),
    "support": ("预案：相邻区域应急资源就近增援；提前量/等待时间为假设",
                "plans: neighbouring areas support; margins are assumptions"),
    "stranded_wait_h": ("假设", "assumption"),
    "handout": ("假设（规划未规定发放能力）：每500人1个发放点，每点每小时250人",
                "assumption: one point per 500 people, 250 people per hour per point"),
}
"""Where each input's default comes from (the report's assumptions table)."""

LIMITS: dict[str, tuple[str, ...]] = {
    "zh": (
        "路网来自OpenStreetMap，道路等级、限速和连通性以数据为准，可能与实际不符；行驶速度按道路等级"
        "默认值或限速标签估计，未考虑实时拥堵。",
        "人口、储备、车辆与队伍等输入以情景文件为准；标为“假设”的参数宜在本地核实后再用于决策。",
        "船只不运送救灾物资；道路中断区域内不考虑人工搬运；直升机仅在设置载重时运送物资。",
        "单次仿真结果受随机因素影响，方案比选应以多次重复试验（置信区间、为最优方案的概率）为准。",
        "费用为情景文件给定的估算值（万元），未做折现。",
    ),
    "en": (
        "The road network is OpenStreetMap's: classes, speeds and connectivity are as mapped and "
        "may differ from reality; speeds come from class defaults or maxspeed tags, without "
        "live congestion.",
        "People, stock, vehicles and teams are as the scenario file gives them; parameters "
        "marked 'assumption' should be checked locally before a decision rests on them.",
        "Boats do not carry relief goods; goods are not carried by hand into closed areas; "
        "helicopters carry goods only when given a payload.",
        "One replication is one random outcome: compare options over many replications "
        "(intervals, probability of being best).",
        "Costs are the scenario's estimates (10,000 CNY), undiscounted.",
    ),
}
"""局限与说明: what the numbers do not include."""

METHOD: dict[str, dict[str, str]] = {
    "zh": {
        "model": "采用离散事件仿真（SimPy）。受灾点在受灾时刻产生物资需求；"
                 "储备库按调度规则（{policy}）逐级调用，车辆装车、沿OpenStreetMap真实路网当时最快路径行驶（道路中断时按当时开放的路网"
                 "重新计算）、卸车；物资到达后按发放能力发放，受灾群众的救助时间为其领到物资的时刻。"
                 "救援力量按事件类型调派，记录到达现场时间。",
        "run": "本报告为单次仿真（随机种子{seed}，仿真时长{horizon:g}小时）。结果受随机因素影响，"
               "方案比选应使用多次重复试验（reliefsim compare）。",
        "exp": "每个方案×情景重复{n}次，所有方案使用公共随机数（同一次重复中事件、道路中断和不确定"
               "输入相同），差异按同一重复配对计算。平均时间的95%置信区间按t分布计算；目标内占比的"
               "95%置信区间用自助法（bootstrap）计算；为最优方案的概率：对重复做{resamples}次配对自助"
               "重抽样，统计各方案在{kpi}上最优的比例（并列平分）；配对差异的95%置信区间包含0的方案"
               "记为“与最优无显著差异”。",
        "rule_run": "判定规则：单次仿真中，时间类指标在时限内的人口（事件）比例"
                    "不低于要求比例即为达标；森林火灾扑灭率不低于95%即为达标；无此类事件时不作判定。",
        "rule_exp": "判定规则：多次重复中，某方案在某指标上至少95%的重复达标（按上述单次规则），"
                    "才判定为达标，以免偶然的好结果被当作可靠结论。",
        "never": "至模拟结束仍未获救助的人员计入未达标人数并单独列出人数；"
                 "单次仿真的平均时间只统计已获救助者（另列未获救助人数），多次重复中有人员未获救助的方案不给出平均时间；时间超过仿真时长的"
                 "分位数记为“超过仿真时长”。",
    },
    "en": {
        "model": "Discrete-event simulation (SimPy). Settlements raise needs at their onset; "
                 "depots are called tier by tier under the dispatch rule ({policy}); trucks "
                 "load, drive the fastest path on the real OpenStreetMap network at that moment "
                 "(re-planned around closures) and unload; goods are handed out at the "
                 "distribution capacity, and a person's relief time is when they receive them. "
                 "Teams are dispatched per incident type and their on-scene arrival recorded.",
        "run": "This report is one replication (seed {seed}, horizon {horizon:g} h); it is one "
               "random outcome — compare options over replications (reliefsim compare).",
        "exp": "Each option × variant ran {n} replications with common random numbers (the same "
               "incidents, closures and uncertain inputs in a replication for every option), so "
               "differences are paired by replication. Means have t intervals (95 %); shares "
               "within target bootstrap intervals; the probability of being best is the share "
               "of {resamples} paired bootstrap resamples in which an option is best on the "
               "{kpi} (ties split); options whose paired difference from the best has a 95 % "
               "interval containing 0 are 'not significantly different from the best'.",
        "rule_run": "Rule: in one replication a time target passes when its share within the "
                    "limit is at least the share required; fires pass at ≥ 95 % out in 24 h; "
                    "no incidents, no verdict.",
        "rule_exp": "Rule: over replications an option passes a target when at least 95 % of "
                    "its replications pass (the rule above), so that a lucky outcome is not "
                    "taken for a reliable one.",
        "never": "People not relieved by the end of the run count as late and are reported by "
                 "number; a replication's mean covers those relieved (the others are counted "
                 "apart), options with people never relieved get no mean over replications, "
                 "and quantiles beyond the horizon read 'beyond the horizon'.",
    },
}
"""评估方法: how the numbers were computed (formatted by :mod:`sim.report`)."""


TIER_LABELS = {"village": "村（社区）级", "town": "乡镇（街道）级", "county": "县（区）级",
               "enterprise": "企业", "city": "市级储备库", "province": "省级储备库",
               "neighbour": "相邻地区"}
KIND_LABELS = {"physical": "实物储备", "contract": "协议储备", "capacity": "产能储备"}
"""Ledger (台账) values of tier and kind: they are read back on import, so they never change."""


# -- sections owned by one output each (issue #18) ------------------------------------------

MAP_LABELS: dict[str, dict[str, str]] = {
    "zh": {
        "legend": "图例", "roads_major": "高速公路、快速路、主干路", "roads_medium": "次干路、支路",
        "roads_minor": "街巷及其他道路", "water": "河流、运河", "closed": "交通中断路段",
        "closure_area": "交通封闭区域", "slowdown_area": "通行减速区域",
        "window": "（第{start}–{end}小时）", "window_open": "（第{start}小时起）",
        "window_slow": "（第{start}–{end}小时，通行时间×{factor}）",
        "window_slow_open": "（第{start}小时起，通行时间×{factor}）",
        "hazard": "灾害风险区", "hazard_flood": "洪涝（内涝）风险区",
        "hazard_landslide": "地质灾害风险区", "hazard_fire": "火灾风险区", "sep": "：",
        "list_sep": "；", "service": "服务范围（本级储备点属地）", "team_base": "救援队伍驻地",
        "water_station": "水上救援站（点）", "helipad": "直升机起降点",
        "settlement": "受灾点（安置点）", "never": "受灾点（安置点）：模拟期内未获初步救助",
        "people": "{n}人", "people_title": "受灾人口",
        "relief_time": "最后一人获得初步救助的时间（小时）", "target": "目标{h}",
        "scale": "比例尺", "m": "米", "km": "千米", "north": "北",
        "attribution": "© OpenStreetMap 贡献者",
        "east": "°E", "west": "°W", "north_lat": "°N", "south_lat": "°S",
    },
    "en": {
        "legend": "Legend", "roads_major": "motorway, trunk, primary road",
        "roads_medium": "secondary, tertiary road", "roads_minor": "residential and other road",
        "water": "river, canal", "closed": "closed road", "closure_area": "closed area",
        "slowdown_area": "slow-down area", "window": " (h {start}–{end})",
        "window_open": " (from h {start})",
        "window_slow": " (h {start}–{end}, travel time ×{factor})",
        "window_slow_open": " (from h {start}, travel time ×{factor})",
        "hazard": "hazard zone", "hazard_flood": "flood zone",
        "hazard_landslide": "landslide zone", "hazard_fire": "fire hazard zone", "sep": ": ",
        "list_sep": "; ", "service": "service area (own lowest-tier depot)",
        "team_base": "rescue team base", "water_station": "water rescue station",
        "helipad": "helipad", "settlement": "settlement (shelter)",
        "never": "settlement: no initial relief in the run", "people": "{n} people",
        "people_title": "affected people",
        "relief_time": "time until the last person's initial relief (h)", "target": "target {h}",
        "scale": "scale", "m": "m", "km": "km", "north": "N",
        "attribution": "© OpenStreetMap contributors",
        "east": "°E", "west": "°W", "north_lat": "°N", "south_lat": "°S",
    },
}
"""The static map (:mod:`sim.maps`): legend entries, scale bar, north arrow, attribution."""

WALK_LABELS: dict[str, dict[str, str]] = {
    "zh": {
        "walk_minutes": "步行至最近储备点的时间（分钟）",
        "footways": "人行道、步行街、小路、台阶",
        "stockpile_circle": "储备点{m}分钟步行范围", "shelter_circle": "避难场所{m}分钟步行范围",
        "shelter": "避难场所（有空余容量）",
        "shelter_within": "{m}分钟内可步行到达避难场所的受灾点",
        "unreachable": "受灾点：步行无法到达储备点",
        "basis_road": "路网数据无人行道，步行按车行道路计算",
        "kpi": "{m}分钟步行范围内有储备点的人口比例", "minutes": "分钟",
    },
    "en": {
        "walk_minutes": "walking time to the nearest stockpile point (min)",
        "footways": "footway, pedestrian street, path, steps",
        "stockpile_circle": "{m}-minute walk from a stockpile point",
        "shelter_circle": "{m}-minute walk from a shelter", "shelter": "shelter (with room)",
        "shelter_within": "settlement within a {m}-minute walk of a shelter",
        "unreachable": "settlement: no stockpile point reachable on foot",
        "basis_road": "no footways in the network data: walking on the roads",
        "kpi": "share of people within a {m}-minute walk of a stockpile point", "minutes": "min",
    },
}
"""The 15-minute life-support circle (:mod:`sim.walking`, :func:`sim.maps.life_circle_map`):
map legend, colour bar and KPI wording."""

EVACUATION_LABELS: dict[str, dict[str, str]] = {
    "zh": {
        "evacuation": "转移安置", "settlement": "受灾点", "shelter": "避难场所",
        "mode": "转移方式", "walk": "步行", "bus": "客车转运", "people": "人数",
        "order_h": "转移令下达（小时）", "travel_h": "路程时间（小时）",
        "depart_first_h": "首批出发（小时）", "depart_last_h": "末批出发（小时）",
        "arrive_first_h": "首批到达（小时）", "arrive_last_h": "末批到达（小时）",
        "admitted_first_h": "首批入住（小时）", "admitted_last_h": "末批入住（小时）",
        "admitted": "已入住人数", "capacity": "容纳人数", "assigned": "分配人数",
        "peak": "最高在住人数", "peak_h": "达到最高的时间（小时）",
        "evacuation_complete_h": "转移完成时间（小时，自首个转移令起）",
        "evacuation_within": "{h}小时内进入避难场所的转移群众比例",
        "people_ordered": "应转移人数", "people_sheltered": "已入住避难场所人数",
        "people_without_place": "无避难场所安置人数", "no_place": "无安置场所（留在原地）",
        "basis_walk": "步行时间按人行路网计算", "basis_road": "步行时间按车行道路（步行速度）计算",
        "category_I": "Ⅰ类应急避难场所", "category_II": "Ⅱ类应急避难场所",
        "category_III": "Ⅲ类应急避难场所", "category_紧急": "紧急避难场所",
        "category_固定": "固定避难场所", "category_中心": "中心避难场所",
        "m2_per_person": "人均应急避难场所面积{m}平方米",
    },
    "en": {
        "evacuation": "evacuation", "settlement": "settlement", "shelter": "shelter",
        "mode": "mode", "walk": "on foot", "bus": "by bus", "people": "people",
        "order_h": "order (h)", "travel_h": "travel time (h)",
        "depart_first_h": "first leave (h)", "depart_last_h": "last leave (h)",
        "arrive_first_h": "first arrive (h)", "arrive_last_h": "last arrive (h)",
        "admitted_first_h": "first admitted (h)", "admitted_last_h": "last admitted (h)",
        "admitted": "admitted", "capacity": "capacity", "assigned": "assigned",
        "peak": "peak occupancy", "peak_h": "time of peak (h)",
        "evacuation_complete_h": "evacuation complete (h after the first order)",
        "evacuation_within": "share of evacuees in a shelter within {h} h of the order",
        "people_ordered": "people ordered to evacuate", "people_sheltered": "people in shelters",
        "people_without_place": "people without a place", "no_place": "no place (stay home)",
        "basis_walk": "walking times on the pedestrian network",
        "basis_road": "walking times on the drivable roads at walking speed",
        "category_I": "Class I shelter", "category_II": "Class II shelter",
        "category_III": "Class III shelter", "category_紧急": "emergency shelter (紧急)",
        "category_固定": "fixed shelter (固定)", "category_中心": "central shelter (中心)",
        "m2_per_person": "{m} m² of shelter per person",
    },
}
"""Evacuation and shelters (:mod:`sim.model.evacuation`): the ``evacuation`` and ``shelters``
tables' columns, the summary's evacuation figures, modes, walking basis and shelter classes."""

WEB_LABELS: dict[str, dict[str, str]] = {
    "zh": {
        "title": "路网、储备点与受灾群众救助时间（交互地图）",
        "legend_title": "图层（点击显示/隐藏）",
        "roads_major": "主干道路", "roads_middle": "次干道路", "roads_minor": "支路及其他道路",
        "rivers": "河道", "hazard_zones": "灾害风险区", "closure_areas": "封闭区域",
        "slow_areas": "减速区域", "closed": "中断道路", "service": "服务范围（本级储备点）",
        "settlements": "受灾点（大小示人口）",
        "settlements_never": "受灾点（有人未获救助）", "names": "受灾点名称",
        "team_bases": "救援队驻地", "water_stations": "水上救援站", "helipads": "直升机停机坪",
        "shelters": "避难场所",
        "team_bases_what": "救援队伍", "water_stations_what": "救援船艇",
        "helipads_what": "直升机", "shelters_what": "可容纳",
        "teams_value": "{n} 支", "boats_value": "{n} 艘", "helicopters_value": "{n} 架",
        "capacity_value": "{n} 人",
        "closed_when": "封闭时段", "slow_when": "减速时段", "slow_effect": "影响",
        "slow_factor": "行驶时间 ×{f}",
        "window": "第 {start}–{end} 小时", "window_open": "第 {start} 小时起至模拟结束",
        "people": "人口", "people_value": "{n} 人",
        "initial": "初步救助（首批–全部）", "effective": "有效救助（首批–全部）",
        "own_depot": "本级储备点", "not_relieved": "未获救助",
        "hours_value": "{h} 小时", "hours_range": "{a}–{b} 小时",
        "partly": "{span}；{n} 人未获救助",
        "tier": "层级", "kind": "类型", "physical": "实物储备", "contract": "协议储备",
        "capacity": "产能储备",
        "activation": "（调用后 {h} 小时供货）", "stock": "储备物资",
        "stock_value": "{name} {qty} {unit}", "units": "件",
        "trucks": "运输车辆", "trucks_value": "{n} 辆（每辆载重 {kg} 公斤）",
        "colour_bar": "初步救助时间（受灾后至全部人员获救，小时；目标 {target} 小时）",
        "attribution": "路网 © OpenStreetMap 贡献者（ODbL）", "north": "↑ 北",
        "tool_pan": "平移", "tool_wheel": "滚轮缩放", "tool_box": "框选放大",
        "tool_reset": "复位", "tool_save": "保存为图片", "tool_hover": "悬停查看详情",
    },
    "en": {
        "title": "Network, depots and time to relief (interactive map)",
        "legend_title": "Layers (click to show/hide)",
        "roads_major": "major roads", "roads_middle": "secondary roads",
        "roads_minor": "minor roads", "rivers": "rivers", "hazard_zones": "hazard zones",
        "closure_areas": "closed areas", "slow_areas": "slow-down areas",
        "closed": "closed roads", "service": "service area (own depot)",
        "settlements": "settlements (size: people)",
        "settlements_never": "settlements (people not relieved)",
        "names": "settlement names", "team_bases": "team bases",
        "water_stations": "water stations", "helipads": "helipads", "shelters": "shelters",
        "team_bases_what": "teams", "water_stations_what": "boats",
        "helipads_what": "helicopters", "shelters_what": "capacity",
        "teams_value": "{n}", "boats_value": "{n}", "helicopters_value": "{n}",
        "capacity_value": "{n} people",
        "closed_when": "closed", "slow_when": "slowed", "slow_effect": "effect",
        "slow_factor": "travel time ×{f}",
        "window": "{start}–{end} h", "window_open": "from {start} h to the end",
        "people": "people", "people_value": "{n}",
        "initial": "initial relief (first–last)", "effective": "effective relief (first–last)",
        "own_depot": "own depot", "not_relieved": "not relieved",
        "hours_value": "{h} h", "hours_range": "{a}–{b} h",
        "partly": "{span}; {n} people not relieved",
        "tier": "tier", "kind": "kind", "physical": "physical stock",
        "contract": "contract reserve", "capacity": "production-capacity reserve",
        "activation": " (supplies {h} h after the call)",
        "stock": "stock", "stock_value": "{name} {qty} {unit}", "units": "units",
        "trucks": "trucks", "trucks_value": "{n} ({kg} kg each)",
        "colour_bar": "time to initial relief of all people (h from onset; target {target} h)",
        "attribution": "road network © OpenStreetMap contributors (ODbL)", "north": "↑ N",
        "tool_pan": "pan", "tool_wheel": "wheel zoom", "tool_box": "box zoom",
        "tool_reset": "reset", "tool_save": "save as image", "tool_hover": "hover details",
    },
}
"""The interactive map of the HTML report (:mod:`sim.webmap`): layers and hover fields."""

_CLI_FROM_REPORT = ("target", "standard", "within", "result", "pass", "fail", "na", "why", "late",
                    "cause", "detail", "tier", "basis", "served", "people", "pass_rate", "hours")
"""Headings the command line shares with the report (:data:`REPORT_TEXT`)."""

CLI_LABELS: dict[str, dict[str, str]] = {
    "zh": {
        **{key: REPORT_TEXT["zh"][key] for key in _CLI_FROM_REPORT},
        "sep": "、", "yes": "是", "no": "否", "hours_value": "{x}小时", "at_most_h": "≤ {h}小时",
        "required": "要求 ≥ {share}", "never": "至模拟结束未获救助",
        "never_count": "至模拟结束未获救助：{n}",
        # validate
        "ok_schema": "[green]通过[/] {name}：格式有效（{what}）",
        "ok": "[green]通过[/] {name}：{what} — 路网{nodes}个节点，{sites}个站点",
        "experiment_what": "比较试验 {name}，{n}个配置",
        "service_title": "服务范围（属地）", "depot": "储备库",
        "support_only": "–（仅跨区域支援）",
        # run
        "simulating": "模拟中", "run_title": "{scenario} — 随机种子 {seed}，调度规则：{policy}",
        "n": "人数/\n事件数", "mean_h": "平均\n（小时）", "p95_h": "95%分位\n（小时）",
        "max_h": "最大\n（小时）", "where": "受灾点 / 物资",
        "resources": "受灾人口 {people} · 车辆行驶里程 {km} 公里 · 车辆利用率 {util} · "
                     "库存耗尽 {stockouts} 项",
        "cut_off": "[yellow]交通中断：[/]{name}，第{cut}小时至第{until}小时",
        "cut_off_end": "[yellow]交通中断：[/]{name}，自第{cut}小时起至模拟结束未恢复",
        "closed_roads": "（交通中断路段：{roads}）", "records_written": "记录已写入 [bold]{out}[/]",
        # compare
        "replications_bar": "重复", "eta": "剩余",
        "variant_title": "情景：{where} — {stat}（95%置信区间；与基准方案“{baseline}”配对比较）",
        "policy_suffix": "，{policy}", "option": "方案", "variant": "情景", "policy": "调度规则",
        "diff": "与基准方案之差", "diff_h": "与基准方案之差（小时）", "p_best": "为最优方案的概率",
        "cost": "费用（万元）", "per_point": "每提高1个百分点费用（万元）",
        "per_hour": "每缩短1小时费用（万元）", "pareto": "帕累托前沿",
        "tie": "≈ 与最优无显著差异", "stat_mean": "{kpi}均值（小时）",
        "stat_p95": "{kpi}95%分位（小时）",
        "best": "[bold]{kpi}最优方案[/]（{where}）：[bold]{name}[/] — 为最优方案的概率 {p}；"
                "{within} {share} [{low}, {high}]",
        "tied": "[bold]{kpi}最优方案[/]（{where}）：无法区分（配对差异不显著）：[bold]{names}[/]",
        "pareto_line": "[bold]帕累托前沿[/]（{where}，费用与{stat}）：{front}",
        "pareto_item": "{name}（{cost}万元）", "overview": "各项指标目标内比例",
        "precision": "精度：{n}次重复后所选指标95%置信区间半宽 {reached}（要求 ≤ {goal}：{met}）",
        "met": "已达到", "not_met": "[yellow]未达到[/]（已达最大重复次数）",
        "results_written": "结果已写入 [bold]{out}[/]（{reps}次重复 × {configs}个配置）",
        # sensitivity
        "sensitivity_bar": "敏感性分析",
        "sensitivity_title": "{kpi}：{method}（{points}个样本点 × 每点{reps}次重复），95%置信区间",
        "morris": "Morris筛选法", "sobol": "Sobol'方差分解法", "factor": "因素",
        "mu_star": "平均绝对基本效应 μ*", "sigma": "基本效应标准差 σ", "S1": "一阶指数 S1",
        "ST": "总效应指数 ST", "sensitivity_written": "指数、样本和图已写入 [bold]{out}[/]",
        # optimize
        "model_p_median": "p-中位模型", "model_mclp": "最大覆盖模型（MCLP）",
        "model_lscp": "集合覆盖模型（LSCP）", "model_p_center": "p-中心模型",
        "optimize_title": "{model}（新增{p}处，覆盖标准{standard}小时，{sites}个站点）与仿真验证"
                          "（{kpi}，{reps}次重复）",
        "optimize_status": "仿真验证：{n}个方案 × {reps}次重复", "static_rank": "静态排序",
        "new_sites": "新增站点", "objective": "目标函数值", "gap": "最优性间隙",
        "simulated_ci": "仿真{within}（95%置信区间）", "sim_rank": "仿真排序",
        "current_layout": "现状布局：{within} {share} [{low}, {high}]",
        "optimize_written": "结果已写入 [bold]{out}[/]（ranking.csv、sites.geojson、simulation/）",
        # validate-model
        "validating": "验证中", "checks_title": "模型验证：数值为何可信", "check": "检验项",
        "theory": "理论值", "simulated": "仿真值", "ci99": "99%置信区间", "exact": "精确",
        "check_pass": "通过", "check_fail": "未通过",
        "checks_failed": "[red]{n}项检验未通过：[/]{names}",
        "checks_passed": "[green]全部{n}项检验通过[/]",
        # network info
        "network_title": "{kind}：{source}", "network_road": "道路网络",
        "network_water": "水路网络",
        "nodes": "节点", "edges": "路段", "dropped": "剔除（不在最大强连通分量内）",
        "dropped_value": "{nodes}个节点（{components}个分量）", "bbox": "范围（西、南、东、北）",
        "maxspeed": "有限速标注的路段", "cache": "缓存", "cache_hit": "命中",
        "cache_miss": "未命中（已处理并保存）", "speeds_title": "各等级道路速度",
        "road_class": "道路等级（OSM）", "edge_count": "路段数", "km": "公里", "kmh": "公里/小时",
        "sites_title": "站点", "site": "站点", "kind": "类型", "snap_m": "距路网（米）",
        "reachable_in": "各储备库、驻地均可到达", "reachable_out": "可到达各储备库、驻地",
        "kind_depot": "储备库", "kind_team_base": "救援队驻地", "kind_water_station": "水上救援站",
        "kind_helipad": "直升机起降点", "kind_shelter": "避难场所", "kind_settlement": "受灾点",
    },
    "en": {
        **{key: REPORT_TEXT["en"][key] for key in _CLI_FROM_REPORT},
        "sep": ", ", "yes": "yes", "no": "no", "hours_value": "{x} h", "at_most_h": "≤ {h} h",
        "required": "required ≥ {share}", "never": "not served by the end",
        "never_count": "not served by the end: {n}",
        # validate
        "ok_schema": "[green]ok[/] {name}: schema valid ({what})",
        "ok": "[green]ok[/] {name}: {what} — {sites} sites on a network of {nodes} nodes",
        "experiment_what": "experiment {name}, {n} configurations",
        "service_title": "Service areas (each depot's own settlements)", "depot": "depot",
        "support_only": "– (support beyond its own area only)",
        # run
        "simulating": "simulating", "run_title": "{scenario} — seed {seed}, dispatch policy: "
                                                 "{policy}",
        "n": "n", "mean_h": "mean h", "p95_h": "p95 h", "max_h": "max h",
        "where": "settlement / commodity",
        "resources": "people affected {people} · vehicle-km {km} · truck utilisation {util} · "
                     "stock-outs {stockouts}",
        "cut_off": "[yellow]cut off:[/] {name} from {cut} h until {until} h",
        "cut_off_end": "[yellow]cut off:[/] {name} from {cut} h until the end of the run",
        "closed_roads": " (closed roads: {roads})", "records_written": "records written to "
                                                                      "[bold]{out}[/]",
        # compare
        "replications_bar": "replications", "eta": "ETA",
        "variant_title": "Variant: {where} — {stat} (95% CI; paired Δ vs the baseline "
                         "{baseline})",
        "policy_suffix": ", {policy}", "option": "option", "variant": "variant",
        "policy": "dispatch policy", "diff": "Δ vs baseline", "diff_h": "Δ vs baseline (h)",
        "p_best": "P(best)", "cost": "cost (10k CNY)", "per_point": "10k CNY per point gained",
        "per_hour": "10k CNY per hour saved", "pareto": "Pareto front",
        "tie": "≈ indistinguishable from the best", "stat_mean": "mean {kpi} (h)",
        "stat_p95": "p95 of {kpi} (h)",
        "best": "[bold]best for {kpi}[/] ({where}): [bold]{name}[/] — P(best) {p}; {within} "
                "{share} [{low}, {high}]",
        "tied": "[bold]best for {kpi}[/] ({where}): indistinguishable (paired differences not "
                "significant): [bold]{names}[/]",
        "pareto_line": "[bold]Pareto front[/] ({where}, cost in 10k CNY vs {stat}): {front}",
        "pareto_item": "{name} ({cost})", "overview": "Share within target, all targets",
        "precision": "precision: 95% CI half-width {reached} after {n} replications (goal ≤ "
                     "{goal}: {met})",
        "met": "met", "not_met": "[yellow]not met[/] (maximum)",
        "results_written": "results written to [bold]{out}[/] ({reps} replications × {configs} "
                           "configurations)",
        # sensitivity
        "sensitivity_bar": "sensitivity",
        "sensitivity_title": "{kpi}: {method} ({points} points × {reps} replications), 95% CI",
        "morris": "Morris", "sobol": "Sobol'", "factor": "factor", "mu_star": "μ*",
        "sigma": "σ", "S1": "S1", "ST": "ST",
        "sensitivity_written": "indices, sample and figures written to [bold]{out}[/]",
        # optimize
        "model_p_median": "p-median", "model_mclp": "maximal covering (MCLP)",
        "model_lscp": "set covering (LSCP)", "model_p_center": "p-center",
        "optimize_title": "{model} (p = {p}, standard {standard} h, {sites} sites) vs "
                          "simulation ({kpi}, {reps} replications)",
        "optimize_status": "simulating {n} placements × {reps} replications",
        "static_rank": "static", "new_sites": "new site(s)", "objective": "objective",
        "gap": "gap", "simulated_ci": "simulated {within} [95% CI]", "sim_rank": "sim rank",
        "current_layout": "current layout: {within} {share} [{low}, {high}]",
        "optimize_written": "results written to [bold]{out}[/] (ranking.csv, sites.geojson, "
                            "simulation/)",
        # validate-model
        "validating": "validating", "checks_title": "How we know the numbers are right",
        "check": "check", "theory": "theory", "simulated": "simulated", "ci99": "99% CI",
        "exact": "exact", "check_pass": "PASS", "check_fail": "FAIL",
        "checks_failed": "[red]{n} check(s) failed:[/] {names}",
        "checks_passed": "[green]all {n} checks passed[/]",
        # network info
        "network_title": "{kind} network: {source}", "network_road": "road",
        "network_water": "water", "nodes": "nodes", "edges": "edges",
        "dropped": "dropped (not in largest strongly connected component)",
        "dropped_value": "{nodes} nodes in {components} components",
        "bbox": "bbox (W, S, E, N)", "maxspeed": "edges with a maxspeed tag", "cache": "cache",
        "cache_hit": "hit", "cache_miss": "miss (prepared and saved)",
        "speeds_title": "speeds by class", "road_class": "class", "edge_count": "edges",
        "km": "km", "kmh": "km/h", "sites_title": "sites", "site": "site", "kind": "kind",
        "snap_m": "snap m", "reachable_in": "reachable from all depots",
        "reachable_out": "reaches all", "kind_depot": "depot", "kind_team_base": "team base",
        "kind_water_station": "water station", "kind_helipad": "helipad",
        "kind_shelter": "shelter", "kind_settlement": "settlement",
    },
}
"""Table titles and headings the command line prints (:mod:`sim.cli`), rich markup; a KPI's
name is :func:`kpi_label`'s, a tier's, cause's, policy's or variant's :func:`label`'s."""
