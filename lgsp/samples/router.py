"""`{base}/admin/samples`: identifiers from the embedded systems' seeded data, for admin clients.

The systems say which identifiers they hold (`EmbeddedSystem.samples`, in the registry the bus
was built with); a system reached at a URL has none to offer.
"""

from __future__ import annotations

from lgsp.deps import BusDep, InstanceDep, admin_router
from lgsp.routing.systems import samples
from lgsp.samples.schemas import Samples

router = admin_router("/admin")

SAMPLE_COUNT = 5


@router.get("/samples")
async def sample_identifiers(instance: InstanceDep, bus: BusDep) -> Samples:
    """Valid identifiers from this instance's seeded data, to try the services with."""
    found = samples(
        bus.systems,
        instance.spec,
        bus.settings,
        count=SAMPLE_COUNT,
        provinces=bus.topology.provinces,
    )
    return Samples(instance=instance.spec.name, samples=found)
