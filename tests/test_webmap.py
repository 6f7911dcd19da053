"""The interactive map of the HTML report (sim.webmap) in a real browser, and printing HTML to
an A4 PDF with headless Chromium (sim.pdf)."""

from __future__ import annotations

import dataclasses
import json
import os
import re
import shutil
import stat
import tempfile
import types
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from sim.errors import ReliefsimError
from sim.glossary import label

pytestmark = pytest.mark.slow

SCENARIO = Path(__file__).resolve().parents[1] / "scenarios" / "nanjing_xuanwu_flood.yaml"
CHROMIUM = shutil.which("chromium") or ("/usr/bin/chromium" if Path("/usr/bin/chromium").is_file()
                                        else None)
needs_chromium = pytest.mark.skipif(CHROMIUM is None,
                                    reason="no Chromium (/usr/bin/chromium or `chromium` on PATH)")
BROWSER_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--no-first-run"]
SCREENSHOT = Path(tempfile.gettempdir()) / "webmap.png"

# Bokeh's JS API, run in the page: the plot, its renderers and a point's place on the screen.
JS_PLOT = "Bokeh.documents[0].roots()[0]"
JS_SCREEN_POSITION = """([name, glyph]) => {
  const plot = $PLOT;
  const view = Bokeh.index.get_by_id(plot.id);
  const renderer = plot.renderers.find(r => r.glyph.type === glyph && r.data_source.data.name
                                            && [...r.data_source.data.name].includes(name));
  const i = [...renderer.data_source.data.name].indexOf(name);
  const box = view.canvas_view.el.getBoundingClientRect();
  return {x: box.left + view.frame.x_scale.compute(renderer.data_source.data.x[i]),
          y: box.top + view.frame.y_scale.compute(renderer.data_source.data.y[i])};
}""".replace("$PLOT", JS_PLOT)
JS_TOOLTIPS = """() => {
  const found = [];
  const walk = (root) => {
    for (const el of root.querySelectorAll('*')) {
      if (el.shadowRoot) walk(el.shadowRoot);
      if (typeof el.className === 'string' && /tooltip/i.test(el.className)
          && el.offsetParent !== null && el.innerText.trim()) found.push(el.innerText);
    }
  };
  walk(document);
  return found;
}"""
JS_VISIBLE = """(text) => {
  const plot = $PLOT;
  const legend = plot.right.find(x => x.type === 'Legend');
  const item = legend.items.find(i => i.label.value === text);
  return item.renderers.map(r => r.visible);
}""".replace("$PLOT", JS_PLOT)


# -- the Nanjing run and its map -------------------------------------------------------------


@pytest.fixture(scope="module")
def nanjing(tmp_path_factory: pytest.TempPathFactory) -> Any:
    from sim.model.disruptions import disruption_edges
    from sim.run import run_replication
    from sim.scenario import load_scenario
    from sim.world import build_world

    world = build_world(load_scenario(SCENARIO), cache_dir=tmp_path_factory.mktemp("cache"))
    result = run_replication(world)
    closed = [disruption_edges(world, d, result.seed, result.replication)
              for d in world.scenario.disruptions if d.factor is None]
    closed_edges = np.unique(np.concatenate(closed)) if closed else np.zeros(0, dtype=int)
    return types.SimpleNamespace(world=world, relief=result.relief, closed=closed_edges)


@pytest.fixture(scope="module")
def fragments(nanjing: Any) -> dict[str, str]:
    from sim.webmap import interactive_map

    return {lang: interactive_map(nanjing.world, nanjing.relief, nanjing.closed, lang)
            for lang in ("zh", "en")}


def _page(fragment: str) -> str:
    """A report-like page: the CJK web font embedded as ReliefsimCJK, the map in its body."""
    from sim.fonts import embedded_font_css

    before, after = "<h1>应急救助仿真评估报告</h1><p>交互地图：</p>", "<p>图后正文。</p>"
    css = embedded_font_css(before + after + fragment)
    return ('<!doctype html><html lang="zh"><head><meta charset="utf-8"><title>地图</title>'
            f'<style>{css}\nbody{{font-family:"ReliefsimCJK",sans-serif;max-width:1100px;'
            'margin:1em auto;padding:0 1em}@page{size:A4;margin:12mm}</style></head>'
            f"<body>{before}{fragment}{after}</body></html>")


@pytest.fixture(scope="module")
def map_page(fragments: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("page") / "map_zh.html"
    path.write_text(_page(fragments["zh"]), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def browser() -> Any:
    if CHROMIUM is None:
        pytest.skip("no Chromium (/usr/bin/chromium or `chromium` on PATH)")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=BROWSER_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def opened(browser: Any, map_page: Path) -> Any:
    """The map page loaded, with every console message, page error and request recorded
    (requests for anything but the file itself and data: URLs are refused)."""
    context = browser.new_context(viewport={"width": 1200, "height": 900})
    page = context.new_page()
    log: dict[str, list[str]] = {"errors": [], "page_errors": [], "requests": [],
                                 "blocked": []}

    def route(r: Any) -> None:
        url = r.request.url
        log["requests"].append(url)
        if url.startswith(("file:", "data:")):
            r.continue_()
        else:
            log["blocked"].append(url)
            r.abort()

    context.route("**/*", route)
    page.on("request", lambda request: log["requests"].append(request.url))
    page.on("console", lambda m: log["errors"].append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: log["page_errors"].append(str(e)))
    page.goto(map_page.as_uri())
    page.wait_for_function("() => window.Bokeh && Bokeh.index.roots.length > 0", timeout=30000)
    page.wait_for_function(f"() => Bokeh.index.get_by_id({JS_PLOT}.id).is_idle", timeout=30000)
    yield page, log
    context.close()


@needs_chromium
def test_map_loads_offline_without_errors(opened: Any, map_page: Path) -> None:
    page, log = opened
    page.wait_for_timeout(300)
    assert log["errors"] == [] and log["page_errors"] == []
    assert log["blocked"] == []
    assert {u.split(":", 1)[0] for u in log["requests"]} <= {"file", "data"}
    assert page.locator("canvas").count() >= 1  # in Bokeh's shadow DOM
    assert page.evaluate(f"() => {JS_PLOT}.renderers.length") >= 10
    page.screenshot(path=str(SCREENSHOT))


@needs_chromium
def test_hovering_a_settlement_shows_its_name_and_hours(opened: Any, nanjing: Any) -> None:
    page, _ = opened
    settlement = next(s for s in nanjing.world.scenario.settlements if s.id == "wulaocun")
    rows = nanjing.relief[nanjing.relief.settlement == settlement.id]
    first, last = rows.initial_h.min(), rows.initial_h.max()
    assert np.isfinite(last)
    point = page.evaluate(JS_SCREEN_POSITION, [settlement.name, "Scatter"])
    page.mouse.move(point["x"] + 1, point["y"] + 1)
    page.wait_for_function(JS_TOOLTIPS.replace("return found;", "return found.length > 0;"))
    text = "\n".join(page.evaluate(JS_TOOLTIPS))
    assert settlement.name in text
    assert f"{first:.1f}–{last:.1f} 小时" in text
    assert f"{settlement.people:,} 人" in text
    assert "inf" not in text and "∞" not in text and settlement.id not in text


@needs_chromium
def test_hovering_a_depot_shows_tier_stock_and_trucks(opened: Any, nanjing: Any) -> None:
    page, _ = opened
    scenario = nanjing.world.scenario
    depot = next(d for d in scenario.depots if d.id == "district_warehouse")
    point = page.evaluate(JS_SCREEN_POSITION, [depot.name, "Scatter"])
    page.mouse.move(point["x"], point["y"])
    page.wait_for_function(JS_TOOLTIPS.replace("return found;", "return found.length > 0;"))
    text = "\n".join(page.evaluate(JS_TOOLTIPS))
    assert depot.name in text and label("tier", depot.tier, "zh") in text
    for commodity in scenario.commodities:
        assert f"{commodity.name} {depot.stock[commodity.id]:,.0f} {commodity.unit}" in text
    assert f"{depot.trucks.count} 辆" in text


@needs_chromium
def test_clicking_a_legend_item_hides_its_layer(opened: Any) -> None:
    from sim.glossary import WEB_LABELS

    page, log = opened
    rivers = WEB_LABELS["zh"]["rivers"]
    assert page.evaluate(JS_VISIBLE, rivers) == [True]
    page.get_by_text(rivers, exact=True).click()
    page.wait_for_timeout(200)
    assert page.evaluate(JS_VISIBLE, rivers) == [False]
    page.get_by_text(rivers, exact=True).click()
    page.wait_for_timeout(200)
    assert page.evaluate(JS_VISIBLE, rivers) == [True]
    assert log["errors"] == [] and log["page_errors"] == []


@needs_chromium
def test_unrelieved_people_hazard_zones_and_circular_closures(
        browser: Any, tmp_path: Path, tmp_path_factory: pytest.TempPathFactory) -> None:
    """A settlement hit at the end of the horizon (nobody relieved), one too big for the stock
    (partly relieved), a hazard zone and a closure given as a circle: drawn, named, no error."""
    from sim.glossary import WEB_LABELS
    from sim.run import run_replication
    from sim.scenario import parse_scenario, read_yaml
    from sim.webmap import interactive_map
    from sim.world import build_world

    data = read_yaml(SCENARIO)
    data["settlements"] += [
        {"id": "late_one", "name": "末时受灾点", "location": [118.7820, 32.0460], "people": 300,
         "onset_h": 47.9, "area": "南京市/秦淮区/洪武路街道/九中社区"},
        {"id": "huge_one", "name": "大型安置区", "location": [118.7700, 32.0470],
         "people": 60000, "onset_h": 0, "area": "南京市/秦淮区/朝天宫街道/金陵社区"}]
    data["hazard_zones"] = [{"id": "lowland", "name": "低洼易涝区", "polygon": [
        [118.790, 32.050], [118.796, 32.050], [118.796, 32.054], [118.790, 32.054]]}]
    data["disruptions"].append({"id": "bridge_closed", "name": "桥梁封闭",
                                "window": {"start_h": 2}, "near": [118.7850, 32.0440],
                                "radius_m": 250})
    scenario = parse_scenario(data, origin="test", base_dir=SCENARIO.parent)
    world = build_world(scenario, cache_dir=tmp_path_factory.getbasetemp() / "cache-extra")
    relief = run_replication(world).relief
    fragment = interactive_map(world, relief, np.zeros(0, dtype=int), "zh")
    joined = "\n".join(_visible_strings(_document(fragment)))
    t = WEB_LABELS["zh"]
    assert t["settlements_never"] in joined and "低洼易涝区" in joined
    assert "桥梁封闭" in joined and "第 2 小时起至模拟结束" in joined
    assert re.search(r"大型安置区", joined) and re.search(r"；[\d,]+ 人未获救助", joined)
    for name in ("late_one", "huge_one", "lowland", "bridge_closed"):
        assert name not in joined

    page_path = tmp_path / "map.html"
    page_path.write_text(_page(fragment), encoding="utf-8")
    page = browser.new_page(viewport={"width": 1200, "height": 900})
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(page_path.as_uri())
    page.wait_for_function("() => window.Bokeh && Bokeh.index.roots.length > 0")
    point = page.evaluate(JS_SCREEN_POSITION, ["末时受灾点", "Scatter"])
    page.mouse.move(point["x"], point["y"])
    page.wait_for_function(JS_TOOLTIPS.replace("return found;", "return found.length > 0;"))
    text = "\n".join(page.evaluate(JS_TOOLTIPS))
    assert "末时受灾点" in text and t["not_relieved"] in text and "inf" not in text
    page.close()
    assert errors == []


def _document(fragment: str) -> dict[str, Any]:
    found = re.search(r'<script type="application/json" id="[^"]+">(.*?)</script>', fragment,
                      re.S)
    assert found is not None
    return json.loads(found.group(1))


VISIBLE_KEYS = {"text", "title", "label", "tooltips", "description", "value"}


def _visible_strings(node: Any, key: str | None = None) -> list[str]:
    """Text a reader can see: titles, labels, legend entries, hover templates (tags and
    placeholders removed), tool names and the string columns of the data."""
    if isinstance(node, str):
        if key == "tooltips":
            node = re.sub(r"@\w+", " ", re.sub(r"<[^>]*>", " ", node))
        return [node] if key in VISIBLE_KEYS else []
    if isinstance(node, list):
        return [s for item in node for s in _visible_strings(item, key)]
    if not isinstance(node, dict):
        return []
    if node.get("type") == "map" and key == "data":
        return [s for _, column in node["entries"] if isinstance(column, list)
                for s in column if isinstance(s, str)]
    if node.get("type") == "value" and key in VISIBLE_KEYS:
        return _visible_strings(node.get("value"), key)
    return [s for k, v in node.items() for s in _visible_strings(v, k)]


def test_no_scenario_id_in_the_chinese_map(fragments: dict[str, str], nanjing: Any) -> None:
    scenario = nanjing.world.scenario
    ids = {x.id for field in ("commodities", "depots", "team_bases", "water_stations",
                              "shelters", "settlements", "disruptions", "hazard_zones")
           for x in getattr(scenario, field)}
    texts = _visible_strings(_document(fragments["zh"]))
    joined = "\n".join(texts)
    assert all(s.name in joined for s in scenario.settlements)
    assert all(d.name in joined for d in scenario.depots)
    for name in ids:
        assert not re.search(rf"(?<![A-Za-z0-9_]){re.escape(name)}(?![A-Za-z0-9_])", joined), \
            name
    assert "inf" not in re.findall(r"[A-Za-z]+", joined) and "∞" not in joined
    assert "汉中门下穿通道积水封闭" in joined and "第 1–9 小时" in joined  # closure, its window


def test_fragment_is_self_contained_and_small(fragments: dict[str, str]) -> None:
    from sim.webmap import bokeh_js

    for fragment in fragments.values():
        assert fragment.startswith(bokeh_js())  # BokehJS inline (its MathJax CDN fallback is
        # for TeX text only, which the map has none of: no request is made, see above)
        own = fragment[len(bokeh_js()):]
        assert "<script>" in own and "Bokeh.embed.embed_item" in own
        assert "http" not in own
        assert len(fragment.encode()) < 2_500_000
        assert "</script" not in _document_text(fragment)


def _document_text(fragment: str) -> str:
    found = re.search(r'<script type="application/json" id="[^"]+">(.*?)</script>', fragment,
                      re.S)
    assert found is not None
    return found.group(1)


def test_a_50k_edge_network_stays_small(nanjing: Any) -> None:
    """Roads are merged into one polyline per class group: 50 000 edges embed in well under
    a megabyte besides BokehJS."""
    from sim.webmap import interactive_map

    n, rng = 113, np.random.default_rng(1)
    lon, lat = np.meshgrid(np.linspace(118.70, 118.86, n), np.linspace(31.98, 32.11, n))
    lon = (lon + rng.normal(0, 2e-4, lon.shape)).ravel()
    lat = (lat + rng.normal(0, 2e-4, lat.shape)).ravel()
    grid = np.arange(n * n).reshape(n, n)
    u = np.r_[grid[:, :-1].ravel(), grid[:-1, :].ravel()]
    v = np.r_[grid[:, 1:].ravel(), grid[1:, :].ravel()]
    classes = rng.choice(["primary", "secondary", "tertiary", "residential", "service"], len(u))
    road = types.SimpleNamespace(lon=lon, lat=lat, edge_u=np.r_[u, v], edge_v=np.r_[v, u],
                                 edge_highway=np.r_[classes, classes], n_edges=2 * len(u))
    assert road.n_edges > 50_000
    world = dataclasses.replace(nanjing.world, road=road)
    fragment = interactive_map(world, nanjing.relief, np.arange(3000), "zh",
                               include_bokehjs=False)
    assert len(fragment.encode()) < 1_000_000


def test_relief_texts_never_say_inf() -> None:
    from sim.glossary import WEB_LABELS
    from sim.webmap import _relief_text

    t = WEB_LABELS["zh"]
    inf = np.inf
    assert _relief_text(np.array([inf]), np.array([10.0]), t) == "未获救助"
    assert _relief_text(np.array([1.25, 3.0]), np.array([5.0, 5.0]), t) == "1.2–3.0 小时"
    assert _relief_text(np.array([2.0, 2.01]), np.array([5.0, 5.0]), t) == "2.0 小时"
    assert _relief_text(np.array([0.5, inf]), np.array([5.0, 1200.0]), t) == \
        "0.5 小时；1,200 人未获救助"
    assert _relief_text(np.array([inf]), np.array([3.0]), WEB_LABELS["en"]) == "not relieved"


# -- PDF -------------------------------------------------------------------------------------


A4_PAGE = ('<!doctype html><html><head><meta charset="utf-8"><style>@page{size:A4;margin:15mm}'
           "</style></head><body><p>A4 page</p></body></html>")


def _mediabox(pdf: Path) -> tuple[float, float]:
    from pypdf import PdfReader

    box = PdfReader(pdf).pages[0].mediabox
    return float(box.width), float(box.height)


@needs_chromium
def test_html_to_pdf_prints_a4(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from sim.pdf import html_to_pdf

    monkeypatch.delenv("RELIEFSIM_CHROMIUM", raising=False)
    html = tmp_path / "page.html"
    html.write_text(A4_PAGE, encoding="utf-8")
    pdf = html_to_pdf(html, tmp_path / "out" / "page.pdf")
    assert pdf == tmp_path / "out" / "page.pdf"
    width, height = _mediabox(pdf)
    assert abs(width - 595) <= 2 and abs(height - 842) <= 2
    assert sorted(p.name for p in pdf.parent.iterdir()) == [".reliefsim.json", "page.pdf"]


@needs_chromium
def test_the_printed_map_is_drawn(map_page: Path, tmp_path: Path,
                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """The browser waits for the map's scripts before printing: its canvas in the PDF is an
    image with the map on it, not a blank box."""
    from PIL import Image
    from pypdf import PdfReader

    from sim.pdf import html_to_pdf

    monkeypatch.setenv("RELIEFSIM_CHROMIUM", CHROMIUM or "")
    pdf = html_to_pdf(map_page, tmp_path / "map.pdf")
    width, height = _mediabox(pdf)
    assert abs(width - 595) <= 2 and abs(height - 842) <= 2
    images = [img for page in PdfReader(pdf).pages for img in page.images]
    biggest = max(images, key=lambda img: img.image.size[0] * img.image.size[1]).image
    assert biggest.size[0] > 300
    colours = Image.Image.getcolors(biggest.convert("RGB"), maxcolors=1 << 20) or []
    assert len(colours) > 50  # roads, rivers, markers and text, not one flat colour


def _no_browser(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    monkeypatch.setattr("sim.pdf.KNOWN_PLACES", ())


def test_html_to_pdf_without_a_browser(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from sim.pdf import html_to_pdf

    _no_browser(monkeypatch, tmp_path)
    html = tmp_path / "report.html"
    html.write_text(A4_PAGE, encoding="utf-8")
    monkeypatch.setenv("RELIEFSIM_CHROMIUM", str(tmp_path / "no-such-browser"))
    with pytest.raises(ReliefsimError, match="RELIEFSIM_CHROMIUM") as error:
        html_to_pdf(html, tmp_path / "report.pdf")
    assert str(html) in str(error.value)
    monkeypatch.delenv("RELIEFSIM_CHROMIUM")
    with pytest.raises(ReliefsimError, match="no Chromium-family browser") as error:
        html_to_pdf(html, tmp_path / "report.pdf")
    message = str(error.value)
    assert "Chromium" in message and "Chrome" in message and "Edge" in message
    assert "RELIEFSIM_CHROMIUM" in message and "HTML report is still there" in message
    assert not (tmp_path / "report.pdf").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["empty-bin", "report.html"]


def _fake_browser(tmp_path: Path, body: str) -> Path:
    script = tmp_path / "fake-chromium"
    script.write_text("#!/bin/sh\n" + body + "\n", encoding="utf-8")
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return script


@pytest.mark.skipif(os.name != "posix", reason="a shell script stands in for the browser")
def test_a_failing_browser_leaves_no_pdf(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from sim.pdf import html_to_pdf

    html = tmp_path / "report.html"
    html.write_text(A4_PAGE, encoding="utf-8")
    half_written = ('for a in "$@"; do case "$a" in --print-to-pdf=*) '
                    'printf "%PDF-1.4 half" > "${a#--print-to-pdf=}";; esac; done\n')
    monkeypatch.setenv("RELIEFSIM_CHROMIUM", str(_fake_browser(
        tmp_path, half_written + 'echo "[1:2:ERROR] GPU process crashed" >&2\nexit 3')))
    with pytest.raises(ReliefsimError, match="code 3") as error:
        html_to_pdf(html, tmp_path / "out" / "report.pdf")
    assert "GPU process crashed" in str(error.value)
    assert not (tmp_path / "out" / "report.pdf").exists()
    assert [p.name for p in (tmp_path / "out").iterdir()] == []

    # a slow browser is stopped; an earlier PDF stays as it was
    pdf = tmp_path / "out" / "report.pdf"
    monkeypatch.setenv("RELIEFSIM_CHROMIUM", str(_fake_browser(
        tmp_path, half_written + "echo still loading >&2\nexec sleep 30")))
    from sim.files import publish_file

    with publish_file(pdf) as tmp:
        tmp.write_bytes(b"%PDF-1.4 the earlier report")
    with pytest.raises(ReliefsimError, match="longer than 1 s") as error:
        html_to_pdf(html, pdf, timeout_s=1)
    assert "still loading" in str(error.value)
    assert pdf.read_bytes() == b"%PDF-1.4 the earlier report"
    assert sorted(p.name for p in pdf.parent.iterdir()) == [".reliefsim.json", "report.pdf"]


def test_html_to_pdf_needs_the_html(tmp_path: Path) -> None:
    from sim.pdf import html_to_pdf

    with pytest.raises(ReliefsimError, match="no such HTML file"):
        html_to_pdf(tmp_path / "missing.html", tmp_path / "out.pdf")
