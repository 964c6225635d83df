"""Mart specs: offsets from parameters, self-contradictions caught, dependency order."""

import pytest
from lakehouse.marts import MartDefinitionError, parse_spec
from lakehouse.marts.spec import order_by_dependencies


def raw(name="m", **overrides):
    spec = {
        "name": name,
        "description": "d",
        "grain": "one row per date",
        "keys": ["date"],
        "date_column": "date",
        "publish": "replace_dates",
        "build": "x:y",
        "columns": [{"name": "date", "type": "date", "description": "UTC date"}],
        "inputs": [
            {"table": "silver.events", "dates": ["event_date"], "offsets": ["1 - mau_window_days", 0]}
        ],
    }
    spec.update(overrides)
    return spec


def test_offsets_are_integer_expressions_of_parameters():
    spec = parse_spec(raw(), params={"mau_window_days": 28})
    assert spec.inputs[0].offsets == (-27, 0)
    assert spec.inputs[0].read_column == "event_date"
    assert spec.horizon == ("silver.events", "event_date")
    with pytest.raises(MartDefinitionError, match="unknown parameter 'mau_window_days'"):
        parse_spec(raw())
    with pytest.raises(MartDefinitionError, match="not an integer expression"):
        parse_spec(raw(inputs=[{"table": "silver.events", "offsets": ["__import__('os')", 0]}]))


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"keys": ["day"]}, "keys names unknown columns"),
        ({"publish": "append"}, "publish must be one of"),
        ({"date_column": None}, "replace_dates needs a date_column"),
        ({"columns": [{"name": "date", "type": "date"}]}, "without a description"),
        ({"inputs": [{"table": "events"}]}, "<layer>.<table>"),
        ({"inputs": [{"table": "silver.events", "offsets": [1, 0]}]}, "lo <= hi"),
    ],
)
def test_a_spec_that_contradicts_itself_is_refused(overrides, message):
    with pytest.raises(MartDefinitionError, match=message):
        parse_spec(raw(**overrides), params={"mau_window_days": 28})


def test_marts_come_after_the_marts_they_read():
    params = {"mau_window_days": 28}
    a = parse_spec(raw("a"), params=params)
    b = parse_spec(raw("b", inputs=[{"table": "gold.a", "dates": ["date"]}]), params=params)
    c = parse_spec(raw("c", inputs=[{"table": "gold.b", "dates": ["date"]}]), params=params)
    assert [s.name for s in order_by_dependencies([c, b, a])] == ["a", "b", "c"]
    loop = parse_spec(raw("a", inputs=[{"table": "gold.c", "dates": ["date"]}]), params=params)
    with pytest.raises(MartDefinitionError, match="cycle"):
        order_by_dependencies([loop, b, c])
