"""The national document axis (VDXP, DOMAIN.md §2.4): edXML between provinces, store-and-forward."""
