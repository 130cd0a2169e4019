"""KeypointService training worker.

Run as ``PYTHONPATH=src/Training /usr/bin/python3 -m keypoint_trainer <subcommand>``.

Layout (MMPose-like, one concern per module):

* ``keypoints``      keypoint names and skeleton links (the single Python home of them)
* ``preprocessing``  resize + normalise of docs/model-manifest.md (the single Python home)
* ``manifest``       build / write / validate model manifests, sha256
* ``codecs``         target encoding and prediction decoding (pure NumPy + torch twins)
* ``models``         HeatmapNet, RegressionNet and variants
* ``data``           synthetic stick-figure generator and ``KeypointDataset``
* ``training``       train loop, checkpoint/resume
* ``evaluation``     PCK / AUC / pixel error and figures
* ``export``         ONNX export, golden samples, publish, fixtures
* ``utils``          seeding, progress lines, checkpoint files, thread set-up

Other packages (``spmkd``, ``pressure``) plug in through ``cli.register_command`` and
``fixtures.register_fixture`` from a module named ``plugin.py`` in their sub-package,
which the CLI imports automatically.
"""

__version__ = "0.1.0"
