"""Vega-Lite chart specifications, rendered to SVG by vl-convert (no browser, no network).

vl-convert bundles the Vega and Vega-Lite JavaScript libraries in a native module, so the
SVG is drawn at build time and the page carries no script at all.

Example::

    spec = bar(rows, x="table", y="rules", color="outcome", title="Rules by table")
    svg = to_svg(spec)
"""

from __future__ import annotations

from typing import Any

PALETTE = {
    "ok": "#2e7d32",
    "Passed": "#2e7d32",
    "SUCCEEDED": "#2e7d32",
    "warn": "#f9a825",
    "Failed": "#c62828",
    "FAILED": "#c62828",
}
WIDTH, HEIGHT = 560, 220


def _base(rows: list[dict], title: str) -> dict[str, Any]:
    return {
        "title": title,
        "width": WIDTH,
        "height": HEIGHT,
        "data": {"values": rows},
        "config": {"font": "sans-serif", "view": {"stroke": None}, "axis": {"labelLimit": 220}},
    }


def _color(field: str | None, domain: list[str] | None = None) -> dict[str, Any]:
    if field is None:
        return {"value": "#1565c0"}
    encoding: dict[str, Any] = {"field": field, "type": "nominal"}
    if domain:
        encoding["scale"] = {"domain": domain, "range": [PALETTE.get(d, "#90a4ae") for d in domain]}
    return encoding


def bar(
    rows: list[dict],
    *,
    x: str,
    y: str,
    title: str,
    color: str | None = None,
    color_domain: list[str] | None = None,
    horizontal: bool = False,
    x_type: str = "nominal",
) -> dict[str, Any]:
    """A (stacked) bar chart; ``horizontal`` puts the categories on the y axis."""
    spec = _base(rows, title)
    category = {"field": x, "type": x_type, "sort": None if x_type == "temporal" else "-x"}
    value = {"field": y, "type": "quantitative", "aggregate": "sum", "title": y}
    if horizontal:
        spec["encoding"] = {"y": category, "x": value}
        spec["height"] = max(HEIGHT // 2, 18 * len({r[x] for r in rows}))
    else:
        category["sort"] = None
        spec["encoding"] = {"x": category, "y": value}
    spec["mark"] = {"type": "bar", "tooltip": True}
    spec["encoding"]["color"] = _color(color, color_domain)
    return spec


def line(rows: list[dict], *, x: str, y: str, title: str, color: str | None = None) -> dict[str, Any]:
    """Lines over time (``x`` a date), one per ``color`` value."""
    spec = _base(rows, title)
    spec["mark"] = {"type": "line", "point": True, "tooltip": True}
    spec["encoding"] = {
        "x": {"field": x, "type": "temporal", "title": x},
        "y": {"field": y, "type": "quantitative", "title": y},
        "color": _color(color),
    }
    return spec


def heatmap(rows: list[dict], *, x: str, y: str, value: str, title: str) -> dict[str, Any]:
    """Cells coloured by ``value`` (e.g. a retention triangle: cohort x period)."""
    spec = _base(rows, title)
    spec["mark"] = {"type": "rect", "tooltip": True}
    spec["encoding"] = {
        "x": {"field": x, "type": "ordinal"},
        "y": {"field": y, "type": "ordinal"},
        "color": {"field": value, "type": "quantitative", "scale": {"scheme": "blues"}},
    }
    return spec


def interval(
    rows: list[dict],
    *,
    category: str,
    estimate: str,
    low: str,
    high: str,
    title: str,
    color: str | None = None,
) -> dict[str, Any]:
    """Point estimates with their confidence intervals (e.g. an experiment's lift per metric)."""
    spec = _base(rows, title)
    spec["height"] = max(HEIGHT // 2, 28 * len({r[category] for r in rows}))
    y = {"field": category, "type": "nominal", "title": None}
    spec["layer"] = [
        {
            "mark": {"type": "rule", "strokeWidth": 2},
            "encoding": {
                "y": y,
                "x": {"field": low, "type": "quantitative", "title": estimate},
                "x2": {"field": high},
                "color": _color(color),
            },
        },
        {
            "mark": {"type": "point", "filled": True, "size": 60, "tooltip": True},
            "encoding": {"y": y, "x": {"field": estimate, "type": "quantitative"}, "color": _color(color)},
        },
        {"mark": {"type": "rule", "strokeDash": [4, 4], "color": "#616161"}, "encoding": {"x": {"datum": 0}}},
    ]
    return spec


def to_svg(spec: dict[str, Any]) -> str:
    """The chart as an SVG document (vl-convert: Vega-Lite compiled and drawn natively)."""
    import vl_convert

    return vl_convert.vegalite_to_svg(vl_spec=spec)
