"""Mock public-service portal (DVC): procedures, dossier lifecycle, deadlines, dossier numbers."""
