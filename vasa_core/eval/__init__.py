"""Metrics on motion sequences (and, through Face Mesh, on any talking-face video)."""
