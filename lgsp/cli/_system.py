"""`lgsp serve --system NAME --instance NAME`: one of the bus's own systems as a process of its
own.

A mock system is a system outside the bus (DESIGN.md §3). Here it runs alone under uvicorn, on
a database of its own (`--data-dir` or `LGSP_DATABASE_URL`), and reaches its LGSP over HTTP at
`--bus-url` with the client the bus provisions for it (`system-NAME`, its secret derived from
`LGSP_FEDERATION_SECRET`, which both processes must share). The bus reaches it at the `url` its
topology file gives the system, so both processes read the same topology file.
"""

from __future__ import annotations

import argparse
from typing import Any

from kit.head import HeadAsGet
from lgsp.cli._common import listen, run_server, settings_from
from lgsp.settings import Settings
from lgsp.topology import InstanceSpec, Topology, load_topology


def serve_system(args: argparse.Namespace) -> int:
    from lgsp.auth.gateway_key import GatewayOnly, gateway_key
    from lgsp.auth.provisioning import system_client_id, system_secret
    from lgsp.composition import MOCK_SYSTEMS
    from lgsp.logging import configure_logging
    from lgsp.routing.systems import BusAccess, SystemContext

    overrides: dict[str, Any] = {
        option: getattr(args, option)
        for option in ("seed", "population", "era")
        if getattr(args, option) is not None
    }
    settings = settings_from(args, **overrides)
    topology = load_topology(settings.topology_file, settings.era)
    spec = _owner(topology, args.instance, args.system)
    system = MOCK_SYSTEMS.get(args.system)
    if system is None:
        known = ", ".join(sorted(MOCK_SYSTEMS))
        raise ValueError(f"the bus has no system called {args.system!r}; it has {known}")
    bus_url = f"{(args.bus_url or settings.public_url).rstrip('/')}{spec.mount_path}"
    bus = None
    if system.bus_rights:
        bus = BusAccess(
            base_url=bus_url,
            client_id=system_client_id(args.system),
            client_secret=system_secret(settings, instance=spec.name, system=args.system),
            transport=None,
        )
    context = SystemContext(instance=spec, settings=settings, provinces=topology.provinces, bus=bus)
    sock = listen(args.host, args.port)  # a held port: one line, exit 1, no banner
    key = gateway_key(settings, instance=spec.name, system=args.system)
    # HEAD as GET (`kit.head`), as the bus serves it: FastAPI's routes answered it 405.
    app = GatewayOnly(
        HeadAsGet(system.factory(context)), key=key, instance=spec.name, system=args.system
    )
    configure_logging(json=settings.log_format == "json")
    banner = _banner(args, spec, settings, bus)
    try:
        run_server(app, args, settings, sock=sock, on_started=lambda: print(banner, flush=True))
    finally:
        sock.close()
    return 0


def _owner(topology: Topology, instances: list[str] | None, system: str) -> InstanceSpec:
    """The one instance named with `--instance`, which must own `system` in the topology."""
    if not instances or len(instances) != 1:
        raise ValueError("--system needs exactly one --instance: the instance that owns it")
    spec = topology.get(instances[0])
    if spec is None:
        names = ", ".join(i.name for i in topology.instances)
        raise ValueError(f"no instance {instances[0]!r} in the topology; it has {names}")
    if system not in {s.name for s in spec.systems}:
        owned = ", ".join(s.name for s in spec.systems) or "none"
        raise ValueError(f"instance {spec.name} has no system {system!r} (it has {owned})")
    return spec


def _banner(args: argparse.Namespace, spec: InstanceSpec, settings: Settings, bus: Any) -> str:
    where = f"http://{args.host}:{args.port}"
    line = f"System {args.system} of {spec.name} at {where}, its data in "
    line += settings.systems_database_url.split("///")[-1]
    if bus is not None:
        line += f"; it calls the bus at {bus.base_url} as {bus.client_id}"
    return line
