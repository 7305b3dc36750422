"""A province's document exchange endpoint (VDXP, DOMAIN.md §2.4) carrying edXML documents."""
