"""The Prometheus text rendering: counters, cumulative histogram buckets, escaping."""

from __future__ import annotations

from lgsp.metrics import LATENCY_BUCKETS, Metrics


def test_requests_errors_and_latency_render_as_prometheus_text() -> None:
    metrics = Metrics()
    metrics.observe_request(instance="kg", service="dancu", status=200, seconds=0.003)
    metrics.observe_request(instance="kg", service="dancu", status=200, seconds=0.2)
    metrics.observe_request(instance="kg", service=None, status=401, seconds=0.001)
    metrics.observe_error(instance="kg", code="INVALID_TOKEN")

    lines = metrics.render([("lgsp_audit_pending_records", "lag", (), 3.0)]).splitlines()

    assert 'lgsp_requests_total{instance="kg",service="dancu",status="200"} 2' in lines
    assert 'lgsp_requests_total{instance="kg",service="-",status="401"} 1' in lines
    assert 'lgsp_errors_total{instance="kg",code="INVALID_TOKEN"} 1' in lines
    buckets = [
        line
        for line in lines
        if line.startswith('lgsp_request_duration_seconds_bucket{instance="kg",service="dancu"')
    ]
    counts = [int(line.rsplit(" ", 1)[1]) for line in buckets]
    assert len(counts) == len(LATENCY_BUCKETS) + 1
    assert counts == sorted(counts)  # cumulative
    assert counts[-1] == 2
    assert 'le="0.005"} 1' in buckets[LATENCY_BUCKETS.index(0.005)]
    assert "lgsp_audit_pending_records 3" in lines


def test_label_values_are_escaped() -> None:
    metrics = Metrics()
    metrics.observe_error(instance='a"b\\c', code="X")

    assert 'lgsp_errors_total{instance="a\\"b\\\\c",code="X"} 1' in metrics.render().splitlines()


def test_a_gauge_with_several_samples_is_described_once() -> None:
    lines = Metrics().render(
        [
            ("lgsp_outbox_messages", "depth", (("state", "pending"),), 2.0),
            ("lgsp_outbox_messages", "depth", (("state", "dead"),), 1.0),
        ]
    )

    assert lines.count("# HELP lgsp_outbox_messages depth") == 1
    assert lines.count("# TYPE lgsp_outbox_messages gauge") == 1
    assert 'lgsp_outbox_messages{state="pending"} 2\nlgsp_outbox_messages{state="dead"} 1' in lines
