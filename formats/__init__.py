"""The wire formats both sides of the bus speak: codecs, and the facts of each format.

The gateway's adapters translate these formats into canonical JSON, and the mock systems speak
them natively; both import the codecs from here, so neither depends on the other. A codec reads
and writes one format (edXML, CCCD numbers, legacy dates, the NGSP envelope) and knows nothing
of the bus: this package imports nothing else of the project's.
"""

from __future__ import annotations

from formats.cccd import PROVINCE_CODES, Cccd, InvalidCccd, make_cccd, parse_cccd
from formats.dates import (
    VIETNAM_TIME,
    format_ddmmyyyy,
    format_dvcqg_time,
    parse_ddmmyyyy,
    parse_dvcqg_time,
)
from formats.edxml import (
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
from formats.errors import TranslationError

__all__ = [
    "PROVINCE_CODES",
    "STATUS_CODES",
    "VIETNAM_TIME",
    "Cccd",
    "EdxmlLimits",
    "InvalidCccd",
    "InvalidEdxml",
    "TranslationError",
    "format_ddmmyyyy",
    "format_dvcqg_time",
    "make_cccd",
    "parse_cccd",
    "parse_ddmmyyyy",
    "parse_dvcqg_time",
    "parse_edxml",
    "parse_status",
    "render_edxml",
    "render_status",
    "validate_document",
    "validate_status",
]
