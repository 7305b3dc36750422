"""The bus for integrators' test suites: a pytest plugin, and the runner underneath it.

Installing `lgsp-mock-bus` registers the plugin (`lgsp.testing.plugin`, entry point
`pytest11: lgsp`); its fixtures are documented there. Outside pytest, `start_bus` runs the
same bus in any program:

    with start_bus(BusOptions(data_dir=Path(tmp))) as bus:
        with bus.client() as http:
            http.get("/lgsp/kiengiang/services", headers=bus.headers("kiengiang"))
"""

from lgsp.testing._runner import INPROCESS_URL, MODES, BusOptions, LgspBus, Mode, start_bus

__all__ = ["INPROCESS_URL", "MODES", "BusOptions", "LgspBus", "Mode", "start_bus"]
