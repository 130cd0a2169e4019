"""KeypointService training worker.

Run as ``PYTHONPATH=src/Training /usr/bin/python3 -m keypoint_trainer <subcommand>``.

Layout (MMPose-like: codecs own encode and decode, models, metrics and data are separate pieces,
one runner; a family is a plan, not a stack):

* ``core``         config (one loader, TOML profiles in ``configs/<family>/`` + ``--set``), keypoints,
                   pre-processing, manifests, provenance, registries of commands and fixtures
* ``codecs``       heatmap, dark, regression, soft_argmax, jigsaw, klp, grouping: encode targets,
                   decode predictions
* ``models``       HeatmapNet, RegressionNet (heads own their codec: ``models/factory.py``), flip test,
                   EFD (SPMKD), KLPNet (multi), joint and posture heads
* ``metrics``      pck, joints, grouping, ssim, flops
* ``data``         stick/, multi/, pressure/ (public helpers only), draw
* ``engine``       fit loop (resume, schedules, progress, threads, seeding), predict, export (ONNX +
                   golden + manifest), publish, fixtures, report kit
* ``experiments``  stick/, spmkd/, multi/, hsjp/: the plans, their CLI commands and reports
* ``plugins``      imports every module that registers commands or fixtures; ``cli`` builds the parser

The import graph has no cycles and no family imports another (tests/training/test_import_graph.py).
"""

__version__ = "0.1.0"
