"""Training loop, experiments, checkpoint/resume."""
