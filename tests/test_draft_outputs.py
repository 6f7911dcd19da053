"""Outputs that go into a Chinese plan draft unchanged (issue #18), on the embedded Nanjing
scenario and an experiment on it: no scenario or KPI id in any Chinese text, A4 pages,
every figure and table numbered with its caption, shares in %, no "∞", and the HTML report
rendering in headless Chromium without console errors."""

from __future__ import annotations

import re
import shutil
from html.parser import HTMLParser
from pathlib import Path

import pytest
import yaml

from sim.figures import figure_plates, make_figures, render
from sim.metrics import KPI_NAMES
from sim.report import write_report
from sim.run import run_replication, save_run
from sim.scenario import load_scenario
from sim.world import build_world

pytestmark = pytest.mark.slow  # figures and reports: not under mutation testing

ROOT = Path(__file__).resolve().parents[1]
SCENARIO = ROOT / "scenarios" / "nanjing_xuanwu_flood.yaml"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
A4_PT = (595.3, 841.9)


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("draft-cache")


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory, cache_dir: Path) -> Path:
    world = build_world(load_scenario(SCENARIO), cache_dir=cache_dir)
    return save_run(tmp_path_factory.mktemp("run") / "nanjing", world,
                    run_replication(world, explain=True))


@pytest.fixture(scope="module")
def experiment_dir(tmp_path_factory: pytest.TempPathFactory, cache_dir: Path) -> Path:
    """The shipped street-points experiment, cut to three options and 3 replications."""
    from sim.batch import run_experiment
    from sim.compare import finish_experiment
    from sim.experiment import load_experiment

    directory = tmp_path_factory.mktemp("exp")
    spec = yaml.safe_load((ROOT / "experiments" / "nanjing_street_points.yaml")
                          .read_text("utf-8"))
    spec.update(base=str(SCENARIO), replications=3, chunk_size=3)
    spec.pop("sequential", None)
    spec["placements"] = spec["placements"][:3]
    path = directory / "e.yaml"
    path.write_text(yaml.safe_dump(spec, allow_unicode=True), "utf-8")
    experiment, base = load_experiment(path)
    run = run_experiment(experiment, base, directory / "out", cache_dir=cache_dir)
    finish_experiment(run, cache_dir=cache_dir)
    return directory / "out"


@pytest.fixture(scope="module")
def html_reports(run_dir: Path, experiment_dir: Path, cache_dir: Path,
                 tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The Chinese HTML report of the run and of the experiment, written once."""
    folder = tmp_path_factory.mktemp("reports")
    return {which: write_report(results, folder / f"{which}.html", lang="zh",
                                cache_dir=cache_dir)
            for which, results in (("run", run_dir), ("experiment", experiment_dir))}


def scenario_ids() -> set[str]:
    s = load_scenario(SCENARIO)
    ids = {x.id for x in [*s.settlements, *s.depots, *s.commodities, *s.disruptions,
                          *s.incident_types, *s.team_bases, *s.water_stations, *s.helipads,
                          *s.shelters, *s.hazard_zones]}
    return ids | set(KPI_NAMES) | {"inf", "nan", "None"}


def ids_in(text: str) -> set[str]:
    """Scenario and KPI ids that occur in ``text`` as whole words."""
    words = set(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", text))
    return words & scenario_ids()


class VisibleText(HTMLParser):
    """The text a reader sees: everything outside <script> and <style>."""

    def __init__(self) -> None:
        super().__init__()
        self.skip = 0
        self.parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list) -> None:
        self.skip += tag in ("script", "style")

    def handle_endtag(self, tag: str) -> None:
        self.skip -= tag in ("script", "style")

    def handle_data(self, data: str) -> None:
        if not self.skip:
            self.parts.append(data)


def visible(page: str) -> str:
    parser = VisibleText()
    parser.feed(page)
    return "\n".join(parser.parts)


def figure_texts(results: Path, cache_dir: Path, lang: str) -> dict[str, str]:
    """Every text artist of every figure (titles, ticks, legends, annotations, captions)."""
    import matplotlib.pyplot as plt
    from matplotlib.text import Text

    plates, _ = figure_plates(results, lang=lang, cache_dir=cache_dir)
    texts = {}
    for plate in plates:
        fig = plate.draw()
        fig.canvas.draw()
        texts[plate.name] = "\n".join(t.get_text() for t in fig.findobj(Text))
        plt.close(fig)
    return texts


@pytest.mark.parametrize("which", ["run", "experiment"])
def test_no_id_in_any_chinese_figure_and_shares_in_percent(which: str, run_dir: Path,
                                                           experiment_dir: Path,
                                                           cache_dir: Path) -> None:
    results = run_dir if which == "run" else experiment_dir
    texts = figure_texts(results, cache_dir, "zh")
    for name, text in texts.items():
        assert not ids_in(text), (name, ids_in(text))
        assert "∞" not in text and " h" not in text.replace("\n", " ") + " ", name
    share_figures = {"relief_ecdf", "comparison", "pareto"} & set(texts)
    for name in share_figures:  # share axes say % and read 0–100, never 0.0–1.0
        assert "%" in texts[name] and "100" in texts[name], name


def test_figure_files_carry_number_caption_and_source(run_dir: Path, cache_dir: Path,
                                                      tmp_path: Path) -> None:
    paths = make_figures(run_dir, tmp_path / "figs", lang="zh", formats=("png", "svg"),
                         cache_dir=cache_dir)
    listing = (tmp_path / "figs" / "captions.txt").read_text("utf-8").splitlines()
    pngs = [p for p in paths if p.suffix == ".png"]
    assert [line.split("\t")[0] for line in listing[:-1]] == [
        f"图{n}" for n in range(1, len(pngs) + 1)]
    assert listing[-1].startswith("资料来源") and "OpenStreetMap" in listing[-1]
    from sim.figures import save_figure

    plates, source = figure_plates(run_dir, lang="zh", cache_dir=cache_dir)
    fig = plates[0].draw()
    save_figure(fig, tmp_path / "one", "map", ("png",), number=3, text=plates[0].caption,
                source=source, lang="zh")
    texts = [t.get_text() for t in fig.texts]
    assert f"图3\u3000{plates[0].caption}" in texts and source in texts
    done = render(plates[:2], tmp_path / "r", lang="zh", formats=("png",), source=source,
                  captions=False)
    assert [n for n, _, _ in done] == [1, 2]
    assert all(p.exists() for _, _, paths in done for p in paths)


@pytest.mark.parametrize("which", ["run", "experiment"])
def test_html_report_sections_numbers_and_no_ids(which: str,
                                                 html_reports: dict[str, Path]) -> None:
    page = html_reports[which].read_text("utf-8")
    text = visible(page)
    assert not ids_in(text), ids_in(text)
    assert "∞" not in text and "inf" not in text
    sections = ["摘要", "情景与主要假设", "评估方法", "结果", "局限与说明", "图"]
    if which == "experiment":
        sections.insert(4, "方案比选")
    headings = re.findall(r"<h2>(.*?)</h2>", page)
    assert [h for h in headings if h in sections] == sections
    tables = re.findall(r'<p class="tcap" id="tab(\d+)">表(\d+)\u3000(.+?)</p><table>', page)
    assert len(tables) == page.count("<table>") >= 5
    assert [int(a) for a, _, _ in tables] == list(range(1, len(tables) + 1))
    assert all(a == b and caption for a, b, caption in tables)
    figures = re.findall(r'<figure id="fig(\d+)">.*?<figcaption>图(\d+)\u3000(.+?)</figcaption>'
                         r'<div class="source">(.+?)</div></figure>', page)
    assert len(figures) == page.count("<figure") >= 4
    assert [int(a) for a, _, _, _ in figures] == list(range(1, len(figures) + 1))
    assert all(source.startswith("资料来源") for *_, source in figures)
    assert "@page{size:A4" in page
    assert "小时" in text and "%" in text and "万元" in text if which == "experiment" else True
    assert "为最优方案的概率" in text if which == "experiment" else "未达标原因" in text


def test_word_report_is_a4_numbered_and_without_ids(experiment_dir: Path, cache_dir: Path,
                                                    tmp_path: Path) -> None:
    from docx import Document
    from docx.oxml.ns import qn
    from docx.shared import Cm

    doc = Document(str(write_report(experiment_dir, tmp_path / "r.docx", fmt="docx",
                                    cache_dir=cache_dir)))
    for section in doc.sections:
        assert abs(section.page_width - Cm(21)) < Cm(0.05)
        assert abs(section.page_height - Cm(29.7)) < Cm(0.05)
    body = doc.element.body
    captions = [p.text for p in doc.paragraphs if p.style.name == "Caption"]
    tables = [c for c in captions if c.startswith("表")]
    figures = [c for c in captions if c.startswith("图")]
    assert [int(re.match(r"表(\d+)", c)[1]) for c in tables] == list(range(1, len(doc.tables) + 1))
    assert [int(re.match(r"图(\d+)", c)[1]) for c in figures] == list(
        range(1, len(doc.inline_shapes) + 1))
    # each table comes right after its caption
    for table in body.iter(qn("w:tbl")):
        previous = table.getprevious()
        assert previous.tag == qn("w:p") and "".join(previous.itertext()).startswith("表")
    text = "\n".join([p.text for p in doc.paragraphs] + [
        c.text for t in doc.tables for r in t.rows for c in r.cells])
    assert not ids_in(text), ids_in(text)
    assert "∞" not in text
    fonts = doc.styles["Normal"].element.rPr.rFonts
    assert fonts.get(qn("w:eastAsia")) == "宋体"
    assert doc.styles["Heading 1"].element.rPr.rFonts.get(qn("w:eastAsia")) == "黑体"


@pytest.mark.skipif(CHROMIUM is None, reason="Chromium not installed (Debian package chromium)")
def test_pdf_report_is_a4_and_says_what_the_html_says(run_dir: Path, cache_dir: Path,
                                                      tmp_path: Path) -> None:
    from pypdf import PdfReader

    pdf = write_report(run_dir, tmp_path / "r.pdf", fmt="pdf", cache_dir=cache_dir)
    reader = PdfReader(str(pdf))
    assert len(reader.pages) >= 3
    for page in reader.pages:
        box = page.mediabox
        assert abs(float(box.width) - A4_PT[0]) < 2 and abs(float(box.height) - A4_PT[1]) < 2
    text = "".join(page.extract_text() for page in reader.pages)
    assert "摘要" in text and "局限与说明" in text and "表1" in text
    assert not ids_in(text), ids_in(text)


@pytest.mark.skipif(CHROMIUM is None, reason="Chromium not installed (Debian package chromium)")
def test_html_report_renders_in_headless_chromium_without_errors(
        html_reports: dict[str, Path], tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    page_path = html_reports["run"]
    problems: list[str] = []
    requests: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run"])
        page = browser.new_page(viewport={"width": 1280, "height": 1600})
        page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: problems.append(str(e)))
        page.on("request", lambda r: requests.append(r.url))
        page.goto(page_path.resolve().as_uri(), wait_until="load")
        page.wait_for_timeout(1500)
        assert page.locator("h1").inner_text().startswith("应急救助仿真评估报告")
        assert page.locator(".webmap canvas").count() >= 1  # the interactive map drew
        images = page.evaluate("Array.from(document.images).map(i => i.naturalWidth)")
        assert images and min(images) > 500  # every figure decoded
        page.screenshot(path=str(tmp_path / "shot.png"), full_page=False)
        browser.close()
    assert problems == []
    assert all(u.startswith(("file:", "data:", "blob:", "about:")) for u in requests), requests


def test_readme_shows_a_map_and_a_comparison_figure() -> None:
    readme = (ROOT / "README.md").read_text("utf-8")
    images = re.findall(r"!\[([^\]]*)\]\(([^)]+\.png)\)", readme)
    shown = {Path(path).name: alt for alt, path in images}
    assert {"map_zh.png", "comparison_zh.png"} <= set(shown)
    for alt, path in images:
        assert (ROOT / path).stat().st_size > 20_000, path
        assert alt.startswith("图"), alt  # shown with its Chinese caption


def test_evacuation_and_life_circle_reach_the_report_and_figures(cache_dir: Path,
                                                                 tmp_path: Path) -> None:
    """The shipped evacuation scenario: the report says who went where and how full each
    shelter got, the 15-minute circle with its verdict, and a numbered shelter figure."""
    import json

    path = ROOT / "scenarios" / "nanjing_evacuation.yaml"
    world = build_world(load_scenario(path), cache_dir=cache_dir)
    run = save_run(tmp_path / "run", world, run_replication(world, explain=True))
    summary = json.loads((run / "summary.json").read_text("utf-8"))
    circle = summary["life_circle"]
    assert 0 <= circle["shelter_share"] <= 1 and circle["walk_basis"] == "walk"
    assert circle["passed"] == (circle["stockpile_share"] >= circle["required"])
    page = write_report(run, tmp_path / "r.html", cache_dir=cache_dir).read_text("utf-8")
    text = visible(page)
    assert "转移安置与避难场所" in text and "15分钟生活保障圈" in text
    shelters = load_scenario(path).shelters
    assert all((s.name or s.id) in text for s in shelters)
    sheltered = summary["evacuation"]["people_sheltered"]
    assert f"已入住避难场所人数：{sheltered:,}" in text
    ids = {s.id for s in shelters} | {s.id for s in load_scenario(path).settlements}
    assert not set(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", text)) & ids
    plates, _ = figure_plates(run, lang="zh", cache_dir=cache_dir)
    assert {"shelters", "life_circle"} <= {p.name for p in plates}
