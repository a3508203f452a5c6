"""One dispatcher process for the crash-safety benchmark: sends until nothing is left.

    python -m bench.dispatch_worker DATABASE_URL API_BASE JOURNAL_DIR [CHANNEL [QUOTA]]

It recovers what a killed predecessor left behind (same host, process gone), then drains
the outbox and exits 0 when no delivery is pending or being sent. CHANNEL is telegram (the
default) or zalo (a Zalo channel with a monthly quota of QUOTA).
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from bench.broadcast_dispatch import dispatch_until_done


def main() -> None:
    url, api, journal = sys.argv[1], sys.argv[2], Path(sys.argv[3])
    channel = sys.argv[4] if len(sys.argv) > 4 else "telegram"
    quota = int(sys.argv[5]) if len(sys.argv) > 5 else 0
    asyncio.run(dispatch_until_done(url, api, None, 500, 100, journal, channel, quota))


if __name__ == "__main__":
    main()
