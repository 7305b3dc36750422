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
    """Counted by plain keys on each call; made into label tuples only when rendered."""

    def __init__(self) -> None:
        self._requests: dict[tuple[str, str, int], int] = defaultdict(int)
        self._errors: dict[tuple[str, str], int] = defaultdict(int)
        self._latency_counts: dict[tuple[str, str], list[int]] = {}
        self._latency_sums: dict[tuple[str, str], float] = defaultdict(float)

    def observe_request(
        self, *, instance: str, service: str | None, status: int, seconds: float
    ) -> None:
        series = (instance, service or "-")
        key = (*series, status)
        requests = self._requests
        if key not in requests and len(requests) >= MAX_SERIES:
            return
        requests[key] += 1
        counts = self._latency_counts.get(series)
        if counts is None:
            counts = self._latency_counts[series] = [0] * (len(LATENCY_BUCKETS) + 1)
        counts[bisect.bisect_left(LATENCY_BUCKETS, seconds)] += 1
        self._latency_sums[series] += seconds

    def observe_error(self, *, instance: str, code: str) -> None:
        if len(self._errors) < MAX_SERIES:
            self._errors[(instance, code)] += 1

    def render(self, gauges: Iterable[Gauge] = ()) -> str:
        lines = [
            "# HELP lgsp_requests_total Calls served by a gateway instance.",
            "# TYPE lgsp_requests_total counter",
            *(
                _sample("lgsp_requests_total", labels, n)
                for labels, n in sorted(
                    (_series(instance, service) + (("status", str(status)),), n)
                    for (instance, service, status), n in self._requests.items()
                )
            ),
            "# HELP lgsp_errors_total Problem answers by stable error code.",
            "# TYPE lgsp_errors_total counter",
            *(
                _sample("lgsp_errors_total", (("instance", instance), ("code", code)), n)
                for (instance, code), n in sorted(self._errors.items())
            ),
            "# HELP lgsp_request_duration_seconds Time from request to committed audit record.",
            "# TYPE lgsp_request_duration_seconds histogram",
        ]
        for series, counts in sorted(self._latency_counts.items()):
            labels = _series(*series)
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
                _sample("lgsp_request_duration_seconds_sum", labels, self._latency_sums[series])
            )
        described: set[str] = set()
        for name, help_text, labels, value in gauges:  # one HELP and TYPE per metric name
            if name not in described:
                described.add(name)
                lines += [f"# HELP {name} {help_text}", f"# TYPE {name} gauge"]
            lines.append(_sample(name, labels, value))
        return "\n".join(lines) + "\n"


def _series(instance: str, service: str) -> Labels:
    return (("instance", instance), ("service", service))


def _sample(name: str, labels: Labels, value: float) -> str:
    rendered = ",".join(f'{key}="{_escape(val)}"' for key, val in labels)
    return f"{name}{{{rendered}}} {value:g}" if rendered else f"{name} {value:g}"


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
