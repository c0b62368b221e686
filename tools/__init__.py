"""Developer tools that are not shipped in the wheel (``python -m tools.imports``)."""
