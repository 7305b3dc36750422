"""The sequence diagram of a request: lanes from callers and targets, each hop drawn once."""

from __future__ import annotations

from typing import Any

from lgsp.console.trace import sequence_diagram


def hop(seq: int, instance: str, hop: str, caller: str, target: str, status: int = 200) -> Any:
    return {
        "seq": seq,
        "instance": instance,
        "hop": hop,
        "caller": caller,
        "target": target,
        "service": "dancu",
        "method": "GET",
        "path": "/dancu/v1/citizens/082*******99",
        "status": status,
        "latency_us": 1500,
        "occurred_at": f"2026-12-06T10:00:0{seq}Z",
    }


CROSS_PROVINCE = [
    hop(1, "kiengiang", "inbound", "demo", "kiengiang", 404),
    hop(2, "kiengiang", "forward", "kiengiang", "ndxp", 404),
    hop(3, "ndxp", "inbound", "lgsp-kiengiang", "ndxp", 404),
    hop(4, "ndxp", "forward", "ndxp", "tiengiang", 404),
    hop(5, "tiengiang", "inbound", "ndxp", "tiengiang", 404),
    hop(6, "tiengiang", "upstream", "tiengiang", "dancu", 404),
    hop(0, "kiengiang", "pending", "demo", "kiengiang", 0),
]


def test_lanes_follow_the_call_from_the_client_to_the_far_system() -> None:
    diagram = sequence_diagram(CROSS_PROVINCE, national="ndxp")

    assert [lane.name for lane in diagram.lanes] == [
        "client demo",
        "kiengiang",
        "ndxp",
        "tiengiang",
        "tiengiang/dancu",
    ]
    assert [arrow.hop for arrow in diagram.arrows] == [
        "inbound",
        "forward",
        "forward",
        "upstream",
    ]  # each forward's inbound at the next instance is the same hop: drawn once
    xs = [(arrow.x1, arrow.x2) for arrow in diagram.arrows]
    assert all(x1 < x2 for x1, x2 in xs)
    assert diagram.width > diagram.lanes[-1].x


def test_the_first_failed_hop_is_named() -> None:
    records = [
        hop(1, "kiengiang", "inbound", "demo", "kiengiang", 502),
        hop(2, "kiengiang", "upstream", "kiengiang", "dancu", 0),
    ]

    diagram = sequence_diagram(records, national=None)

    assert diagram.failed_hop == "GET /dancu/v1/citizens/082*******99"
    assert [arrow.failed for arrow in diagram.arrows] == [True, True]


def test_no_records_is_an_empty_diagram() -> None:
    diagram = sequence_diagram([], national="ndxp")

    assert (diagram.lanes, diagram.arrows, diagram.failed_hop) == ([], [], None)


def test_a_long_path_is_cut_and_a_system_caller_is_its_own_lane() -> None:
    record = hop(1, "kiengiang", "inbound", "system-qlvb", "kiengiang")
    record["path"] = "/x" * 100

    diagram = sequence_diagram([record], national="ndxp")

    assert [lane.name for lane in diagram.lanes] == ["kiengiang/qlvb", "kiengiang"]
    assert len(diagram.arrows[0].label) < 60
