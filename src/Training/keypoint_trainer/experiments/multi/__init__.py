"""Multi-figure stick-figure keypoints with link prediction (KLPNet ideas, seed 004).

* ``data``      1-4 overlapping / occluding figures per image at different scales
* ``model``     KLPNet-style network: one category-implicit heatmap + offsets refined over
                stages (coarse-to-fine Gaussian targets, kernels 7/5/3, cross-stage feature
                aggregation), keypoint-type map and per-keypoint embeddings
* ``grouping``  the reference grouping step: peaks -> link scores A = sigma(s * Z Z^T + b)
                -> assembly into figures with outliers (mirrored in C#,
                src/Models/Processing/Grouping)
* ``train``, ``evaluate``, ``export``, ``report``, ``plugin`` (CLI ``multi ...`` + fixture)
See docs/klpnet.md.
"""
