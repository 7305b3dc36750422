"""Pure translation between the bus's canonical JSON and each owning system's own format.

The wire-format codecs the adapters build on (edXML, CCCD, legacy dates) are `formats`', which
the mocks share; this package exports only what is the gateway's: adapters and their contracts.

`ADAPTERS` maps the `adapter` name used in catalog files (`services/*.toml`) to the adapter
class; the gateway builds each one with the clock it is given (adapters keep none).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from adapters import dancu, dmhc, dvc, dvcqg, qlvb, vdxp
from adapters._common import UnknownOperation, UnsupportedMediaType
from adapters.base import (
    Adapter,
    CanonicalRequest,
    CanonicalResponse,
    OperationContract,
    SystemRequest,
    SystemResponse,
    TranslationError,
)
from adapters.dancu import (
    CitizenNotFound,
    DancuAdapter,
    InvalidVerificationRequest,
    UpstreamAnswerInvalid,
    citizen_to_canonical,
    household_to_canonical,
    verification_to_canonical,
)
from adapters.dmhc import DmhcAdapter
from adapters.dvc import DvcAdapter
from adapters.dvcqg import DvcqgAdapter
from adapters.qlvb import QlvbAdapter
from adapters.vdxp import VdxpAdapter

# Typed as factories of `Adapter`, so mypy checks each class against the protocol here.
ADAPTERS: dict[str, Callable[..., Adapter]] = {
    "dancu": DancuAdapter,
    "dmhc": DmhcAdapter,
    "dvc": DvcAdapter,
    "dvcqg": DvcqgAdapter,
    "qlvb": QlvbAdapter,
    "vdxp": VdxpAdapter,
}

# Adapter name → operation id → what it takes and answers (the published contracts).
CONTRACTS: dict[str, Mapping[str, OperationContract]] = {
    "dancu": dancu.CONTRACTS,
    "dmhc": dmhc.CONTRACTS,
    "dvc": dvc.CONTRACTS,
    "dvcqg": dvcqg.CONTRACTS,
    "qlvb": qlvb.CONTRACTS,
    "vdxp": vdxp.CONTRACTS,
}

__all__ = [
    "ADAPTERS",
    "CONTRACTS",
    "Adapter",
    "CanonicalRequest",
    "CanonicalResponse",
    "CitizenNotFound",
    "DancuAdapter",
    "DmhcAdapter",
    "DvcAdapter",
    "DvcqgAdapter",
    "InvalidVerificationRequest",
    "OperationContract",
    "QlvbAdapter",
    "SystemRequest",
    "SystemResponse",
    "TranslationError",
    "UnknownOperation",
    "UnsupportedMediaType",
    "UpstreamAnswerInvalid",
    "VdxpAdapter",
    "citizen_to_canonical",
    "household_to_canonical",
    "verification_to_canonical",
]
