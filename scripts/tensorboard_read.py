#!/usr/bin/env python3
"""Every scalar of a run folder's TensorBoard event files, read by TensorBoard itself, as JSON.

    .venv/bin/python scripts/tensorboard_read.py runs/<...>

Prints `{tag: [[step, value], ...], ...}` (events in file order; tags sorted) from
`tensorboard.backend.event_processing.event_accumulator.EventAccumulator` with no sampling (size
guidance 0 keeps every scalar). Values are TensorBoard's float32 as Python floats; NaN and the
infinities, which JSON cannot hold, are written as the strings "NaN", "Infinity", "-Infinity".
The accumulator stops reading a file at its first corrupt or torn record without an error, so
check counts, not only values. Needs `tensorboard` (scripts/requirements-dev.txt).
"""
import json
import math
import sys
from pathlib import Path

from tensorboard.backend.event_processing.event_accumulator import SCALARS, EventAccumulator


def as_json(value):
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    return value


def main():
    if len(sys.argv) != 2:
        sys.exit(f"usage: {sys.argv[0]} RUN_DIR")
    run_dir = Path(sys.argv[1])
    if not any(run_dir.glob("*tfevents*")):
        sys.exit(f"{run_dir}: no TensorBoard event files (events.out.tfevents.*)")
    accumulator = EventAccumulator(str(run_dir), size_guidance={SCALARS: 0})
    accumulator.Reload()
    scalars = {
        tag: [[event.step, as_json(event.value)] for event in accumulator.Scalars(tag)]
        for tag in sorted(accumulator.Tags()[SCALARS])
    }
    json.dump(scalars, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
