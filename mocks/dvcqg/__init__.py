"""Mock national public-service portal (DVCQG): the national view of every synced dossier."""
