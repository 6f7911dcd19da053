"""Words on the page: every label the outputs show, in Chinese (as the plans write it) and
English. Other modules look labels up here instead of spelling them."""

from __future__ import annotations

__all__ = ["CAUSES", "CAUSE_DETAILS", "SERVICE_BASIS", "TIER_NAMES", "label"]

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

_TABLES = {"cause": CAUSES, "tier": TIER_NAMES, "basis": SERVICE_BASIS}


def label(kind: str, key: str, lang: str = "zh") -> str:
    """The ``lang`` ('zh' or 'en') label of ``key`` in the table ``kind``; the key itself when
    it has none."""
    zh, en = _TABLES[kind].get(key, (key, key))
    return zh if lang == "zh" else en
