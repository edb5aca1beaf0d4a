"""Daybook: an ML team's MLflow runs, registry, model cards and notes as one static site."""

__version__ = "0.1.0"
