"""Snapshot + analysis -> Markdown pages."""
