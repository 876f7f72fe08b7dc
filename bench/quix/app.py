"""Quix Streams side of the Tributary benchmark: the same two workloads in Quix.

    bench/quix/.venv/bin/python bench/quix/app.py --workload w1|w2 \
        --guarantee at_least_once|exactly_once --brokers 127.0.0.1:9092 \
        --input IN --output OUT --app-id ID --commit-interval-ms 100 --state-dir DIR

One Quix Application (consumer group = app id, auto_offset_reset "earliest").
Prints `FIRST_RECORD <epoch ms>` once, on the first input record processed, and
runs until SIGTERM/SIGINT (Application.run() installs handlers for both; it then
commits a final checkpoint and returns, and this script exits 0).

Input: key = sensor id string, value = JSON reading
  {"sensor","ts","temperature","humidity","pressure","battery","site","firmware","status","seq"}
with the Kafka record timestamp equal to `ts` (Quix's default timestamp is the
message timestamp).

w1 (stateless): keep status == "ok" and -40 <= temperature <= 85, map to
  {"sensor","ts","temperatureF","humidity"}, produce keyed by the sensor.

w2 (stateful): every record, keyed by its message key (no regrouping), tumbling
  1 h windows aligned to the epoch, grace 0, count/sum/min/max of temperature
  (sum in input order), only the final result of each window (.final()), output
  {"sensor","start","end","count","sum","min","max"} keyed by the sensor.

When quixstreams 3.28.1 closes a window (read in
quixstreams/dataframe/windows/time_based.py, FixedTimeWindow.process_window, and
state/rocksdb/windowed/transaction.py):
  - `.final()` defaults to closing_strategy="key": event time is tracked PER
    MESSAGE KEY (the latest timestamp stored for that key in the window store,
    max'ed with the current record's timestamp), not per partition. Each record
    of key K, after updating its own window, expires K's windows whose
    start <= latest_ts(K) - grace - duration, i.e. whose end <= latest_ts(K) - grace.
    With grace 0 an hour window [S, S+1h) of K is emitted when a record of the
    same key K with timestamp >= S+1h is processed; a key that stops receiving
    records never closes its last window (no partition-wide or wall-clock
    trigger; nothing is flushed at shutdown). Records of other keys on the same
    partition do not close K's windows.
  - A record whose window already expired for its key (start <= latest - grace
    - duration) is dropped and logged as late ("Skipping window processing for
    the closed window").
  - closing_strategy="partition" exists (not used here): time is then
    max(record ts, the partition-wide "last expired" mark), and every
    expiry scans all keys of the partition's store.
  - The emitted result carries the window start as its record timestamp.
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings

# authlib (pulled in by confluent-kafka's schema-registry client, which
# quixstreams imports) forces its deprecation warnings to "always"; silence them.
try:
    import authlib.deprecate

    warnings.filterwarnings("ignore", category=authlib.deprecate.AuthlibDeprecationWarning)
except ImportError:  # pragma: no cover
    pass

from quixstreams import Application  # noqa: E402

HOUR_MS = 3_600_000

_first_seen = False


def _mark_first() -> None:
    global _first_seen
    _first_seen = True
    sys.stdout.write(f"FIRST_RECORD {time.time_ns() // 1_000_000}\n")
    sys.stdout.flush()


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--workload", required=True, choices=["w1", "w2"])
    p.add_argument("--guarantee", required=True, choices=["at_least_once", "exactly_once"])
    p.add_argument("--brokers", required=True)
    p.add_argument("--input", required=True)
    p.add_argument("--output", required=True)
    p.add_argument("--app-id", required=True)
    p.add_argument("--commit-interval-ms", type=int, default=100)
    p.add_argument("--state-dir", required=True)
    # The w2 aggregation: one reduce() over a 4-element list (default), or the
    # built-in Count/Sum/Min/Max via agg(). Both give the same output. reduce is
    # the faster: its aggregate step costs ~1.5 us/record against ~3.5-5 us for
    # agg() (whose state is a 4-key dict, 140 bytes of JSON against 60), and run
    # side by side on the 1M-record input under exactly-once reduce processed
    # ~11% more records in the same 120 s. Most of a w2 record's cost is Quix's
    # own per-message work (state transaction, changelog produce), not this step.
    p.add_argument("--w2-impl", choices=["reduce", "agg"], default="reduce")
    return p.parse_args(argv)


def build_w1(app: Application, sdf):
    def keep(v: dict) -> bool:
        if not _first_seen:
            _mark_first()
        return v["status"] == "ok" and -40 <= v["temperature"] <= 85

    def to_output(v: dict) -> dict:
        return {
            "sensor": v["sensor"],
            "ts": v["ts"],
            "temperatureF": v["temperature"] * 9 / 5 + 32,
            "humidity": v["humidity"],
        }

    return sdf.filter(keep).apply(to_output)


def build_w2_reduce(app: Application, sdf):
    # State per window: [count, sum, min, max] (stored as JSON by the store,
    # so it comes back as a list; a list is what the reducer returns too).
    def initializer(v: dict) -> list:
        if not _first_seen:
            _mark_first()
        t = v["temperature"]
        return [1, t, t, t]

    def reducer(agg: list, v: dict) -> list:
        if not _first_seen:  # only after a restart on existing state
            _mark_first()
        t = v["temperature"]
        return [
            agg[0] + 1,
            agg[1] + t,
            t if t < agg[2] else agg[2],
            t if t > agg[3] else agg[3],
        ]

    def to_output(w: dict, key, _ts, _headers) -> dict:
        c, s, mn, mx = w["value"]
        return {"sensor": key, "start": w["start"], "end": w["end"], "count": c, "sum": s, "min": mn, "max": mx}

    windows = (
        sdf.tumbling_window(duration_ms=HOUR_MS, grace_ms=0)
        .reduce(reducer=reducer, initializer=initializer)
        .final()
    )
    return windows.apply(to_output, metadata=True)


def build_w2_agg(app: Application, sdf):
    from quixstreams.dataframe.windows import Count, Max, Min, Sum

    def first(v: dict) -> None:
        if not _first_seen:
            _mark_first()

    def to_output(w: dict, key, _ts, _headers) -> dict:
        return {
            "sensor": key,
            "start": w["start"],
            "end": w["end"],
            "count": w["count"],
            "sum": w["sum"],
            "min": w["min"],
            "max": w["max"],
        }

    windows = (
        sdf.update(first)
        .tumbling_window(duration_ms=HOUR_MS, grace_ms=0)
        .agg(count=Count(), sum=Sum("temperature"), min=Min("temperature"), max=Max("temperature"))
        .final()
    )
    return windows.apply(to_output, metadata=True)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    app = Application(
        broker_address=args.brokers,
        consumer_group=args.app_id,
        auto_offset_reset="earliest",
        processing_guarantee="exactly-once" if args.guarantee == "exactly_once" else "at-least-once",
        commit_interval=args.commit_interval_ms / 1000.0,
        state_dir=args.state_dir,
        loglevel="WARNING",
    )
    source = app.topic(args.input, key_deserializer="str", value_deserializer="json")
    sink = app.topic(args.output, key_serializer="str", value_serializer="json")
    sdf = app.dataframe(source)
    if args.workload == "w1":
        sdf = build_w1(app, sdf)
    elif args.w2_impl == "agg":
        sdf = build_w2_agg(app, sdf)
    else:
        sdf = build_w2_reduce(app, sdf)
    # The key is the input's message key, the sensor id (no regrouping).
    sdf.to_topic(sink)
    app.run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
