"""What strict first-come-first-served at Bling's budget would give: the yardstick for the burst's waits.

Issue 11 asks that each text's wait (webhook accepted → thread in Help
Scout) be within 1.1× of strict FIFO at the budget. This replays the same
arrivals with the same per-text unit costs through an ideal dispatcher:
one queue, nobody overtakes, ``budget`` units per fixed 60-second window
(windows start at ``start``, the first Help Scout request), requests take
no time. A text that does not fit the current window's remainder waits for
the next window; its wait ends when its last unit is spent.
"""

from __future__ import annotations

import math


def strict_fifo_done(items: list[tuple[str, float, float]], budget: float, start: float,
                     window: float = 60.0) -> dict[str, float]:
    """``items`` = (key, arrival time, units); return each key's completion time under strict FIFO."""
    done: dict[str, float] = {}
    now, window_no, used = start, 0, 0.0
    for key, arrival, units in sorted(items, key=lambda item: item[1]):
        now = max(now, arrival)
        current = max(0, math.floor((now - start) / window))
        if current != window_no:
            window_no, used = current, 0.0
        if used + units > budget + 1e-9:  # the rest of this window is too small: the next one opens
            window_no, used = window_no + 1, 0.0
            now = start + window_no * window
        used += units
        done[key] = now
    return done


def percentile(values: list[float], p: float) -> float | None:
    """Nearest-rank percentile (p in 0..100); None for no values."""
    ordered = sorted(values)
    if not ordered:
        return None
    return ordered[max(1, min(len(ordered), math.ceil(p * len(ordered) / 100))) - 1]
