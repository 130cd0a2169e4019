"""Multi-figure stick-figure images (1-4 overlapping, occluding figures; docs/klpnet.md)."""
