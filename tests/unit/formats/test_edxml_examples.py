"""examples/edxml/: what the README shows is conforming edXML, and the signed document and
status message verify under the test CA shipped beside them."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography import x509

from formats.edxml import read_edxml, read_status
from formats.xmldsig import Trust, check_signature

EXAMPLES = Path(__file__).parents[3] / "examples" / "edxml"


def test_the_example_documents_and_status_are_read_strictly() -> None:
    for name in ("document.edxml", "document-signed.edxml"):
        assert read_edxml((EXAMPLES / name).read_bytes(), strict=True).nonconformities == ()
    for name in ("status-01.edxml", "status-01-signed.edxml"):
        assert read_status((EXAMPLES / name).read_bytes(), strict=True).nonconformities == ()


@pytest.mark.parametrize("name", ["document-signed.edxml", "status-01-signed.edxml"])
def test_the_signed_examples_are_valid_under_the_test_ca_and_untrusted_without_it(
    name: str,
) -> None:
    data = (EXAMPLES / name).read_bytes()
    roots = tuple(x509.load_pem_x509_certificates((EXAMPLES / "test-ca-root.pem").read_bytes()))
    at = datetime(2026, 12, 6, tzinfo=UTC)

    trusted = check_signature(data, trust=Trust(roots=roots), at=at)
    alone = check_signature(data, trust=Trust(), at=at)

    assert (trusted.valid, trusted.reason, trusted.weak) == (True, None, False)
    assert (alone.valid, alone.reason) == (False, "untrusted")
