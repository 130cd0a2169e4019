"""A simulated night in bed: timestamped pressure frames with the true postures, a replay into a
running service's /v1/beds, and the alert-timing and posture-change-delay measurements (docs/beds-night.md)."""
