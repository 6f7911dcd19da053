"""Figures, report and GIS export from real results, in Chinese and English."""

from __future__ import annotations

import re
import shutil
import warnings
from pathlib import Path

import matplotlib.image as mpimg
import pandas as pd
import pytest

from sim.errors import ReliefsimError
from sim.figures import LABELS, make_figures, read_run
from sim.fonts import embedded_font_css, missing_glyphs, use_cjk_font
from sim.gis import export_gis
from sim.report import write_report
from sim.run import run_replication, save_run
from sim.scenario import load_scenario
from sim.world import build_world

pytestmark = pytest.mark.slow  # figures and reports: not under mutation testing

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("figures-cache")


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory, cache_dir: Path) -> Path:
    world = build_world(load_scenario(ROOT / "scenarios" / "helsinki_storm.yaml"),
                        cache_dir=cache_dir)
    out = tmp_path_factory.mktemp("run") / "helsinki"
    return save_run(out, world, run_replication(world))


@pytest.fixture(scope="module")
def experiment_dir(tmp_path_factory: pytest.TempPathFactory, cache_dir: Path) -> Path:
    import yaml

    from sim.batch import run_experiment
    from sim.compare import finish_experiment
    from sim.experiment import load_experiment

    directory = tmp_path_factory.mktemp("exp")
    spec = yaml.safe_load((ROOT / "experiments" / "helsinki_depot_sites.yaml").read_text("utf-8"))
    spec.update(base=str(ROOT / "scenarios" / "helsinki_storm.yaml"), replications=3,
                chunk_size=3, variants=[{"name": "base"}, {"name": "demand_x1.5",
                                                           "demand_scale": 1.5}])
    spec["placements"] = spec["placements"][:2]
    path = directory / "e.yaml"
    path.write_text(yaml.safe_dump(spec, allow_unicode=True), "utf-8")
    experiment, base = load_experiment(path)
    run = run_experiment(experiment, base, directory / "out", cache_dir=cache_dir)
    finish_experiment(run, cache_dir=cache_dir)
    return directory / "out"


def assert_real_image(path: Path, min_px: int = 600) -> None:
    image = mpimg.imread(path)
    height, width = image.shape[:2]
    assert width >= min_px and height >= min_px // 3, (path, image.shape)
    assert image[..., :3].std() > 0.02, f"{path} looks blank"


def test_the_cjk_font_covers_every_label_without_missing_glyph_warnings(tmp_path: Path) -> None:
    label = "受灾群众基本生活初步救助时间 内河应急处置现场到达时间 24小时森林火灾扑灭率"
    assert missing_glyphs(label + "".join(LABELS["zh"].values())) == []
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    family = use_cjk_font()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # "Glyph … missing from font" would raise
        fig, ax = plt.subplots()
        ax.set_title(label)
        ax.set_xlabel(LABELS["zh"]["hours"])
        fig.savefig(tmp_path / "label.png")
        fig.savefig(tmp_path / "label.pdf")
        plt.close(fig)
    from matplotlib.font_manager import FontProperties, findfont

    assert "notosanscjk" in findfont(FontProperties(family=family)).lower()


@pytest.mark.parametrize(("lang", "formats"), [("zh", ("png", "svg", "pdf")), ("en", ("png",))])
def test_run_figures_are_real_images_in_every_format(run_dir: Path, tmp_path: Path,
                                                     cache_dir: Path, lang: str,
                                                     formats: tuple[str, ...]) -> None:
    paths = make_figures(run_dir, tmp_path / lang, lang=lang, cache_dir=cache_dir,
                         formats=formats)
    names = {p.stem for p in paths}
    assert names == {"map", "relief_ecdf", "arrivals", "timeline", "life_circle", "captions"}
    paths = [p for p in paths if p.suffix != ".txt"]
    for path in paths:
        assert path.stat().st_size > 5000, path
        if path.suffix == ".png":
            assert_real_image(path)
    if "svg" in formats:
        svg = (tmp_path / lang / "relief_ecdf.svg").read_text("utf-8")
        assert "<svg" in svg
        assert (tmp_path / lang / "map.pdf").read_bytes().startswith(b"%PDF")


def test_experiment_figures_include_comparison_and_sensitivity(experiment_dir: Path,
                                                               tmp_path: Path,
                                                               cache_dir: Path) -> None:
    paths = make_figures(experiment_dir, tmp_path, lang="zh", formats=("png",),
                         cache_dir=cache_dir)
    names = {p.stem for p in paths}
    assert {"comparison", "sensitivity", "relief_ecdf_all_replications", "map"} <= names
    for path in paths:
        if path.suffix == ".png":
            assert_real_image(path, min_px=500)


def test_report_is_self_contained_and_in_chinese(run_dir: Path,
                                                 cache_dir: Path, tmp_path: Path) -> None:
    for results in (run_dir,):  # (experiments: tests/test_draft_outputs.py)
        path = write_report(results, tmp_path / f"{results.name}.html", lang="zh",
                            cache_dir=cache_dir)
        page = path.read_text("utf-8")
        assert "受灾群众基本生活初步救助时间" in page and "达标" in page
        assert page.count("data:image/png;base64,") >= 4
        assert "@font-face" in page and "data:font/woff;base64," in page
        markup = re.sub(r"<script[^>]*>.*?</script>", "", page, flags=re.S)  # BokehJS
        assert not re.search(r"(src|href)=\"?https?://", markup)  # (requests: test_webmap)
        assert "http://" not in markup.replace("http://www.w3.org", "")
    from sim.report import Heading, build_blocks

    english = build_blocks(run_dir, [], lang="en", cache_dir=cache_dir, live=False)
    assert english[0] == Heading("Relief simulation report: " + read_run(run_dir)[1].name, 1)


def test_word_report_has_the_targets_ranking_and_figures(run_dir: Path,
                                                         cache_dir: Path,
                                                         tmp_path: Path) -> None:
    """The .docx for a plan draft: same sections and verdicts as the HTML, figures as pictures,
    Chinese text with an East Asian font named; it opens again with python-docx."""
    from docx import Document
    from docx.oxml.ns import qn
    from typer.testing import CliRunner

    from sim.cli import app

    result = CliRunner().invoke(app, ["report", str(run_dir), "--format", "docx",
                                      "--cache-dir", str(cache_dir)])
    assert result.exit_code == 0, result.output
    doc = Document(str(run_dir / "report_zh.docx"))
    text = "\n".join(p.text for p in doc.paragraphs)
    assert "应急救助仿真评估报告" in text and "结果" in text and "局限与说明" in text
    targets = next(t for t in doc.tables if t.rows[0].cells[0].text == "指标")
    kpis = pd.read_parquet(run_dir / "kpis.parquet")
    assert len(targets.rows) == len(kpis) + 1
    verdicts = [row.cells[-1].text for row in targets.rows[1:]]
    assert verdicts == ["无此类事件" if r.n == 0 else ("达标" if r.passed else "未达标")
                        for r in kpis.itertuples()]
    colours = {"达标": "1A7F37", "未达标": "CF222E", "无此类事件": "888888"}
    for row in targets.rows[1:]:  # every verdict in its colour
        cell = row.cells[-1]
        assert str(cell.paragraphs[0].runs[0].font.color.rgb) == colours[cell.text]
    pngs = make_figures(run_dir, tmp_path / "figs", lang="zh", formats=("png",),
                        cache_dir=cache_dir)
    assert len(doc.inline_shapes) == len([p for p in pngs if p.suffix == ".png"]) >= 4
    fonts = doc.styles["Normal"].element.rPr.rFonts
    assert fonts.get(qn("w:eastAsia")) == "宋体"

    with pytest.raises(ReliefsimError, match="--format"):
        write_report(run_dir, tmp_path / "x.odt", fmt="odt", cache_dir=cache_dir)


def test_embedded_font_is_a_small_subset() -> None:
    css = embedded_font_css("受灾群众")
    assert css.startswith("@font-face") and len(css) < 200_000


def test_gis_layers_reopen_with_the_right_rows_and_crs(run_dir: Path, cache_dir: Path,
                                                       tmp_path: Path) -> None:
    import geopandas as gpd
    import pandas as pd

    path = export_gis(run_dir, tmp_path / "out.gpkg", cache_dir=cache_dir)
    scenario = load_scenario(ROOT / "scenarios" / "helsinki_storm.yaml")
    expected = {"settlements": len(scenario.settlements), "depots": len(scenario.depots),
                "incidents": len(pd.read_parquet(run_dir / "incidents.parquet"))}
    for layer, rows in expected.items():
        frame = gpd.read_file(path, layer=layer)
        assert len(frame) == rows, layer
        assert frame.crs.to_epsg() == 4326
    settlements = gpd.read_file(path, layer="settlements")
    assert settlements.initial_max_h.notna().all() and (settlements["人口"] > 0).all()
