"""`bling worker` with the 10-attempt cap lifted — a what-if for the burst.

Why: in Bling as it stands, every wait for a Help Scout rate-limit slot is
counted as a failed attempt (bling.worker.process), so a text still queued
after ten rate-limit windows is buried as a dead letter and its supporter
gets the failure text. With the cap out of the way the burst shows the
drain time Bling would reach once waiting stops counting as failing (the
fix proposed in bench/README.md). The doubles never fail otherwise, so
lifting the cap changes nothing else in this benchmark.

Used by ``bench/run.py --uncapped`` (with ``bling serve --no-worker``).
"""

import sys

import bling.worker

bling.worker.MAX_ATTEMPTS = 10**6  # read at call time by bling.worker.process

from bling.cli import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main(["worker"]))
