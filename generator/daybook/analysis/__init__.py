"""Pure functions over the snapshot: no I/O, no MLflow, no rendering."""
