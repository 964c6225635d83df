"""Deterministic generator of realistic Bronze files for all six channels.

The generator writes newline-delimited JSON the way Firehose lands it: one folder per UTC
*arrival* hour, ``bronze/<channel>/YYYY/MM/DD/HH/<stream>-1-YYYY-MM-DD-HH-mm-ss-<uuid>.json[.gz]``,
each file placed atomically (written under a dot-prefixed temporary name in the same
folder, then ``os.replace``-d). The same :class:`GeneratorSpec` always gives the same bytes,
whatever the number of worker processes.

The returned :class:`GenerationReport` says, per channel, how many lines were written and
what the bronze_to_silver job is expected to make of them: new valid events, exact
duplicates (same event, retried delivery), conflicts (same event id, different payload;
always arriving in a later hour than the first version, which is the one to keep) and
quarantined records by error type. The counts are tallied from the lines actually
written, so they are exact.

Example::

    spec = GeneratorSpec(events=5_000, start=datetime(2025, 3, 1, tzinfo=UTC), hours=6).with_faults()
    report = generate_bronze("/tmp/lake", spec)
    report.channels["collect"].expected_valid_unique

How a story becomes lines: each channel has a number of "stories" (a page view; a booking
with its legs, payment and completion; a Stripe charge with its refund...), spread evenly
over the arrival window. Each story is a pure function of ``(seed, channel, index)``, so a
worker handling hours ``[h0, h1)`` rebuilds every story that can reach those hours
(anchors up to the channel's maximum lag earlier) and keeps the lines arriving inside
them. Memory is bounded by one hour of one channel.
"""

from __future__ import annotations

import dataclasses
import gzip as _gzip
import json
import logging
import math
import os
import time
import uuid
from collections import Counter
from collections.abc import Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from multiprocessing import get_context
from pathlib import Path
from random import Random
from typing import Any

from lakehouse.lake.paths import BRONZE_CHANNELS
from lakehouse.synthetic import _channels as chan
from lakehouse.synthetic import _values as fake

log = logging.getLogger(__name__)

CHANNELS: tuple[str, ...] = BRONZE_CHANNELS
MAX_RECORD_BYTES = 262_144  # the job's default max_record_bytes; oversize lines are larger

DEFAULT_MIX: dict[str, float] = {
    "collect": 0.70,
    "eventbridge": 0.18,
    "webhooks/stripe": 0.06,
    "webhooks/tax": 0.02,
    "webhooks/esign": 0.01,
    "webhooks/ses": 0.03,
}

# Firehose delivery stream name per channel (file names start with it).
STREAM_NAMES: dict[str, str] = {
    "collect": "acme-collect",
    "eventbridge": "acme-eventbridge",
    "webhooks/stripe": "acme-webhooks-stripe",
    "webhooks/tax": "acme-webhooks-tax",
    "webhooks/esign": "acme-webhooks-esign",
    "webhooks/ses": "acme-webhooks-ses",
}

# Fault kinds (the spec's ``*_rate`` fields) and the quarantine error_type the job is
# expected to give them. Only this table needs to change if the job names them otherwise.
FAULT_KINDS = (
    "parse_error",
    "unknown_event",
    "schema_violation",
    "oversize",
    "invalid_utf8",
    "adapter_failure",
)
ERROR_TYPE_OF_FAULT: dict[str, str] = {
    "parse_error": "parse_error",
    "unknown_event": "unknown_event",
    "schema_violation": "schema_violation",
    "oversize": "size_violation",
    "invalid_utf8": "parse_error",  # the reader turns invalid UTF-8 into U+FFFD
    "adapter_failure": "adapter_failure",
}

# Longest delay of a redelivery after the first delivery, per channel.
_DUP_MAX_LAG_MS = {
    "collect": 6 * chan.HOUR,
    "eventbridge": 24 * chan.HOUR,
    "webhooks/stripe": 72 * chan.HOUR,
    "webhooks/tax": 24 * chan.HOUR,
    "webhooks/esign": 24 * chan.HOUR,
    "webhooks/ses": 24 * chan.HOUR,
}
_SMALL_JOB_EVENTS = 60_000  # below this, generate in-process (process start-up costs more)


@dataclass(frozen=True)
class GeneratorSpec:
    """What to generate. Rates are per source record (each fault replaces a record by a bad one;
    duplicates and conflicts are extra lines on top of ``events``)."""

    events: int  # source records over all channels (valid + quarantined), approximately
    start: datetime  # first arrival hour (UTC; floored to the hour)
    hours: int  # arrival hours spanned
    seed: int = 7
    files_per_hour_per_channel: int = 1
    gzip_share: float = 0.3  # share of files written gzip-compressed
    mix: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_MIX))
    duplicate_rate: float = 0.0  # exact redelivery of an earlier event
    conflict_rate: float = 0.0  # same event id, different payload, in a later hour
    late_rate: float = 0.0  # occurred_at 1 hour to 6 days before arrival
    parse_error_rate: float = 0.0  # truncated JSON
    unknown_event_rate: float = 0.0  # unknown event name or version
    schema_violation_rate: float = 0.0  # missing field, wrong type, negative amount, bad enum
    oversize_rate: float = 0.0  # a line larger than 256 KiB
    invalid_utf8_rate: float = 0.0  # raw bytes 0xff 0xfe inside a line
    adapter_failure_rate: float = 0.0  # webhook body of an unsupported provider shape

    def __post_init__(self) -> None:
        if self.events < 0 or self.hours < 1 or self.files_per_hour_per_channel < 1:
            raise ValueError("events must be >= 0, hours and files_per_hour_per_channel >= 1")
        if self.start.tzinfo is None:
            raise ValueError("start must be timezone-aware (UTC)")
        start = self.start.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
        object.__setattr__(self, "start", start)
        unknown = set(self.mix) - set(CHANNELS)
        if unknown:
            raise ValueError(f"unknown channel(s) in mix: {sorted(unknown)}; channels are {CHANNELS}")
        if any(v < 0 for v in self.mix.values()) or sum(self.mix.values()) <= 0:
            raise ValueError("mix shares must be >= 0 and not all 0")
        object.__setattr__(self, "mix", dict(self.mix))
        rates = [f.name for f in dataclasses.fields(self) if f.name.endswith("_rate")] + ["gzip_share"]
        for name in rates:
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"{name} must be within [0, 1]")
        if sum(getattr(self, f"{k}_rate") for k in FAULT_KINDS) > 1.0:
            raise ValueError("fault rates add up to more than 1")

    def with_faults(self, **overrides: float) -> GeneratorSpec:
        """This spec with every fault switched on at a rate a demo or test can see."""
        rates = {
            "duplicate_rate": 0.03,
            "conflict_rate": 0.005,
            "late_rate": 0.02,
            "parse_error_rate": 0.003,
            "unknown_event_rate": 0.003,
            "schema_violation_rate": 0.005,
            "oversize_rate": 0.001,
            "invalid_utf8_rate": 0.002,
            "adapter_failure_rate": 0.01,
        }
        rates.update(overrides)
        return dataclasses.replace(self, **rates)

    def stories(self, channel: str) -> int:
        """Number of stories of a channel (its source records / mean records per story)."""
        share = self.mix.get(channel, 0.0) / sum(self.mix.values())
        return round(self.events * share / chan.MEAN_EVENTS_PER_STORY[channel])

    def to_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d["start"] = self.start.isoformat().replace("+00:00", "Z")
        return d


@dataclass
class ChannelReport:
    """Lines written to one channel and what the job is expected to make of them."""

    channel: str
    files: int = 0
    gzip_files: int = 0
    lines: int = 0
    bytes: int = 0  # uncompressed, newlines included
    expected_valid_unique: int = 0  # distinct valid events: the rows Silver gets
    expected_duplicates: int = 0  # redeliveries of a valid event with the same content
    expected_conflicts: int = 0  # same event id, different payload (the first version is kept)
    expected_quarantined: dict[str, int] = field(default_factory=dict)  # by error_type
    faults: dict[str, int] = field(default_factory=dict)  # by fault kind (spec field names)
    valid_by_event: dict[str, int] = field(default_factory=dict)  # distinct valid events by name
    late_events: int = 0  # distinct valid events whose occurred_at is >= 1 hour before arrival

    @property
    def expected_quarantined_total(self) -> int:
        return sum(self.expected_quarantined.values())

    def merge(self, other: ChannelReport) -> None:
        for name in (
            "files",
            "gzip_files",
            "lines",
            "bytes",
            "expected_valid_unique",
            "expected_duplicates",
            "expected_conflicts",
            "late_events",
        ):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        for name in ("expected_quarantined", "faults", "valid_by_event"):
            merged = Counter(getattr(self, name))
            merged.update(getattr(other, name))
            setattr(self, name, dict(sorted(merged.items())))


@dataclass
class GenerationReport:
    """Outcome of :func:`generate_bronze`: per channel lines and expected job outcomes."""

    lake_root: str
    spec: GeneratorSpec
    channels: dict[str, ChannelReport]
    seconds: float = 0.0

    def total(self, name: str) -> int:
        """Sum of a numeric :class:`ChannelReport` field (or ``expected_quarantined_total``) over channels."""
        return sum(getattr(c, name) for c in self.channels.values())

    @property
    def lines(self) -> int:
        return self.total("lines")

    @property
    def expected_quarantined(self) -> dict[str, int]:
        merged: Counter[str] = Counter()
        for c in self.channels.values():
            merged.update(c.expected_quarantined)
        return dict(sorted(merged.items()))

    def to_dict(self) -> dict[str, Any]:
        return {
            "lake_root": self.lake_root,
            "spec": self.spec.to_dict(),
            "seconds": round(self.seconds, 3),
            "totals": {
                name: self.total(name)
                for name in (
                    "files",
                    "gzip_files",
                    "lines",
                    "bytes",
                    "expected_valid_unique",
                    "expected_duplicates",
                    "expected_conflicts",
                    "expected_quarantined_total",
                    "late_events",
                )
            },
            "channels": {
                ch: {**dataclasses.asdict(r), "expected_quarantined_total": r.expected_quarantined_total}
                for ch, r in self.channels.items()
            },
        }


# ---------------------------------------------------------------------------------------------
# Placement of files


def bronze_dir(lake_root: str | Path, channel: str, arrival_hour: datetime) -> Path:
    """``<lake_root>/bronze/<channel>/YYYY/MM/DD/HH`` of an arrival hour (UTC)."""
    if channel not in CHANNELS:
        raise ValueError(f"unknown channel {channel!r}; channels are {CHANNELS}")
    h = _utc(arrival_hour)
    return Path(lake_root) / "bronze" / channel / f"{h:%Y}" / f"{h:%m}" / f"{h:%d}" / f"{h:%H}"


def firehose_name(channel: str, first_arrival: datetime, file_uuid: str, *, gzip: bool) -> str:
    """Firehose object name: ``<stream>-1-YYYY-MM-DD-HH-mm-ss-<uuid>.json[.gz]``."""
    t = _utc(first_arrival)
    return f"{STREAM_NAMES[channel]}-1-{t:%Y-%m-%d-%H-%M-%S}-{file_uuid}.json" + (".gz" if gzip else "")


def _utc(t: datetime) -> datetime:
    if t.tzinfo is None:
        raise ValueError("datetimes must be timezone-aware (UTC)")
    return t.astimezone(UTC)


def _place(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically: a dot-prefixed temporary file (which Spark and
    Hadoop listings skip) in the same folder, then ``os.replace``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _encode(lines: Sequence[bytes], gzip: bool) -> bytes:
    data = b"".join(line + b"\n" for line in lines)
    return _gzip.compress(data, compresslevel=6, mtime=0) if gzip else data


def write_bronze_file(
    lake_root: str | Path,
    channel: str,
    arrival_hour: datetime,
    lines: Sequence[bytes | str],
    *,
    gzip: bool = False,
    name: str | None = None,
) -> Path:
    """Place one hand-made Bronze file (for tests): each line is written followed by ``\\n``.

    ``name`` defaults to a Firehose-style name for ``arrival_hour``; an empty ``lines``
    gives an empty file (an empty gzip stream when ``gzip``). The file appears atomically.

    Example::

        write_bronze_file(lake, "collect", datetime(2025, 3, 1, 10, tzinfo=UTC), ['{"event_id": ...}'])
    """
    folder = bronze_dir(lake_root, channel, arrival_hour)
    if name is None:
        name = firehose_name(channel, arrival_hour, str(uuid.uuid4()), gzip=gzip)
    encoded = [line.encode("utf-8") if isinstance(line, str) else bytes(line) for line in lines]
    path = folder / name
    _place(path, _encode(encoded, gzip))
    return path


# ---------------------------------------------------------------------------------------------
# Generation


def _story_seed(seed: int, channel_index: int, story: int) -> int:
    return ((seed & 0xFFFFFFFF) << 72) | (channel_index << 64) | story


def _render(obj: dict, fault: tuple | None) -> bytes:
    text = json.dumps(obj, ensure_ascii=False, separators=(",", ":"))
    if fault is None:
        return text.encode("utf-8")
    if fault[0] == "truncate":
        cut = max(1, min(len(text) - 1, int(len(text) * fault[1])))
        return text[:cut].encode("utf-8")
    if fault[0] == "bad_bytes":
        return text.encode("utf-8").replace(chan.BAD_BYTES_MARK.encode(), b"\xff\xfe", 1)
    raise ValueError(fault)


class _ChunkWriter:
    """Generates and writes one channel's files for arrival hours ``[h0, h1)``."""

    def __init__(self, lake_root: str, spec: GeneratorSpec, channel: str):
        self.lake_root = lake_root
        self.spec = spec
        self.channel = channel
        self.ch_index = CHANNELS.index(channel)
        self.impl = chan.CHANNEL_CLASSES[channel](spec.seed, max(50, spec.events // 40))
        self.n = spec.stories(channel)
        self.start_ms = int(spec.start.timestamp() * 1000)
        self.span = spec.hours * chan.HOUR
        self.max_lag = chan.MAX_LAG_MS[channel]
        self.report = ChannelReport(channel)
        self.fault_bands = []
        acc = 0.0
        for kind in FAULT_KINDS:
            acc += getattr(spec, f"{kind}_rate")
            self.fault_bands.append((acc, kind))

    def slot_start(self, s: int) -> int:
        return self.start_ms + s * self.span // self.n

    def run(self, h0: int, h1: int) -> ChannelReport:
        if self.n == 0:
            return self.report
        lo_ms, hi_ms = self.start_ms + h0 * chan.HOUR, self.start_ms + h1 * chan.HOUR
        s_lo = max(0, (lo_ms - self.max_lag - self.start_ms) * self.n // self.span - 1)
        s_hi = min(self.n, (hi_ms - self.start_ms) * self.n // self.span + 1)
        buckets: dict[int, list[tuple]] = {}
        next_flush = h0
        for s in range(s_lo, s_hi):
            slot = self.slot_start(s)
            while next_flush < h1 and slot >= self.start_ms + (next_flush + 1) * chan.HOUR:
                self._flush(next_flush, buckets.pop(next_flush, []))
                next_flush += 1
            for rec in self._story(s):
                if lo_ms <= rec[0] < hi_ms:
                    buckets.setdefault((rec[0] - self.start_ms) // chan.HOUR, []).append(rec)
        for h in range(next_flush, h1):
            self._flush(h, buckets.pop(h, []))
        return self.report

    def _story(self, s: int) -> list[tuple]:
        """Records of story ``s``: (arrival_ms, story, seq, kind, label, late, obj, fault)."""
        spec = self.spec
        rng = Random(_story_seed(spec.seed, self.ch_index, s))
        slot = self.slot_start(s)
        anchor = slot + int(rng.random() * (self.slot_start(s + 1) - slot))
        shift = rng.randrange(chan.HOUR, 6 * chan.DAY) if rng.random() < spec.late_rate else 0
        drafts = self.impl.story(rng, anchor, shift)
        out: list[tuple] = []
        limit = anchor + self.max_lag
        seq = 0
        for d in drafts:
            u = rng.random()
            fault_kind = next((kind for bound, kind in self.fault_bands if u < bound), None)
            if fault_kind is not None:
                bad, fault = self._fault(fault_kind, d.obj, rng)
                if bad is not None:
                    out.append((d.arrival_ms, s, seq, "quarantined", fault_kind, False, bad, fault))
                    seq += 1
                    continue
            out.append((d.arrival_ms, s, seq, "valid", d.name, d.late, d.obj, None))
            seq += 1
            u_dup, u_conf = rng.random(), rng.random()
            if d.late:
                continue  # keep redeliveries inside the job's dedupe look-back
            if u_dup < spec.duplicate_rate:
                r = rng.random()
                if r < 0.4:
                    lag = 0
                elif r < 0.7:
                    lag = rng.randrange(1000, 10 * chan.MINUTE)
                else:
                    lag = rng.randrange(10 * chan.MINUTE, _DUP_MAX_LAG_MS[self.channel])
                at = min(d.arrival_ms + lag, limit)
                obj = (
                    d.obj
                    if lag == 0 and self.channel != "eventbridge"
                    else self.impl.redeliver(d.obj, at, rng)
                )
                out.append((at, s, seq, "duplicate", d.name, False, obj, None))
                seq += 1
            if u_conf < spec.conflict_rate and self.impl.supports_conflict:
                lag = rng.randrange(chan.HOUR, 24 * chan.HOUR)
                at = d.arrival_ms + lag
                if at <= limit:
                    out.append(
                        (at, s, seq, "conflict", d.name, False, self.impl.conflict(d.obj, at, rng), None)
                    )
                    seq += 1
        return out

    def _fault(self, kind: str, obj: dict, rng: Random) -> tuple[dict | None, tuple | None]:
        impl = self.impl
        if kind == "parse_error":
            return obj, ("truncate", 0.2 + 0.75 * rng.random())
        if kind == "invalid_utf8":
            return impl.bad_bytes(obj, rng), ("bad_bytes",)
        if kind == "oversize":
            return impl.oversize(obj, rng), None
        if kind == "unknown_event":
            return impl.unknown_event(obj, rng), None
        if kind == "schema_violation":
            return impl.schema_violation(obj, rng), None
        if kind == "adapter_failure":
            return (impl.adapter_failure(obj, rng) if impl.supports_adapter_failure else None), None
        raise ValueError(kind)

    def _flush(self, hour: int, records: list[tuple]) -> None:
        if not records:
            return
        records.sort(key=lambda r: (r[0], r[1], r[2]))
        n_files = min(self.spec.files_per_hour_per_channel, len(records))
        rep = self.report
        for i in range(n_files):
            part = records[i * len(records) // n_files : (i + 1) * len(records) // n_files]
            frng = Random(_story_seed(self.spec.seed, self.ch_index, (1 << 63) | (hour << 8) | i))
            gz = frng.random() < self.spec.gzip_share
            name = firehose_name(
                self.channel, datetime.fromtimestamp(part[0][0] / 1000, UTC), fake.uuid4(frng), gzip=gz
            )
            lines = []
            for _arrival, _s, _seq, kind, label, late, obj, fault in part:
                line = _render(obj, fault)
                lines.append(line)
                rep.bytes += len(line) + 1
                if kind == "valid":
                    rep.expected_valid_unique += 1
                    rep.valid_by_event[label] = rep.valid_by_event.get(label, 0) + 1
                    rep.late_events += late
                elif kind == "duplicate":
                    rep.expected_duplicates += 1
                elif kind == "conflict":
                    rep.expected_conflicts += 1
                else:
                    rep.faults[label] = rep.faults.get(label, 0) + 1
                    etype = ERROR_TYPE_OF_FAULT[label]
                    rep.expected_quarantined[etype] = rep.expected_quarantined.get(etype, 0) + 1
            rep.lines += len(lines)
            rep.files += 1
            rep.gzip_files += gz
            hour_start = self.spec.start + timedelta(hours=hour)
            _place(bronze_dir(self.lake_root, self.channel, hour_start) / name, _encode(lines, gz))


def _run_task(task: tuple[str, GeneratorSpec, str, int, int]) -> ChannelReport:
    lake_root, spec, channel, h0, h1 = task
    return _ChunkWriter(lake_root, spec, channel).run(h0, h1)


def _tasks(lake_root: str, spec: GeneratorSpec, workers: int) -> list[tuple]:
    """Hour ranges per channel, large channels split more; biggest first."""
    total = sum(spec.stories(ch) * chan.MEAN_EVENTS_PER_STORY[ch] for ch in CHANNELS) or 1
    tasks = []
    for ch in CHANNELS:
        if spec.stories(ch) == 0:
            continue
        weight = spec.stories(ch) * chan.MEAN_EVENTS_PER_STORY[ch] / total
        wanted = max(1, round(weight * 6 * workers))
        min_hours = 4 * chan.MAX_LAG_MS[ch] // chan.HOUR  # keep the look-back overhead small
        size = min(spec.hours, max(math.ceil(spec.hours / wanted), min_hours))
        for h0 in range(0, spec.hours, size):
            tasks.append(
                (
                    weight * (min(h0 + size, spec.hours) - h0),
                    (lake_root, spec, ch, h0, min(h0 + size, spec.hours)),
                )
            )
    tasks.sort(key=lambda t: -t[0])
    return [t for _, t in tasks]


def generate_bronze(
    lake_root: str | Path, spec: GeneratorSpec, *, workers: int | None = None
) -> GenerationReport:
    """Write the Bronze files of ``spec`` under ``lake_root`` and report the expected outcomes.

    :param lake_root: local lake root folder (files go to ``<lake_root>/bronze/...``).
    :param spec: what to generate; the same spec gives the same bytes.
    :param workers: processes to use (default: CPU count); the output does not depend on it.
    :returns: per channel lines written and expected valid / duplicate / conflict / quarantined.
    """
    started = time.monotonic()
    root = str(Path(lake_root))
    workers = workers or os.cpu_count() or 1
    if spec.events < _SMALL_JOB_EVENTS:
        workers = 1
    tasks = _tasks(root, spec, workers)
    reports = {ch: ChannelReport(ch) for ch in CHANNELS}
    if workers == 1:
        results = [_run_task(t) for t in tasks]
    else:
        with ProcessPoolExecutor(max_workers=workers, mp_context=get_context("spawn")) as pool:
            results = list(pool.map(_run_task, tasks))
    for r in results:
        reports[r.channel].merge(r)
    report = GenerationReport(lake_root=root, spec=spec, channels=reports, seconds=time.monotonic() - started)
    log.info(
        "bronze generated",
        extra={"lines": report.lines, "files": report.total("files"), "seconds": round(report.seconds, 2)},
    )
    return report
