"""The workflow graph: the steps of a workflow, their order and their conditions, as data.

``workflows/<name>.yaml`` declares it once; the local runner executes it and the tests check
the Glue workflow and triggers of the CloudFormation templates against it.

Example::

    graph = load_graph("daily")
    graph.order()                          # ('bronze_to_silver', 'silver_to_gold', ...)
    graph.downstream("silver_to_gold")     # ('silver_to_gold', 'finance_close', 'bi_refresh')
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import yaml

from lakehouse.assets import asset_dir

STEP_KINDS = ("job", "bi_refresh")
CONDITIONS = ("close_published",)


class GraphError(ValueError):
    """A workflow file that does not describe a valid graph."""


@dataclass(frozen=True)
class Step:
    """One node of the graph: a Glue job, or the BI refresh after the close."""

    name: str
    kind: str
    after: tuple[str, ...] = ()
    start: str | None = None  # "scheduled" for the step the schedule starts
    when: str | None = None  # an extra condition, checked when the step is reached
    datasets_parameter: str | None = None  # bi_refresh: the parameter naming the SPICE data sets
    description: str = ""


@dataclass(frozen=True)
class WorkflowGraph:
    name: str
    description: str
    schedule_parameter: str
    steps: tuple[Step, ...]
    on_demand: tuple[Step, ...] = field(default=())

    def step(self, name: str) -> Step:
        for step in self.steps:
            if step.name == name:
                return step
        raise GraphError(f"no step {name!r} in workflow {self.name!r}; steps: {', '.join(self.names())}")

    def names(self) -> tuple[str, ...]:
        return tuple(s.name for s in self.steps)

    def jobs(self) -> tuple[str, ...]:
        """The scheduled jobs, in run order."""
        return tuple(s.name for s in self.order_steps() if s.kind == "job")

    def start_step(self) -> Step:
        return next(s for s in self.steps if s.start == "scheduled")

    def order_steps(self) -> tuple[Step, ...]:
        """Steps in a topological order (declaration order breaks ties)."""
        done: list[Step] = []
        pending = list(self.steps)
        while pending:
            ready = next(s for s in pending if all(a in {d.name for d in done} for a in s.after))
            done.append(ready)
            pending.remove(ready)
        return tuple(done)

    def order(self) -> tuple[str, ...]:
        return tuple(s.name for s in self.order_steps())

    def downstream(self, name: str) -> tuple[str, ...]:
        """``name`` and every step that (transitively) runs after it, in run order."""
        self.step(name)
        reached = {name}
        for step in self.order_steps():
            if any(a in reached for a in step.after):
                reached.add(step.name)
        return tuple(n for n in self.order() if n in reached)


def _step(raw: dict, source: str) -> Step:
    unknown = set(raw) - {"name", "kind", "after", "start", "when", "datasets_parameter", "description"}
    if unknown:
        raise GraphError(f"{source}: step {raw.get('name')!r} has unknown keys {sorted(unknown)}")
    if not raw.get("name"):
        raise GraphError(f"{source}: a step without a name")
    return Step(
        name=str(raw["name"]),
        kind=str(raw.get("kind", "job")),
        after=tuple(raw.get("after") or ()),
        start=raw.get("start"),
        when=raw.get("when"),
        datasets_parameter=raw.get("datasets_parameter"),
        description=str(raw.get("description", "")),
    )


def parse_graph(doc: dict, source: str = "<workflow>") -> WorkflowGraph:
    """Build and validate a graph from the parsed YAML of a workflow file."""
    steps = tuple(_step(s, source) for s in doc.get("steps") or ())
    graph = WorkflowGraph(
        name=str(doc.get("name", "")),
        description=str(doc.get("description", "")),
        schedule_parameter=str(doc.get("schedule_parameter", "")),
        steps=steps,
        on_demand=tuple(_step({"kind": "job", **s}, source) for s in doc.get("on_demand") or ()),
    )
    problems = graph_problems(graph)
    if problems:
        raise GraphError(f"{source}: " + "; ".join(problems))
    return graph


def graph_problems(graph: WorkflowGraph) -> list[str]:
    """What makes a graph unusable (empty when it is valid)."""
    problems = []
    names = [s.name for s in graph.steps] + [s.name for s in graph.on_demand]
    for dup in sorted({n for n in names if names.count(n) > 1}):
        problems.append(f"step {dup!r} declared twice")
    starts = [s.name for s in graph.steps if s.start == "scheduled"]
    if len(starts) != 1:
        problems.append(f"exactly one step must have start: scheduled, found {starts}")
    for step in graph.steps:
        if step.kind not in STEP_KINDS:
            problems.append(f"{step.name}: kind must be one of {STEP_KINDS}, got {step.kind!r}")
        if step.when is not None and step.when not in CONDITIONS:
            problems.append(f"{step.name}: unknown condition {step.when!r} (known: {', '.join(CONDITIONS)})")
        if step.kind == "bi_refresh" and not step.datasets_parameter:
            problems.append(f"{step.name}: a bi_refresh step names its datasets_parameter")
        if step.start and step.after:
            problems.append(f"{step.name}: the scheduled start cannot also wait on {list(step.after)}")
        if not step.start and not step.after:
            problems.append(f"{step.name}: neither scheduled nor after another step: it would never run")
        for upstream in step.after:
            if upstream not in {s.name for s in graph.steps}:
                problems.append(f"{step.name}: waits on unknown step {upstream!r}")
    if not problems:
        seen: set[str] = set()
        pending = list(graph.steps)
        while pending:
            ready = [s for s in pending if all(a in seen for a in s.after)]
            if not ready:
                problems.append(f"a cycle among {sorted(s.name for s in pending)}")
                break
            for s in ready:
                seen.add(s.name)
                pending.remove(s)
    return problems


def workflow_file(name: str = "daily") -> Path:
    return asset_dir("workflows") / f"{name}.yaml"


def load_graph(name: str = "daily", path: Path | None = None) -> WorkflowGraph:
    """The graph of ``workflows/<name>.yaml`` (or of the file ``path``)."""
    source = path or workflow_file(name)
    doc = yaml.safe_load(source.read_text(encoding="utf-8")) or {}
    return parse_graph(doc, str(source))
