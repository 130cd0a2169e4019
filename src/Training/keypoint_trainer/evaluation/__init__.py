"""Metrics, prediction, figures, ablations and the report."""
