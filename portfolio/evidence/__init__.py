"""Students' evidence and its artefacts (uploaded files and links)."""
