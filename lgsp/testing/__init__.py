"""The bus for integrators' test suites: a pytest plugin, and the runner underneath it.

Installing `lgsp-mock-bus` registers the plugin (`lgsp.testing.plugin`, entry point
`pytest11: lgsp`); its fixtures are documented there. Outside pytest, `start_bus` runs the
same bus in any program (and `bus_router` answers like one service of it, with no bus):

    with start_bus(BusOptions(data_dir=Path(tmp))) as bus:
        province = bus.default_instance  # the era's first: angiang today
        with bus.client() as http:
            http.get(f"{bus.base_url(province)}/services", headers=bus.headers(province))
"""

from typing import TYPE_CHECKING, Any

from lgsp.testing._runner import INPROCESS_URL, MODES, BusOptions, LgspBus, Mode, start_bus

if TYPE_CHECKING:
    from lgsp.testing.respx_router import bus_router


def __getattr__(name: str) -> Any:
    """`bus_router` is imported on first use: respx is a test dependency, not the plugin's."""
    if name == "bus_router":
        from lgsp.testing.respx_router import bus_router

        return bus_router
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["INPROCESS_URL", "MODES", "BusOptions", "LgspBus", "Mode", "bus_router", "start_bus"]
