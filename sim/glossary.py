"""Words on the page: the labels the outputs show, in Chinese (as the plans write it) and
English — causes, tiers, service-area bases, figure and report texts, ledger values. Other
modules look labels up here instead of spelling them (the CLI's table headings still spell
theirs; issue #18 moves them here)."""

from __future__ import annotations

__all__ = [
    "CAUSES",
    "CAUSE_DETAILS",
    "FIGURE_LABELS",
    "CLI_LABELS",
    "KIND_LABELS",
    "MAP_LABELS",
    "WEB_LABELS",
    "REPORT_TEXT",
    "SERVICE_BASIS",
    "TIER_LABELS",
    "TIER_NAMES",
    "KPI_LABELS",
    "kpi_label",
    "label",
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
    "fires_out_24h": ("森林火灾24小时扑灭率", "forest fires out within 24 h",
                      "{h}小时内扑灭的森林火灾比例", "share of forest fires out within {h} h"),
    "_arrival": ("{name}现场到达时间", "on-scene arrival, {name}",
                 "{h}小时内到达现场的{name}事件比例", "share of {name} incidents reached within {h} h"),
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


_TABLES = {"cause": CAUSES, "tier": TIER_NAMES, "basis": SERVICE_BASIS}


def label(kind: str, key: str, lang: str = "zh") -> str:
    """The ``lang`` ('zh' or 'en') label of ``key`` in the table ``kind``; the key itself when
    it has none."""
    zh, en = _TABLES[kind].get(key, (key, key))
    return zh if lang == "zh" else en


# -- figures, reports and the ledger ------------------------------------------------------

FIGURE_LABELS: dict[str, dict[str, str]] = {
    "zh": {
        "map": "路网、储备点与受灾群众初步救助时间", "hours": "时间 (小时)",
        "share_people": "受灾人员累计占比", "initial": "初步救助", "effective": "有效救助",
        "ecdf": "受灾人员获得救助时间分布", "target": "目标", "within": "达标",
        "arrival": "各类事件现场到达时间", "arrival_h": "到达时间 (小时)",
        "timeline": "救助进程时间线", "people_relieved": "已初步救助人数",
        "stock": "主要物资库存", "busy": "在途/作业车辆与队伍", "closure": "道路中断",
        "comparison": "储备库布局方案比较", "share_within": "目标内占比", "diff": "与基准方案之差",
        "p_best": "最优概率", "tornado": "情景敏感性", "change": "相对基准情景的变化",
        "depot": "储备库", "team_base": "救援队驻地", "water_station": "水上救援站",
        "helipad": "直升机停机坪", "settlement": "受灾点", "closed": "中断道路",
        "ok": "达标", "late": "超过初步救助目标", "never": "未获救助",
        "service": "服务范围（本级储备点属地）",
        "sensitivity": "各因素对目标达成率的影响", "factor": "因素",
        "pareto": "方案费用与目标达成率（帕累托前沿）", "cost_wan": "费用（万元）",
        "share_pct": "目标内占比（%）",
        "mu_star": "平均绝对基本效应 μ*（目标内占比）", "S1": "一阶指数 S1", "ST": "总效应指数 ST",
        "lon": "经度", "lat": "纬度", "trucks": "车辆", "teams": "救援力量",
        "village": "村级", "town": "镇级", "county": "县级", "enterprise": "企业(协议)",
        "city": "市级", "province": "省级", "neighbour": "相邻地区",
    },
    "en": {
        "map": "Network, depots and time to initial relief", "hours": "time (h)",
        "share_people": "cumulative share of affected people", "initial": "initial relief",
        "effective": "effective relief", "ecdf": "Time to relief of affected people",
        "target": "target", "within": "within", "arrival": "On-scene arrival time by incident",
        "arrival_h": "arrival (h)", "timeline": "Relief over time",
        "people_relieved": "people with initial relief", "stock": "stock of main items",
        "busy": "vehicles and teams busy", "closure": "road closure",
        "comparison": "Depot placements compared", "share_within": "share within target",
        "diff": "difference vs baseline", "p_best": "P(best)", "tornado": "Sensitivity",
        "change": "change vs base variant", "depot": "depot", "team_base": "team base",
        "water_station": "water station", "helipad": "helipad", "settlement": "settlement",
        "closed": "closed road", "ok": "within target", "late": "beyond initial target",
        "never": "not relieved", "service": "service area (own lowest-tier depot)",
        "sensitivity": "Influence of each factor on the share within target",
        "pareto": "Cost vs share within target (Pareto front)", "cost_wan": "cost (10k CNY)",
        "share_pct": "share within target (%)",
        "factor": "factor", "mu_star": "mean absolute elementary effect μ* (share within)",
        "S1": "first-order index S1", "ST": "total-effect index ST",
        "lon": "longitude", "lat": "latitude", "trucks": "trucks",
        "teams": "teams", "village": "village", "town": "town", "county": "county",
        "enterprise": "enterprise (contract)", "city": "city", "province": "province",
        "neighbour": "neighbour",
    },
}
"""Figure titles, axes and legends."""

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
        "why": "未达标原因", "settlement": "安置点", "commodity": "物资", "late": "未达标人数",
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

TIER_LABELS = {"village": "村（社区）级", "town": "乡镇（街道）级", "county": "县（区）级",
               "enterprise": "企业", "city": "市级储备库", "province": "省级储备库",
               "neighbour": "相邻地区"}
KIND_LABELS = {"physical": "实物储备", "contract": "协议储备"}
"""Ledger (台账) values of tier and kind: they are read back on import, so they never change."""


# -- sections owned by one output each (issue #18) ------------------------------------------

MAP_LABELS: dict[str, dict[str, str]] = {"zh": {}, "en": {}}
"""The static map (:mod:`sim.maps`): legend entries, scale bar, north arrow, attribution."""

WEB_LABELS: dict[str, dict[str, str]] = {"zh": {}, "en": {}}
"""The interactive map of the HTML report (:mod:`sim.webmap`): layers and hover fields."""

CLI_LABELS: dict[str, dict[str, str]] = {"zh": {}, "en": {}}
"""Table titles and headings the command line prints (:mod:`sim.cli`)."""
