"""What every family shares and nothing else: configuration (one loader for every family), keypoint
definitions, the manifest's pre-processing, manifests, provenance, and the registries of commands
and fixtures. ``core`` imports nothing else of the package."""
