"""The workflow graph as data, and the CloudFormation workflow checked against it."""

from __future__ import annotations

import copy
import sys
from pathlib import Path

import pytest
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "infra"))
from cfn_checks import load_all, workflow_graph_problems
from lakehouse.jobs import JOB_NAMES
from lakehouse.workflow.graph import GraphError, load_graph, parse_graph, workflow_file

TEMPLATES = load_all()
GRAPH = load_graph("daily")


def doc() -> dict:
    return yaml.safe_load(workflow_file("daily").read_text())


def test_the_daily_graph_runs_the_jobs_then_the_bi_refresh_after_the_close():
    assert GRAPH.order() == ("bronze_to_silver", "silver_to_gold", "finance_close", "bi_refresh")
    assert GRAPH.jobs() == ("bronze_to_silver", "silver_to_gold", "finance_close")
    bi = GRAPH.step("bi_refresh")
    assert (bi.after, bi.when, bi.datasets_parameter) == (
        ("finance_close",),
        "close_published",
        "QuickSightDataSetIds",
    )
    assert [s.name for s in GRAPH.on_demand] == ["replay_quarantine"]
    assert set(GRAPH.jobs()) <= set(JOB_NAMES)


def test_downstream_is_the_step_and_everything_after_it():
    assert GRAPH.downstream("silver_to_gold") == ("silver_to_gold", "finance_close", "bi_refresh")
    assert GRAPH.downstream("bi_refresh") == ("bi_refresh",)
    with pytest.raises(GraphError, match="no step 'gold'"):
        GRAPH.downstream("gold")


def test_a_diamond_graph_orders_and_reaches_both_branches():
    graph = parse_graph(
        {
            "name": "d",
            "steps": [
                {"name": "a", "start": "scheduled"},
                {"name": "b", "after": ["a"]},
                {"name": "c", "after": ["a"]},
                {"name": "d", "after": ["b", "c"]},
            ],
        }
    )
    assert graph.order() == ("a", "b", "c", "d")
    assert graph.downstream("b") == ("b", "d")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d["steps"][1].update(after=["nope"]), "unknown step 'nope'"),
        (lambda d: d["steps"][0].update(after=["finance_close"]), "cannot also wait"),
        (lambda d: d["steps"][1].update(after=["finance_close"]), "cycle"),
        (lambda d: d["steps"][1].update(after=[]), "never run"),
        (lambda d: d["steps"][3].update(when="sunny"), "unknown condition"),
        (lambda d: d["steps"][3].pop("datasets_parameter"), "datasets_parameter"),
        (lambda d: d["steps"].append(dict(d["steps"][1])), "declared twice"),
        (lambda d: d["steps"][2].update(retries=3), "unknown keys"),
    ],
)
def test_invalid_graphs_are_refused_with_the_reason(change, message):
    broken = doc()
    change(broken)
    with pytest.raises(GraphError, match=message):
        parse_graph(broken)


def test_the_glue_workflow_and_the_spice_rule_match_the_graph():
    assert workflow_graph_problems(GRAPH, TEMPLATES["glue"], TEMPLATES["analytics"]) == []


def _mutated(template):
    return copy.deepcopy(template)


def test_the_check_catches_a_template_that_drifts_from_the_graph():
    glue = _mutated(TEMPLATES["glue"])  # finance_close now waits on bronze_to_silver
    glue["Resources"]["FinanceCloseTrigger"]["Properties"]["Predicate"]["Conditions"][0]["JobName"] = {
        "Ref": "BronzeToSilverJob"
    }
    assert any(
        "finance_close: its trigger waits on" in p
        for p in workflow_graph_problems(GRAPH, glue, TEMPLATES["analytics"])
    )

    glue = _mutated(TEMPLATES["glue"])
    del glue["Resources"]["SilverToGoldTrigger"]
    assert any(
        "silver_to_gold: no conditional trigger" in p
        for p in workflow_graph_problems(GRAPH, glue, TEMPLATES["analytics"])
    )

    glue = _mutated(TEMPLATES["glue"])
    glue["Resources"]["StartTrigger"]["Properties"]["Actions"] = [{"JobName": {"Ref": "SilverToGoldJob"}}]
    assert any(
        "the schedule starts" in p for p in workflow_graph_problems(GRAPH, glue, TEMPLATES["analytics"])
    )

    analytics = _mutated(TEMPLATES["analytics"])
    rule = analytics["Resources"]["FinanceCloseSucceededRule"]["Properties"]["EventPattern"]["detail"]
    rule["jobName"] = [{"Fn::Sub": "lakehouse-${Env}-silver_to_gold"}]
    assert any(
        "bi_refresh: expected one rule" in p
        for p in workflow_graph_problems(GRAPH, TEMPLATES["glue"], analytics)
    )

    analytics = _mutated(TEMPLATES["analytics"])
    variables = analytics["Resources"]["SpiceRefreshFunction"]["Properties"]["Environment"]["Variables"]
    variables["DATASET_IDS"] = "one-fixed-dataset"
    assert any("DATASET_IDS" in p for p in workflow_graph_problems(GRAPH, TEMPLATES["glue"], analytics))


def test_an_on_demand_job_may_be_a_template_job_but_no_trigger_starts_it():
    glue = _mutated(TEMPLATES["glue"])
    replay = copy.deepcopy(glue["Resources"]["SilverToGoldJob"])
    replay["Properties"]["Name"] = {"Fn::Sub": "lakehouse-${Env}-replay_quarantine"}
    glue["Resources"]["ReplayQuarantineJob"] = replay
    assert workflow_graph_problems(GRAPH, glue, TEMPLATES["analytics"]) == []
    glue["Resources"]["FinanceCloseTrigger"]["Properties"]["Actions"].append(
        {"JobName": {"Ref": "ReplayQuarantineJob"}}
    )
    problems = workflow_graph_problems(GRAPH, glue, TEMPLATES["analytics"])
    assert any("replay_quarantine is on demand" in p for p in problems)
