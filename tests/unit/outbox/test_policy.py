"""What an answer means for a message, how long to wait, and what an error may leave behind."""

from __future__ import annotations

from datetime import timedelta

import pytest

from lgsp.outbox.store import MAX_ERROR_LENGTH, RetryPolicy, Verdict, classify, short_error


@pytest.mark.parametrize(
    ("status", "verdict"),
    [
        (200, Verdict.DELIVERED),
        (201, Verdict.DELIVERED),
        (204, Verdict.DELIVERED),
        (299, Verdict.DELIVERED),
        (None, Verdict.RETRY),
        (500, Verdict.RETRY),
        (502, Verdict.RETRY),
        (503, Verdict.RETRY),
        (504, Verdict.RETRY),
        (408, Verdict.RETRY),
        (425, Verdict.RETRY),
        (429, Verdict.RETRY),
        (400, Verdict.REFUSED),
        (401, Verdict.REFUSED),
        (403, Verdict.REFUSED),
        (404, Verdict.REFUSED),
        (409, Verdict.REFUSED),
        (422, Verdict.REFUSED),
        (301, Verdict.REFUSED),
        (100, Verdict.REFUSED),
    ],
)
def test_classify_answers(status: int | None, verdict: Verdict) -> None:
    assert classify(status) is verdict


def test_back_off_doubles_from_the_base_until_the_cap() -> None:
    policy = RetryPolicy(base_seconds=0.5, max_seconds=60, uniform=lambda: 0.0)

    delays = [policy.delay(failures).total_seconds() for failures in range(1, 11)]

    assert delays == [0.5, 1, 2, 4, 8, 16, 32, 60, 60, 60]


def test_back_off_survives_absurd_failure_counts() -> None:
    policy = RetryPolicy(max_seconds=60, uniform=lambda: 0.0)

    assert policy.delay(10_000) == timedelta(seconds=60)


@pytest.mark.parametrize("draw", [0.0, 0.5, 0.999999])
def test_jitter_only_shortens_the_wait_and_by_at_most_its_fraction(draw: float) -> None:
    policy = RetryPolicy(base_seconds=1, max_seconds=60, jitter=0.2, uniform=lambda: draw)

    for failures in (1, 4, 20):
        ceiling = min(60.0, 2.0 ** (failures - 1))
        delay = policy.delay(failures).total_seconds()
        assert ceiling * 0.8 <= delay <= ceiling
        assert delay == pytest.approx(ceiling * (1 - 0.2 * draw))


def test_default_jitter_spreads_two_retries_apart() -> None:
    policy = RetryPolicy()

    assert len({policy.delay(3) for _ in range(20)}) > 1


@pytest.mark.parametrize(
    "values",
    [
        {"max_attempts": 0},
        {"base_seconds": 0},
        {"base_seconds": 10, "max_seconds": 5},
        {"jitter": 1.0},
        {"jitter": -0.1},
    ],
)
def test_a_policy_refuses_values_that_make_no_sense(values: dict[str, float]) -> None:
    with pytest.raises(ValueError, match="must|need"):
        RetryPolicy(**values)  # type: ignore[arg-type]


def test_a_stored_error_is_one_bounded_line() -> None:
    error = "ConnectError: refused\nTraceback (most recent call last):\n  File x\n" + "y" * 1000

    stored = short_error(error)

    assert stored is not None
    assert "\n" not in stored
    assert len(stored) == MAX_ERROR_LENGTH
    assert stored.startswith("ConnectError: refused Traceback")
    assert stored.endswith("…")


def test_a_short_error_is_kept_as_it_is() -> None:
    assert short_error("  HTTP 503 ") == "HTTP 503"
    assert short_error(None) is None


def test_a_stored_error_masks_id_numbers_and_escapes_control_characters() -> None:
    stored = short_error("ConnectError for /citizens/091087000123\x00 at\x07 once")

    assert stored == "ConnectError for /citizens/091*******23%00 at%07 once"
