"""Readers of the outside world. Only this package imports MLflow."""
