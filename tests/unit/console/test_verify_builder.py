"""The verify builder's expectation: the exchange in general, never its identifiers."""

from __future__ import annotations

import pytest

from lgsp.console.verify import expectation_of, pytest_of


@pytest.mark.parametrize(
    ("path", "general"),
    [
        ("/dancu/v1/citizens/091199999999", "/dancu/v1/citizens/*"),
        ("/dancu/v1/citizens/091*******99/household", "/dancu/v1/citizens/*/household"),
        (
            "/dvc/v1/dossiers/000.00.01.H33-250101-0001/transitions",
            "/dvc/v1/dossiers/*/transitions",
        ),
        ("/qlvb/v1/documents/inbox", "/qlvb/v1/documents/inbox"),
        ("/vdxp/v1/documents", "/vdxp/v1/documents"),
    ],
)
def test_identifiers_in_the_path_become_wildcards(path: str, general: str) -> None:
    entry = {"service": "x", "method": "GET", "status": 200, "path": path}

    assert expectation_of(entry)["path"] == general


def test_an_exchange_refused_before_its_service_was_known_has_no_service() -> None:
    entry = {"service": None, "method": "GET", "status": 404, "path": "/atlantis/v1/x"}

    assert expectation_of(entry) == {"method": "GET", "status": 404, "path": "/atlantis/v1/x"}


def test_the_emitted_test_is_python_that_waits_on_the_instance() -> None:
    source = pytest_of("kiengiang", {"service": "dancu", "status": 404})

    compile(source, "emitted", "exec")
    assert "lgsp.wait_for('kiengiang', service='dancu', status=404) >= 1" in source
