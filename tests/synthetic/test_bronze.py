"""The synthetic Bronze generator: determinism, exact reports, Firehose layout, atomic placement."""

from __future__ import annotations

import gzip
import json
import re
from collections import Counter, defaultdict
from datetime import UTC, datetime
from pathlib import Path

import pytest
from lakehouse.synthetic import CHANNELS, GeneratorSpec, generate_bronze, write_bronze_file
from lakehouse.synthetic.bronze import MAX_RECORD_BYTES, _run_task

START = datetime(2025, 3, 1, tzinfo=UTC)
UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
NAME_RE = re.compile(
    r"^acme-[a-z-]+-1-(\d{4})-(\d{2})-(\d{2})-(\d{2})-\d{2}-\d{2}-[0-9a-f-]{36}\.json(\.gz)?$"
)
ISO_Z = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{3})?Z$")


def faulty_spec(**kw) -> GeneratorSpec:
    spec = GeneratorSpec(
        events=4000, start=START, hours=6, files_per_hour_per_channel=2, gzip_share=0.4, **kw
    )
    return spec.with_faults(
        duplicate_rate=0.05,
        conflict_rate=0.02,
        parse_error_rate=0.01,
        unknown_event_rate=0.01,
        schema_violation_rate=0.01,
        oversize_rate=0.003,
        invalid_utf8_rate=0.005,
        adapter_failure_rate=0.02,
    )


def files_of(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def lines_of(path: Path) -> list[bytes]:
    data = path.read_bytes()
    if path.name.endswith(".gz"):
        data = gzip.decompress(data)
    assert data == b"" or data.endswith(b"\n")
    return data.split(b"\n")[:-1] if data else []


def channel_lines(root: Path, channel: str) -> list[tuple[Path, bytes]]:
    base = root / "bronze" / channel
    return [(p, line) for p in sorted(base.rglob("*")) if p.is_file() for line in lines_of(p)]


@pytest.fixture(scope="module")
def faulty(tmp_path_factory):
    root = tmp_path_factory.mktemp("faulty")
    return root, generate_bronze(root, faulty_spec())


@pytest.fixture(scope="module")
def clean(tmp_path_factory):
    root = tmp_path_factory.mktemp("clean")
    spec = GeneratorSpec(events=3000, start=START, hours=4, late_rate=0.05)
    return root, generate_bronze(root, spec)


def test_same_seed_same_bytes(tmp_path, faulty):
    root, _ = faulty
    again = tmp_path / "again"
    generate_bronze(again, faulty_spec())
    assert files_of(root / "bronze") == files_of(again / "bronze")


def test_other_seed_other_bytes(tmp_path, faulty):
    root, _ = faulty
    other = tmp_path / "other"
    generate_bronze(other, faulty_spec(seed=8))
    assert files_of(root / "bronze") != files_of(other / "bronze")


def test_output_does_not_depend_on_how_hours_are_split(tmp_path, faulty):
    root, report = faulty
    split = tmp_path / "split"
    spec = faulty_spec()
    parts = [
        _run_task((str(split), spec, ch, h0, h1)) for ch in CHANNELS for h0, h1 in ((0, 1), (1, 4), (4, 6))
    ]
    assert files_of(root / "bronze") == files_of(split / "bronze")
    for ch in CHANNELS:
        assert sum(p.lines for p in parts if p.channel == ch) == report.channels[ch].lines


def test_report_counts_match_the_files(faulty):
    root, report = faulty
    for ch in CHANNELS:
        rep = report.channels[ch]
        files = [p for p in (root / "bronze" / ch).rglob("*") if p.is_file()]
        lines = channel_lines(root, ch)
        assert rep.files == len(files)
        assert rep.gzip_files == sum(p.name.endswith(".gz") for p in files)
        assert rep.lines == len(lines)
        assert rep.bytes == sum(len(line) + 1 for _, line in lines)
        assert rep.lines == (
            rep.expected_valid_unique
            + rep.expected_duplicates
            + rep.expected_conflicts
            + rep.expected_quarantined_total
        )
        assert sum(rep.valid_by_event.values()) == rep.expected_valid_unique
    assert report.lines > 3000
    assert report.total("expected_duplicates") > 0
    assert report.total("expected_conflicts") > 0
    assert set(report.expected_quarantined) >= {
        "parse_error",
        "schema_violation",
        "unknown_event",
        "adapter_failure",
    }


def test_physical_faults_are_where_the_report_says(faulty):
    root, report = faulty
    for ch in CHANNELS:
        faults = report.channels[ch].faults
        lines = [line for _, line in channel_lines(root, ch)]
        oversize = [line for line in lines if len(line) > MAX_RECORD_BYTES]
        assert len(oversize) == faults.get("oversize", 0)
        assert sum(b"\xff\xfe" in line for line in lines) == faults.get("invalid_utf8", 0)
        unparseable = 0
        for line in lines:
            try:
                json.loads(line)
            except ValueError:
                unparseable += 1
        assert unparseable == faults.get("parse_error", 0) + faults.get("invalid_utf8", 0)


def _identity(channel: str, rec: dict) -> tuple | None:
    p = rec.get("payload") if channel.startswith("webhooks/") else None
    if channel == "collect":
        return (rec.get("event_id"),)
    if channel == "eventbridge":
        return (rec["detail"].get("event_id"),)
    if channel == "webhooks/stripe":
        return (p.get("id"),)
    if channel == "webhooks/tax":
        return (p.get("reference"), p.get("type")) if "reference" in p else None
    if channel == "webhooks/esign":
        return (p.get("event_id"),) if "event_id" in p else None
    event = p.get(str(p.get("eventType", "")).lower(), {})
    return (p["mail"].get("messageId"), p.get("eventType"), event.get("timestamp"))


def _content(channel: str, rec: dict) -> str:
    transport = {"collect": ("received_at",), "eventbridge": ("id", "time")}.get(channel, ("received_at",))
    return json.dumps({k: v for k, v in rec.items() if k not in transport}, sort_keys=True)


def test_duplicates_and_conflicts_are_present_as_reported(faulty):
    root, report = faulty
    for ch in CHANNELS:
        contents: dict[tuple, list[str]] = defaultdict(list)
        for _, line in channel_lines(root, ch):
            if len(line) > MAX_RECORD_BYTES:
                continue
            try:
                rec = json.loads(line)
            except ValueError:
                continue
            key = _identity(ch, rec)
            if key is not None:
                contents[key].append(_content(ch, rec))
        duplicates = sum(len(v) - len(set(v)) for v in contents.values())
        conflicts = sum(len(set(v)) - 1 for v in contents.values())
        rep = report.channels[ch]
        assert (duplicates, conflicts) == (rep.expected_duplicates, rep.expected_conflicts), ch


def test_conflicts_arrive_in_a_later_hour_than_the_first_version(faulty):
    root, report = faulty
    seen: dict[str, tuple[str, str]] = {}
    later = 0
    for path, line in channel_lines(root, "collect"):
        try:
            rec = json.loads(line)
        except ValueError:
            continue
        hour = "/".join(path.parts[-5:-1])
        first = seen.setdefault(rec["event_id"], (hour, _content("collect", rec)))
        if first[1] != _content("collect", rec):
            assert hour > first[0]
            later += 1
    assert later == report.channels["collect"].expected_conflicts


def test_gzip_files_are_readable(faulty):
    root, report = faulty
    gz = list((root / "bronze").rglob("*.json.gz"))
    assert gz and len(gz) == report.total("gzip_files")
    for p in gz:
        assert gzip.decompress(p.read_bytes())


def test_firehose_layout_and_no_temporary_files_left(faulty):
    root, _ = faulty
    for p in (root / "bronze").rglob("*"):
        assert not p.name.startswith((".", "_")), p
        if p.is_file():
            rel = p.relative_to(root / "bronze")
            channel = "/".join(rel.parts[:-5])
            assert channel in CHANNELS
            m = NAME_RE.match(p.name)
            assert m, p.name
            assert list(m.groups()[:4]) == list(rel.parts[-5:-1])  # first record's arrival hour = folder


def test_clean_lines_parse_and_carry_their_envelope(clean):
    root, report = clean
    assert report.expected_quarantined == {}
    assert report.total("expected_duplicates") == report.total("expected_conflicts") == 0
    assert report.total("late_events") > 0
    for ch in CHANNELS:
        names: Counter[str] = Counter()
        for path, line in channel_lines(root, ch):
            assert len(line) < 16_384
            rec = json.loads(line)
            folder_hour = "-".join(path.parts[-5:-2]) + "T" + path.parts[-2]
            if ch == "collect":
                assert UUID_RE.match(rec["event_id"]) and UUID_RE.match(rec["anon_id"])
                for key in ("occurred_at", "sent_at", "received_at"):
                    assert ISO_Z.match(rec[key])
                assert rec["occurred_at"] <= rec["sent_at"] <= rec["received_at"]
                assert rec["received_at"].startswith(folder_hour)
                assert set(rec["context"]) == {"app", "locale", "user_agent", "ip"}
                assert isinstance(rec["event_version"], int) and isinstance(rec["payload"], dict)
                names[f"{rec['event_name']}.v{rec['event_version']}"] += 1
            elif ch == "eventbridge":
                assert rec["version"] == "0" and UUID_RE.match(rec["id"])
                assert rec["source"].startswith("com.acme.") and rec["account"] == "123456789012"
                assert rec["region"] == "eu-west-1" and rec["resources"] == [] and ISO_Z.match(rec["time"])
                d = rec["detail"]
                assert d["event_name"] == rec["detail-type"] and UUID_RE.match(d["event_id"])
                assert d["event_version"] == 1 and ISO_Z.match(d["occurred_at"]) and d["user_id"]
                if d["event_name"].startswith(("lbg_", "leg_")):
                    assert d["lbg_id"]
                for key in ("amount_minor", "total_minor", "price_minor"):
                    if key in d["payload"]:
                        assert isinstance(d["payload"][key], int) and d["payload"][key] > 0
                        assert d["payload"]["currency"] in {"EUR", "GBP", "USD", "JPY"}
                names[d["event_name"] + ".v1"] += 1
            else:
                assert rec["provider"] == ch.split("/")[1] and rec["signature_verified"] is True
                assert ISO_Z.match(rec["received_at"]) and rec["received_at"].startswith(folder_hour)
                p = rec["payload"]
                if ch == "webhooks/stripe":
                    assert (
                        p["id"].startswith("evt_")
                        and p["object"] == "event"
                        and isinstance(p["created"], int)
                    )
                    obj = p["data"]["object"]
                    assert obj["id"].split("_")[0] in {"ch", "re", "dp", "po"} and isinstance(
                        obj["amount"], int
                    )
                    assert obj["currency"] in {"usd", "eur", "gbp", "jpy"}
                    if obj["currency"] == "jpy":
                        assert obj["amount"] % 100 == 0
                    names[p["type"]] += 1
                elif ch == "webhooks/tax":
                    assert p["type"] in {"transaction", "reversal"} and p["line_items"]
                    sign = 1 if p["type"] == "transaction" else -1
                    assert all(sign * it["amount"] >= 0 for it in p["line_items"])
                    names[p["type"]] += 1
                elif ch == "webhooks/esign":
                    assert UUID_RE.match(p["event_id"]) and p["envelope"]["envelope_id"]
                    names[p["event_type"]] += 1
                else:
                    mail = p["mail"]
                    assert (
                        p["eventType"].lower() in p and mail["messageId"] and ISO_Z.match(mail["timestamp"])
                    )
                    assert set(mail["commonHeaders"]) == {"from", "to", "messageId", "subject"}
                    names[p["eventType"]] += 1
        assert dict(names) == report.channels[ch].valid_by_event, ch


def test_generated_pii_looks_like_user_input(clean):
    root, _ = clean
    text = b"".join(line for _, line in channel_lines(root, "collect")).decode()
    assert re.search(r'"email":"[A-Z][a-z]+\.[A-Za-z]+(\+[a-z]+)?@', text)
    assert re.search(r"\+44 20 7946 0\d{3}|\(415\) 555-01\d\d|\+44 7700 900\d{3}", text + _all(root))


def _all(root: Path) -> str:
    return "".join(line.decode() for ch in CHANNELS for _, line in channel_lines(root, ch))


def test_write_bronze_file_places_hand_made_files(tmp_path):
    hour = datetime(2025, 3, 1, 10, tzinfo=UTC)
    p = write_bronze_file(tmp_path, "webhooks/ses", hour, ['{"a": 1}', b'{"b": 2}'])
    assert p.parent == tmp_path / "bronze/webhooks/ses/2025/03/01/10"
    assert NAME_RE.match(p.name) and p.read_bytes() == b'{"a": 1}\n{"b": 2}\n'
    empty = write_bronze_file(tmp_path, "collect", hour, [], name="empty.json")
    assert empty.name == "empty.json" and empty.read_bytes() == b""
    gz = write_bronze_file(tmp_path, "collect", hour, [b"\xff\xfe{"], gzip=True)
    assert gz.name.endswith(".json.gz") and gzip.decompress(gz.read_bytes()) == b"\xff\xfe{\n"
    assert not list(tmp_path.rglob(".*"))
    with pytest.raises(ValueError):
        write_bronze_file(tmp_path, "webhooks/paypal", hour, [])
    with pytest.raises(ValueError):
        write_bronze_file(tmp_path, "collect", datetime(2025, 3, 1, 10), [])


def test_spec_validation():
    with pytest.raises(ValueError):
        GeneratorSpec(events=10, start=datetime(2025, 3, 1), hours=1)
    with pytest.raises(ValueError):
        GeneratorSpec(events=10, start=START, hours=1, mix={"kafka": 1.0})
    with pytest.raises(ValueError):
        GeneratorSpec(events=10, start=START, hours=1, duplicate_rate=1.5)
    spec = GeneratorSpec(events=10, start=datetime(2025, 3, 1, 10, 42, tzinfo=UTC), hours=1)
    assert spec.start == datetime(2025, 3, 1, 10, tzinfo=UTC)


def exposures_of(root: Path) -> list[dict]:
    records = (json.loads(line) for _, line in channel_lines(root, "collect"))
    return [r for r in records if r["event_name"] == "experiment_exposed"]


def test_exposures_follow_the_registry_and_growthbooks_hash_but_for_the_mislogged_units(tmp_path):
    from lakehouse.experiments.registry import load_registry
    from lakehouse.synthetic.experiments import hashed_variation

    generate_bronze(tmp_path, GeneratorSpec(events=6000, start=datetime(2026, 11, 10, tzinfo=UTC), hours=6))
    registry = load_registry()
    exposures = exposures_of(tmp_path)
    assert {e["payload"]["experiment_key"] for e in exposures} == set(registry)
    mislogged = set()
    for e in exposures:
        experiment = registry[e["payload"]["experiment_key"]]
        unit = e.get(experiment.hash_attribute)
        assert unit, e  # an experiment hashed on user_id is only logged for signed-in users
        at = datetime.fromisoformat(e["occurred_at"].replace("Z", "+00:00"))
        if e["payload"]["variant"] != hashed_variation(experiment, experiment.phase_at(at), unit):
            mislogged.add((experiment.key, unit))
    units = {(e["payload"]["experiment_key"], e.get(registry[e["payload"]["experiment_key"]].hash_attribute))
             for e in exposures}  # fmt: skip
    assert 0 < len(mislogged) < 0.04 * len(units)


def test_no_exposure_is_logged_before_any_experiment_runs(tmp_path):
    generate_bronze(tmp_path, GeneratorSpec(events=1500, start=START, hours=2))
    assert exposures_of(tmp_path) == []
