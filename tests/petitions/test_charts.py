"""Server-side SVG charts (petitions/charts.py)."""

from __future__ import annotations

import re
from datetime import date
from xml.etree import ElementTree

import pytest
from django.utils import translation

from petitions.charts import Bar, Point, bar_chart, cumulative_chart, format_number, nice_ceiling

SVG = "{http://www.w3.org/2000/svg}"


def parse(svg: str) -> ElementTree.Element:
    return ElementTree.fromstring(svg)  # noqa: S314 - our own output, in a test


def test_a_bar_chart_is_an_image_named_by_its_title_and_description():
    svg = bar_chart(
        [Bar("Paris", 200, "200"), Bar("Lozère", 38, "38")],
        chart_id="c1",
        title="Most signatures",
        description="Bar chart of signatures by département.",
    )
    root = parse(svg)
    assert root.get("role") == "img"
    assert root.get("aria-labelledby") == "c1-title c1-desc"
    assert root.find(f"{SVG}title").get("id") == "c1-title"
    assert root.find(f"{SVG}title").text == "Most signatures"
    assert root.find(f"{SVG}desc").get("id") == "c1-desc"
    widths = [float(rect.get("width")) for rect in root.iter(f"{SVG}rect")]
    assert widths[0] > widths[1] > 0
    assert widths[0] / widths[1] == pytest.approx(200 / 38, rel=0.01)


def test_bar_chart_text_is_escaped():
    svg = bar_chart(
        [Bar("<script>alert(1)</script>", 1, "1 & more")],
        chart_id="c2",
        title='Title "quoted" <b>',
        description="d",
    )
    assert "<script>" not in svg
    assert "&lt;script&gt;" in svg
    assert "1 &amp; more" in svg
    parse(svg)  # still well-formed XML


def test_an_empty_chart_is_nothing():
    assert bar_chart([], chart_id="x", title="t", description="d") == ""
    assert cumulative_chart([], chart_id="x", title="t", description="d", format_day=str) == ""


def test_a_zero_value_draws_no_bar_and_a_tiny_value_stays_visible():
    root = parse(
        bar_chart(
            [Bar("Big", 10_000, "10,000"), Bar("Tiny", 1, "1"), Bar("None", 0, "0")],
            chart_id="c3",
            title="t",
            description="d",
        )
    )
    widths = [float(rect.get("width")) for rect in root.iter(f"{SVG}rect")]
    assert widths[1] >= 1.5
    assert widths[2] == 0


@translation.override("en")
def test_the_cumulative_chart_fills_quiet_days_and_labels_both_ends():
    svg = cumulative_chart(
        [Point(date(2025, 3, 1), 10), Point(date(2025, 3, 4), 25)],
        chart_id="t1",
        title="Signatures over time",
        description="d",
        format_day=lambda day: day.isoformat(),
    )
    root = parse(svg)
    line = root.find(f"{SVG}polyline").get("points").split()
    assert len(line) == 4  # 1, 2, 3 and 4 March
    ys = [float(point.split(",")[1]) for point in line]
    assert ys[0] == ys[1] == ys[2] > ys[3]  # flat over the quiet days, then up
    texts = [text.text for text in root.iter(f"{SVG}text")]
    assert "2025-03-01" in texts
    assert "2025-03-04" in texts
    assert texts[:3] == ["0", "12.5", "25"]  # the axis: zero, half way, a round maximum
    assert root.get("aria-labelledby") == "t1-title t1-desc"


def test_a_single_day_starts_from_zero_the_day_before():
    root = parse(
        cumulative_chart(
            [Point(date(2025, 3, 1), 7)],
            chart_id="t2",
            title="t",
            description="d",
            format_day=lambda day: day.isoformat(),
        )
    )
    assert len(root.find(f"{SVG}polyline").get("points").split()) == 2
    assert "2025-02-28" in [text.text for text in root.iter(f"{SVG}text")]


@pytest.mark.parametrize(
    ("value", "ceiling"),
    [(0, 1), (1, 1), (7, 10), (25, 25), (26, 50), (120, 200), (2_400, 2_500), (99_999, 100_000)],
)
def test_nice_ceiling(value, ceiling):
    assert nice_ceiling(value) == ceiling


def test_numbers_are_written_the_way_the_language_writes_them():
    with translation.override("en"):
        assert format_number(12345.67, 1) == "12,345.7"
    with translation.override("fr"):
        assert re.fullmatch(r"12\s345,7", format_number(12345.67, 1))
