"""The pytest plugin's bus drops a connection as `lgsp serve` does: the client sees the error
of a closed socket, in process as on a port, and the bus goes on answering."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from lgsp.testing import BusOptions, start_bus
from mocks.dancu.seed import generate_citizens

KG = "kiengiang"
TEST_URL = "http://lgsp.test"


@pytest.mark.database
@pytest.mark.parametrize("mode", ["inprocess", "port"])
def test_drop_and_cut_reach_the_plugins_client_as_a_closed_connection(
    tmp_path: Path, mode: str
) -> None:
    options = BusOptions(data_dir=tmp_path, mode=mode, population=20, instances=["ndxp", KG])
    cccd = generate_citizens(province_code="91", seed=options.settings(TEST_URL).seed, count=1)[
        0
    ].so_dinh_danh

    with start_bus(options) as bus, bus.client() as http:
        url = f"{bus.base_url(KG)}/dancu/v1/citizens/{cccd}"
        for fault in ("drop", "drop; when=after", "cut", "cut; when=after"):
            with pytest.raises(httpx.RemoteProtocolError):
                http.get(url, headers={**bus.headers(KG), "X-LGSP-Fault": fault})
        answered = http.get(url, headers=bus.headers(KG))

    assert answered.status_code == 200, answered.text
