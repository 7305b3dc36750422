"""Prometheus metrics in the text exposition format, without a client library.

The audit recorder already sees every call an instance serves (service, status, latency, the
problem code of an error), so it feeds these; `GET /metrics` renders them. Label values come
from our own catalog and topology, never from the caller, so the series stay bounded.
"""

from __future__ import annotations

import bisect
from collections import defaultdict
from collections.abc import Iterable

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
MAX_SERIES = 10_000

Labels = tuple[tuple[str, str], ...]
Gauge = tuple[str, str, Labels, float]
"""(name, help text, labels, value); samples of one metric come one after the other."""


class Metrics:
    def __init__(self) -> None:
        self._requests: dict[Labels, int] = defaultdict(int)
        self._errors: dict[Labels, int] = defaultdict(int)
        self._latency_counts: dict[Labels, list[int]] = {}
        self._latency_sums: dict[Labels, float] = defaultdict(float)

    def observe_request(
        self, *, instance: str, service: str | None, status: int, seconds: float
    ) -> None:
        labels = (("instance", instance), ("service", service or "-"))
        if (
            len(self._requests) >= MAX_SERIES
            and labels + (("status", str(status)),) not in self._requests
        ):
            return
        self._requests[labels + (("status", str(status)),)] += 1
        counts = self._latency_counts.setdefault(labels, [0] * (len(LATENCY_BUCKETS) + 1))
        counts[bisect.bisect_left(LATENCY_BUCKETS, seconds)] += 1
        self._latency_sums[labels] += seconds

    def observe_error(self, *, instance: str, code: str) -> None:
        if len(self._errors) < MAX_SERIES:
            self._errors[(("instance", instance), ("code", code))] += 1

    def render(self, gauges: Iterable[Gauge] = ()) -> str:
        lines = [
            "# HELP lgsp_requests_total Calls served by a gateway instance.",
            "# TYPE lgsp_requests_total counter",
            *(
                _sample("lgsp_requests_total", labels, n)
                for labels, n in sorted(self._requests.items())
            ),
            "# HELP lgsp_errors_total Problem answers by stable error code.",
            "# TYPE lgsp_errors_total counter",
            *(
                _sample("lgsp_errors_total", labels, n)
                for labels, n in sorted(self._errors.items())
            ),
            "# HELP lgsp_request_duration_seconds Time from request to committed audit record.",
            "# TYPE lgsp_request_duration_seconds histogram",
        ]
        for labels, counts in sorted(self._latency_counts.items()):
            cumulative = 0
            for bound, count in zip((*LATENCY_BUCKETS, float("inf")), counts, strict=True):
                cumulative += count
                le = "+Inf" if bound == float("inf") else repr(bound)
                lines.append(
                    _sample(
                        "lgsp_request_duration_seconds_bucket", labels + (("le", le),), cumulative
                    )
                )
            lines.append(_sample("lgsp_request_duration_seconds_count", labels, cumulative))
            lines.append(
                _sample("lgsp_request_duration_seconds_sum", labels, self._latency_sums[labels])
            )
        described: set[str] = set()
        for name, help_text, labels, value in gauges:  # one HELP and TYPE per metric name
            if name not in described:
                described.add(name)
                lines += [f"# HELP {name} {help_text}", f"# TYPE {name} gauge"]
            lines.append(_sample(name, labels, value))
        return "\n".join(lines) + "\n"


def _sample(name: str, labels: Labels, value: float) -> str:
    rendered = ",".join(f'{key}="{_escape(val)}"' for key, val in labels)
    return f"{name}{{{rendered}}} {value:g}" if rendered else f"{name} {value:g}"


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
