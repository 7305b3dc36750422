"""Pure translation between the bus's canonical JSON and each owning system's own format.

`ADAPTERS` maps the `adapter` name used in catalog files (`services/*.toml`) to the adapter
class; the gateway builds each one with the clock it is given (adapters keep none).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from adapters import dancu, dvc, dvcqg, qlvb, vdxp
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
from adapters.cccd import PROVINCE_CODES, Cccd, InvalidCccd, make_cccd, parse_cccd
from adapters.dancu import (
    CitizenNotFound,
    DancuAdapter,
    InvalidVerificationRequest,
    UpstreamAnswerInvalid,
    citizen_to_canonical,
    household_to_canonical,
    verification_to_canonical,
)
from adapters.dates import format_ddmmyyyy, parse_ddmmyyyy
from adapters.dvc import DvcAdapter
from adapters.dvcqg import DvcqgAdapter
from adapters.edxml import (
    STATUS_CODES,
    EdxmlLimits,
    InvalidEdxml,
    parse_edxml,
    parse_status,
    render_edxml,
    render_status,
    validate_document,
    validate_status,
)
from adapters.qlvb import QlvbAdapter
from adapters.vdxp import VdxpAdapter

# Typed as factories of `Adapter`, so mypy checks each class against the protocol here.
ADAPTERS: dict[str, Callable[..., Adapter]] = {
    "dancu": DancuAdapter,
    "dvc": DvcAdapter,
    "dvcqg": DvcqgAdapter,
    "qlvb": QlvbAdapter,
    "vdxp": VdxpAdapter,
}

# Adapter name → operation id → what it takes and answers (the published contracts).
CONTRACTS: dict[str, Mapping[str, OperationContract]] = {
    "dancu": dancu.CONTRACTS,
    "dvc": dvc.CONTRACTS,
    "dvcqg": dvcqg.CONTRACTS,
    "qlvb": qlvb.CONTRACTS,
    "vdxp": vdxp.CONTRACTS,
}

__all__ = [
    "ADAPTERS",
    "CONTRACTS",
    "PROVINCE_CODES",
    "STATUS_CODES",
    "Adapter",
    "CanonicalRequest",
    "CanonicalResponse",
    "Cccd",
    "CitizenNotFound",
    "DancuAdapter",
    "DvcAdapter",
    "DvcqgAdapter",
    "EdxmlLimits",
    "InvalidCccd",
    "InvalidEdxml",
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
    "format_ddmmyyyy",
    "household_to_canonical",
    "make_cccd",
    "parse_edxml",
    "parse_status",
    "render_edxml",
    "render_status",
    "parse_cccd",
    "parse_ddmmyyyy",
    "validate_document",
    "validate_status",
    "verification_to_canonical",
]
