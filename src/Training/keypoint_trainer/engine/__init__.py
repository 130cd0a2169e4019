"""The runner: the one fit loop (``fit``: resume, data order, checkpoints, hooks), learning-rate
schedules, seeding, threads, progress lines, batched prediction with a model's codec, the one
exporter (``export``: ONNX + checker, golden samples, manifest; ``publish``: atomic publishing),
fixture building, and the report kit (``report``, ``figures``)."""
