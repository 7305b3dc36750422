"""The wire formats both sides of the bus speak: codecs, and the facts of each format.

The gateway's adapters translate these formats into canonical JSON, and the mock systems speak
them natively; both import the codecs from here, so neither depends on the other. A codec reads
and writes one format (edXML, CCCD numbers, legacy dates, the NGSP envelope) and knows nothing
of the bus: this package imports nothing else of the project's.

Each module is the public surface of its format (`formats.edxml`, `formats.cccd`,
`formats.dates`, `formats.dvcqg`, `formats.ngsp`, `formats.codes`, `formats.xmldsig` with its
verdicts' reasons in `formats.signature_reasons`; `formats.errors` for the error they share);
modules whose names start with `_` are the edXML codec's internals.
"""
