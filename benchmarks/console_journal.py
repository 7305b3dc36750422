"""How long a console page of the journal takes at 100,000 entries: newest, deep and filtered.

    .venv/bin/python benchmarks/console_journal.py [--entries 100000] [--rounds 20]

Starts the bus in this process on a SQLite file in a temp dir (`lgsp.testing.start_bus`), fills
Kiên Giang's journal by one recursive-CTE insert, signs in to the console and renders each page
`--rounds` times: wall-clock p50 and max against the target of 300 ms a page. The suite checks
what makes it hold, by counting instead of timing (tests/e2e/test_console_scale.py).
"""

from __future__ import annotations

import argparse
import sqlite3
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from statistics import median

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from lgsp.testing import BusOptions, start_bus  # noqa: E402

TARGET_MS = 300.0
PAGES = {
    "newest": {},
    "deep": {"before": "5000"},
    "filtered": {"service": "dancu", "before": "20000"},
}
FILL = """
WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < ?)
INSERT INTO journal_entries (instance, request_id, client_id, service, method, path, query,
    status, request_body, request_truncated, response_body, response_truncated, latency_us,
    occurred_at)
SELECT 'kiengiang', 'bench-' || x, 'demo', CASE x % 2 WHEN 1 THEN 'dancu' ELSE 'dvc' END, 'GET',
    '/dancu/v1/citizens/' || x, '', 200, '', 0, '{"ok": true}', 0, 1000, ? FROM n
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        options = BusOptions(
            data_dir=Path(tmp),
            instances=["ndxp", "kiengiang"],
            settings_overrides={"era": "2024", "journal_max_entries": 2 * args.entries},
        )
        with start_bus(options) as bus:
            database = bus.settings.resolved_database_url.split("///", 1)[1]
            with sqlite3.connect(database) as connection:
                now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
                connection.execute(FILL, (args.entries, now))
            with bus.client() as http:
                signed_in = http.post("/console/login/demo")
                assert signed_in.status_code == 303, signed_in.text
                for name, params in PAGES.items():
                    page = http.get("/console/kiengiang/journal", params=params)
                    shown = page.text.count('class="trace-link"')
                    assert page.status_code == 200, page.text
                    assert shown == 50, (name, shown)
                    took = []
                    for _ in range(args.rounds):
                        started = time.perf_counter()
                        http.get("/console/kiengiang/journal", params=params).raise_for_status()
                        took.append((time.perf_counter() - started) * 1000)
                    verdict = "ok" if max(took) <= TARGET_MS else "OVER"
                    print(
                        f"{name:>9}: p50 {median(took):6.1f} ms  max {max(took):6.1f} ms"
                        f"  (target {TARGET_MS:g} ms: {verdict})"
                    )


if __name__ == "__main__":
    main()
