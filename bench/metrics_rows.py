#!/usr/bin/python3
"""Table rows from a run's metrics.jsonl, for the data-parallel benches.

    metrics_rows.py summary LABEL METRICS SKIP
        | LABEL | median ms/step | tokens/s | mean all-reduce wait ms (share) |
    metrics_rows.py timeline LABEL METRICS SKIP
        | LABEL | step | backward ends | bucket posted->done, ... |  (dist.timeline)

SKIP: the first training records left out (they include start-up). The
timeline row is that of the step with the median step time.
"""
import json
import statistics
import sys


def main():
    if len(sys.argv) != 5 or sys.argv[1] not in ("summary", "timeline"):
        sys.exit(__doc__)
    kind, label, path, skip = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    with open(path) as metrics:
        rows = [json.loads(line) for line in metrics if '"loss"' in line][skip:]
    if kind == "summary":
        step = statistics.median(r["step_ms"] for r in rows)
        tokens = statistics.median(r["tokens_per_second"] for r in rows)
        wait = statistics.mean(r.get("sync_wait_ms", 0.0) for r in rows)
        print(f"| {label} | {step:.1f} | {tokens:,.0f} | {wait:.2f} ({100 * wait / step:.1f}%) |")
        return
    rows = sorted((r for r in rows if "sync_timeline" in r), key=lambda r: r["step_ms"])
    row = rows[len(rows) // 2]
    timeline = row["sync_timeline"]
    buckets = ", ".join(
        f"{posted:.1f}->{done:.1f}"
        for posted, done in zip(timeline["launched_ms"], timeline["reduced_ms"])
    )
    print(f"| {label} | {row['step']} | {timeline['backward_end_ms']:.1f} | {buckets} |")


if __name__ == "__main__":
    main()
