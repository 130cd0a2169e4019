"""Reference grouping step of the ``multi`` task (docs/klpnet.md, docs/model-manifest.md).

Pure NumPy, float64, explicit loops in a fixed order: the C# twin
(``src/Models/Processing/Grouping/FigureGrouping.cs``) implements the same steps and is
tested against this function on golden samples.

Inputs (one image, the raw ONNX outputs without the batch dimension):

* ``heatmap``    [1, H, W]  category-implicit keypoint probability (sigmoid applied in the graph)
* ``offsets``    [2, H, W]  sub-cell offset (dx, dy) in cells of the keypoint from the cell centre
* ``types``      [K, H, W]  keypoint-type probabilities (softmax over K in the graph)
* ``embeddings`` [D, H, W]  per-keypoint embedding z
* ``head_offsets`` [2, H, W] (only with ``head_vote``) offset (hx, hy) in cells from the cell
  centre to the head of the keypoint's figure

Steps:

1. Peaks: cell (x, y) is a detection when ``h >= peak_threshold`` and it beats its 8
   neighbours: ``h > h[n]`` for neighbours earlier in row-major order and ``h >= h[n]`` for
   later ones (one peak per plateau, deterministic). Sorted by score descending, ties by
   row-major index; the first ``max_detections`` are kept.
2. Each detection: x_norm = (x + 0.5 + dx) / W, y_norm = (y + 0.5 + dy) / H; type =
   first argmax of ``types[:, y, x]``; embedding z = ``embeddings[:, y, x]``.
3. Link scores (inner-product decoder): A_ij = sigmoid(link_scale * sum_d z_i[d] z_j[d] + link_bias).
   Without ``head_vote`` the link score is S_ij = A_ij. With it (spec ``head_vote``: head_type h,
   sigma, weight w; the model's ``head_offsets`` output) each detection votes for its figure's head:
   v_i = ((x + 0.5 + hx) / W, (y + 0.5 + hy) / H) with (hx, hy) = ``head_offsets[:, y, x]``, and a
   detection of type h votes for itself, v_i = (x_norm, y_norm). With
   d2_ij = (v_i.x - v_j.x)^2 + (v_i.y - v_j.y)^2 (normalised units)::

       S_ij = A_ij ** (1 - w) * exp(-w * d2_ij / (2 * sigma^2))

   the weighted geometric mean of the embedding score and the geometric agreement
   exp(-d2 / (2 sigma^2)): a pair whose votes are several sigma apart is vetoed whatever its
   embeddings say, so keypoints of overlapping figures that point at different heads are not joined.
   Steps 4-7 use S.
4. Candidate links: for every candidate link (a, b) (keypoint-type indices: the spec's
   ``candidate_links`` when given, else the skeleton's links) and detections i of type a, j of
   type b: S_ij >= link_threshold and the normalised distance |p_i - p_j| <= max_link_length.
   Sorted by S descending, then link index, i, j. Embeddings trained on figure membership score
   any two keypoints of a figure, so every type pair can be a candidate (:func:`all_type_pairs`):
   a figure whose head is missed still joins its hands and feet.
   With ``retype`` (spec ``retype``: min_probability) a detection's type is decided in its figure
   (step 5), so every pair i < j of detections is a candidate whatever their types (same S and
   distance tests), sorted by S descending, then i, j.
5. Assembly (greedy, union-find): a candidate joins the two figures of i and j unless they
   are already one figure or both have a keypoint of the same type (a figure holds at most
   one keypoint per type). With ``retype`` the second test is instead: the detections of the
   joined figure (by index) can take distinct types, each of probability >= min_probability;
   of those assignments (types tried in index order, depth first) the first with the largest
   sum of log probabilities gives the figure's types. A hand typed as a foot then still joins
   its figure as the hand when the figure's foot slot is taken by a surer foot. A link of an
   instance is reported under the candidate link of its two final types (either direction;
   link index -1 when no candidate link joins them).
6. Figures with at least ``min_keypoints`` keypoints are instances; every other detection is
   an *outlier* (the paper's location-instability idea: a node that fits no figure's
   geometry - no confident, plausible-length link to a figure with a free slot - is dropped,
   not forced into a figure).
7. Instance score = (sum of its keypoint scores + sum of its link scores) / (K + L), with K
   the number of keypoint types and L the number of candidate links (missing parts count 0).
   Instances are sorted by score descending, then by their smallest detection index.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any, Optional, Sequence

import numpy as np


@dataclass
class HeadVote:
    """The manifest's ``grouping.head_vote``: geometric agreement of the detections' head votes (step 3)."""
    output: str = "head_offsets"
    head_type: int = 0
    sigma: float = 0.05     # normalised distance between two votes at which agreement is exp(-1/2)
    weight: float = 0.5     # 0: the embedding score alone; 1: the votes alone

    def score(self, a: float, vi: tuple[float, float], vj: tuple[float, float]) -> float:
        """S = A ** (1 - w) * exp(-w * d2 / (2 sigma^2)) of two detections' link score A and votes."""
        dx, dy = vi[0] - vj[0], vi[1] - vj[1]
        return a ** (1.0 - self.weight) * math.exp(-self.weight * (dx * dx + dy * dy) / (2.0 * self.sigma * self.sigma))


@dataclass
class Retype:
    """The manifest's ``grouping.retype``: detection types decided per figure (steps 4-5)."""
    min_probability: float = 0.05   # a detection may take a type only with at least this probability


@dataclass
class GroupingSpec:
    """The manifest's ``grouping`` object (output names + parameters)."""
    heatmap: str = "heatmap"
    offsets: str = "offsets"
    types: str = "types"
    embeddings: str = "embeddings"
    peak_threshold: float = 0.3
    max_detections: int = 40
    link_scale: float = 1.0
    link_bias: float = 0.0
    link_threshold: float = 0.5
    max_link_length: float = 0.6
    min_keypoints: int = 2
    method: str = "link_prediction"
    #: keypoint-type pairs tried as links; None: the skeleton's links
    candidate_links: Optional[list[list[int]]] = None
    #: geometric link term from the ``head_offsets`` output; None: embeddings alone
    head_vote: Optional[HeadVote] = None
    #: per-figure type assignment; None: each detection keeps its most probable type
    retype: Optional[Retype] = None

    def to_manifest(self) -> dict[str, Any]:
        d = asdict(self)
        for optional in ("candidate_links", "head_vote", "retype"):
            if d[optional] is None:
                del d[optional]
        if self.head_vote is not None:
            v = self.head_vote
            d["head_vote"] = {"output": v.output, "head_type": int(v.head_type), "sigma": float(v.sigma),
                              "weight": float(v.weight)}
        if self.retype is not None:
            d["retype"] = {"min_probability": float(self.retype.min_probability)}
        return {"method": d.pop("method"), **{k: (float(v) if isinstance(v, float) else v) for k, v in d.items()}}

    def links(self, skeleton: Sequence[Sequence[int]]) -> list[tuple[int, int]]:
        """The type pairs tried as links: ``candidate_links``, else the skeleton's."""
        pairs = self.candidate_links if self.candidate_links is not None else skeleton
        return [(int(a), int(b)) for a, b in pairs]

    @classmethod
    def from_manifest(cls, d: dict[str, Any]) -> "GroupingSpec":
        kw = {k: d[k] for k in cls.__dataclass_fields__ if k in d}
        if kw.get("head_vote") is not None:
            kw["head_vote"] = HeadVote(**kw["head_vote"])
        if kw.get("retype") is not None:
            kw["retype"] = Retype(**kw["retype"])
        return cls(**kw)

    @property
    def output_names(self) -> list[str]:
        names = [self.heatmap, self.offsets, self.types, self.embeddings]
        return names + [self.head_vote.output] if self.head_vote is not None else names


@dataclass
class Detection:
    index: int          # position in the sorted detection list
    cell: int           # row-major cell index y * W + x
    x: float            # normalised
    y: float
    score: float
    type: int
    type_score: float
    type_probs: tuple[float, ...] = field(default=(), repr=False)   # every type's probability at the peak


@dataclass
class Instance:
    keypoints: dict[int, int]          # type -> detection index
    links: list[tuple[int, int, int, float]]  # (candidate link index or -1, detection i, detection j, S_ij)
    score: float

    def link_pair(self, link: int, i: int, j: int, pairs: Sequence[tuple[int, int]]) -> list[int]:
        """The keypoint types a link joins: its candidate link's pair, else (link -1) its ends' types."""
        if link >= 0:
            return [pairs[link][0], pairs[link][1]]
        type_of = {d: t for t, d in self.keypoints.items()}
        return [type_of[i], type_of[j]]


@dataclass
class GroupingResult:
    detections: list[Detection]
    instances: list[Instance]
    outliers: list[int]
    link_scores: np.ndarray = field(repr=False)    # S (= A without head votes)
    #: the candidate type pairs the instances' link indices refer to
    links: list[tuple[int, int]] = field(default_factory=list)
    #: per detection its head vote (normalised), with ``head_vote`` only
    votes: Optional[list[tuple[float, float]]] = None

    def to_json(self, keypoint_names: Sequence[str]) -> dict[str, Any]:
        """The golden-file form (normalised coordinates), which the C# test compares."""
        dets = [{"x": d.x, "y": d.y, "score": d.score, "type": d.type, "type_score": d.type_score}
                for d in self.detections]
        for d, v in zip(dets, self.votes or ()):
            d["vote"] = [v[0], v[1]]
        return {
            "detections": dets,
            "instances": [{
                "score": inst.score,
                "keypoints": [{"name": keypoint_names[t], "type": t, "detection": i, "x": self.detections[i].x,
                               "y": self.detections[i].y, "score": self.detections[i].score}
                              for t, i in sorted(inst.keypoints.items())],
                "links": [{"link": l, "pair": inst.link_pair(l, i, j, self.links), "from": i, "to": j,
                           "score": a} for l, i, j, a in inst.links],
            } for inst in self.instances],
            "outliers": list(self.outliers),
        }

    def instance_arrays(self, num_types: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """-> (keypoints [M, K, 2] normalised, NaN where missing; present [M, K]; scores [M])."""
        m = len(self.instances)
        kp = np.full((m, num_types, 2), np.nan)
        present = np.zeros((m, num_types), dtype=bool)
        for a, inst in enumerate(self.instances):
            for t, i in inst.keypoints.items():
                kp[a, t] = (self.detections[i].x, self.detections[i].y)
                present[a, t] = True
        return kp, present, np.array([inst.score for inst in self.instances])


def sigmoid(v: float) -> float:
    return 1.0 / (1.0 + math.exp(-v))


def find_peaks(heat: np.ndarray, threshold: float, max_detections: int) -> list[tuple[float, int]]:
    """``heat`` [H, W] -> [(score, cell)] sorted by score desc, then cell asc (step 1 of the module doc).

    Vectorised; the same comparisons as the C# loop: ``>`` against neighbours earlier in
    row-major order, ``>=`` against later ones, borders ignored."""
    h = np.asarray(heat, dtype=np.float64)
    H, W = h.shape
    p = np.pad(h, 1, constant_values=-np.inf)
    ok = h >= threshold
    for dy in (-1, 0, 1):
        for dx in (-1, 0, 1):
            if dx == 0 and dy == 0:
                continue
            n = p[1 + dy:1 + dy + H, 1 + dx:1 + dx + W]
            earlier = (dy < 0) or (dy == 0 and dx < 0)
            ok &= (h > n) if earlier else (h >= n)
    cells = np.flatnonzero(ok)
    vals = h.reshape(-1)[cells]
    order = np.lexsort((cells, -vals))[:max_detections]
    return [(float(vals[i]), int(cells[i])) for i in order]


def detect(outputs: dict[str, np.ndarray], spec: GroupingSpec) -> list[Detection]:
    """Peaks of the category-implicit heatmap, each with its offset-refined position and its type."""
    heat = np.asarray(outputs[spec.heatmap], dtype=np.float64)
    heat = heat.reshape(heat.shape[-2:])
    off = np.asarray(outputs[spec.offsets], dtype=np.float64)
    types = np.asarray(outputs[spec.types], dtype=np.float64)
    H, W = heat.shape
    dets: list[Detection] = []
    for n, (score, cell) in enumerate(find_peaks(heat, spec.peak_threshold, spec.max_detections)):
        y, x = divmod(cell, W)
        col = types[:, y, x]
        t = 0
        for k in range(1, col.shape[0]):
            if col[k] > col[t]:
                t = k
        dets.append(Detection(n, cell, (x + 0.5 + off[0, y, x]) / W, (y + 0.5 + off[1, y, x]) / H, score, t,
                              float(col[t]), tuple(float(p) for p in col)))
    return dets


def head_votes(dets: list[Detection], head_offsets: np.ndarray, vote: HeadVote) -> list[tuple[float, float]]:
    """Each detection's vote for its figure's head (normalised); a head detection votes for itself."""
    H, W = head_offsets.shape[-2:]
    votes = []
    for d in dets:
        if d.type == vote.head_type:
            votes.append((d.x, d.y))
        else:
            y, x = divmod(d.cell, W)
            votes.append(((x + 0.5 + head_offsets[0, y, x]) / W, (y + 0.5 + head_offsets[1, y, x]) / H))
    return votes


def link_scores(dets: list[Detection], emb: np.ndarray, spec: GroupingSpec, width: int,
                votes: Optional[list[tuple[float, float]]] = None) -> np.ndarray:
    """S of every pair of detections: A = sigmoid(s * z_i . z_j + b) (embeddings at their cells),
    combined with the head votes' agreement when ``votes`` are given (step 3 of the module doc)."""
    n = len(dets)
    z = [emb[:, d.cell // width, d.cell % width] for d in dets]
    A = np.zeros((n, n))
    for i in range(n):
        for j in range(n):
            s = 0.0
            for dd in range(emb.shape[0]):
                s += z[i][dd] * z[j][dd]
            a = sigmoid(spec.link_scale * s + spec.link_bias)
            A[i, j] = a if votes is None else spec.head_vote.score(a, votes[i], votes[j])
    return A


def all_type_pairs(num_types: int) -> list[list[int]]:
    """Every pair (a, b), a < b, of keypoint types: ``candidate_links`` for figure-membership embeddings."""
    return [[a, b] for a in range(num_types) for b in range(a + 1, num_types)]


def link_candidates(dets: list[Detection], A: np.ndarray, spec: GroupingSpec,
                    links: Sequence[Sequence[int]]) -> list[tuple[float, int, int, int]]:
    """(S_ij, link, i, j) of every candidate link between detections of the right types, strongest first
    (with ``retype``: every pair i < j, link -1, the types being decided in assembly)."""
    n = len(dets)
    cands = []

    def consider(l: int, i: int, j: int) -> None:
        dx, dy = dets[i].x - dets[j].x, dets[i].y - dets[j].y
        dist = math.sqrt(dx * dx + dy * dy)
        if A[i, j] >= spec.link_threshold and dist <= spec.max_link_length:
            cands.append((A[i, j], l, i, j))

    if spec.retype is not None:
        for i in range(n):
            for j in range(i + 1, n):
                consider(-1, i, j)
    else:
        for l, (a, b) in enumerate(links):
            for i in range(n):
                if dets[i].type != a:
                    continue
                for j in range(n):
                    if j != i and dets[j].type == b:
                        consider(l, i, j)
    cands.sort(key=lambda c: (-c[0], c[1], c[2], c[3]))
    return cands


def assign_types(members: Sequence[int], dets: list[Detection], min_probability: float) -> Optional[dict[int, int]]:
    """Distinct types for ``members`` (detection indices, ascending), each of probability >= min_probability,
    with the largest sum of log probabilities (the first found on ties; types tried in index order, depth
    first) -> {type: detection}; None when no assignment exists (step 5 with ``retype``)."""
    if len(members) > len(dets[members[0]].type_probs):
        return None  # more detections than types: no search needed
    best: list[Any] = [-math.inf, None]
    slots = [0] * len(members)

    def visit(n: int, used: set[int], total: float) -> None:
        if n == len(members):
            if total > best[0]:
                best[0], best[1] = total, list(slots)
            return
        for t, p in enumerate(dets[members[n]].type_probs):
            if t not in used and p >= min_probability:
                slots[n] = t
                visit(n + 1, used | {t}, total + math.log(p))

    visit(0, set(), 0.0)
    return None if best[1] is None else dict(sorted(zip(best[1], members)))


def assemble(dets: list[Detection], cands: list[tuple[float, int, int, int]],
             retype: Optional[Retype] = None) -> tuple[dict, dict]:
    """Greedy union of detections along the candidates, never two keypoints of one type in a figure
    (with ``retype``: re-typing the joined figure's detections) -> ({root: {type: detection}}, {root: links})."""
    parent = list(range(len(dets)))
    members: dict[int, dict[int, int]] = {i: {dets[i].type: i} for i in range(len(dets))}
    links: dict[int, list] = {i: [] for i in range(len(dets))}

    def find(i: int) -> int:
        while parent[i] != i:
            i = parent[i]
        return i

    for a_ij, l, i, j in cands:
        ri, rj = find(i), find(j)
        if ri == rj:
            continue
        if retype is None:
            if set(members[ri]) & set(members[rj]):
                continue
            joined = {**members[ri], **members[rj]}
        else:
            joined = assign_types(sorted([*members[ri].values(), *members[rj].values()]), dets, retype.min_probability)
            if joined is None:
                continue
        root, other = (ri, rj) if ri < rj else (rj, ri)
        parent[other] = root
        members.pop(other)
        members[root] = joined
        links[root].extend(links.pop(other))
        links[root].append((l, i, j, float(a_ij)))
    return members, links


def link_of_types(links: list[tuple[int, int, int, float]], kps: dict[int, int],
                  pairs: Sequence[tuple[int, int]]) -> list[tuple[int, int, int, float]]:
    """With ``retype``: each link (-1, i, j, S) under the candidate link of its ends' final types, oriented as
    that link (from its first type to its second); -1 and (i, j) when no candidate link joins the two types."""
    type_of = {d: t for t, d in kps.items()}
    out = []
    for _, i, j, a in links:
        ti, tj = type_of[i], type_of[j]
        if (ti, tj) in pairs:
            out.append((pairs.index((ti, tj)), i, j, a))
        elif (tj, ti) in pairs:
            out.append((pairs.index((tj, ti)), j, i, a))
        else:
            out.append((-1, i, j, a))
    return out


def group(outputs: dict[str, np.ndarray], spec: GroupingSpec, skeleton: Sequence[Sequence[int]],
          num_types: Optional[int] = None) -> GroupingResult:
    """Group one image's raw outputs (no batch dimension) into figures."""
    emb = np.asarray(outputs[spec.embeddings], dtype=np.float64)
    K = int(num_types or np.asarray(outputs[spec.types]).shape[0])
    dets = detect(outputs, spec)
    votes = None
    if spec.head_vote is not None:
        if spec.head_vote.output not in outputs:
            raise KeyError(f"grouping.head_vote needs the model output {spec.head_vote.output!r}")
        votes = head_votes(dets, np.asarray(outputs[spec.head_vote.output], dtype=np.float64), spec.head_vote)
    A = link_scores(dets, emb, spec, np.asarray(outputs[spec.heatmap]).shape[-1], votes)
    pairs = spec.links(skeleton)
    members, links = assemble(dets, link_candidates(dets, A, spec, pairs), spec.retype)
    instances, outliers = [], []
    for r in sorted(members):
        kps = members[r]
        if len(kps) >= spec.min_keypoints:
            score = (sum(dets[i].score for i in kps.values()) + sum(x[3] for x in links[r])) / (K + len(pairs))
            inst_links = links[r] if spec.retype is None else link_of_types(links[r], kps, pairs)
            instances.append(Instance(dict(sorted(kps.items())), inst_links, score))
        else:
            outliers.extend(kps.values())
    instances.sort(key=lambda inst: (-inst.score, min(inst.keypoints.values())))
    return GroupingResult(dets, instances, sorted(outliers), A, pairs, votes)


def synthetic_outputs(figures: Sequence[np.ndarray], size: tuple[int, int] = (64, 64), num_types: int = 5,
                      embed_dim: int = 8, sigma: float = 1.0, scale: float = 4.0,
                      extra: Sequence[tuple[float, float, int]] = (),
                      heads: Optional[Sequence[Sequence[float]]] = None,
                      embedding_ids: Optional[Sequence[int]] = None,
                      mistyped: Sequence[tuple[int, int, int, float]] = ()) -> dict[str, np.ndarray]:
    """Ideal network outputs for keypoints ``[K, 2]`` per figure (normalised coordinates).

    Heatmap = max of unit Gaussians (sigma in cells), exact offsets and one-hot types in the
    3x3 cells around each keypoint, embedding = ``scale`` * unit vector e_f of figure f
    (orthogonal figures). ``extra`` adds stray detections (x, y, type) with a zero embedding
    (they must end up as outliers). A keypoint with NaN coordinates is left out (not detected).
    ``heads`` (one normalised (x, y) per figure, known even where the head is not detected) adds a
    ``head_offsets`` output: exact offsets in cells to the figure's head in the same cells (strays 0).
    ``embedding_ids`` gives figure f the embedding e_{ids[f]} instead of e_{f mod D}: figures with
    equal ids are ones the embeddings cannot tell apart. ``mistyped`` (figure, keypoint, type, p) gives that
    keypoint probability p of ``type`` and 1 - p of its own (a type head's confusion). For tests and golden
    grouping cases.
    """
    H, W = size
    heat = np.zeros((1, H, W))
    off = np.zeros((2, H, W))
    types = np.full((num_types, H, W), 1.0 / num_types)
    emb = np.zeros((embed_dim, H, W))
    hoff = np.zeros((2, H, W))
    jj, ii = np.meshgrid(np.arange(W), np.arange(H))
    pts = [(f, t, float(x), float(y)) for f, fig in enumerate(figures) for t, (x, y) in enumerate(fig)]
    pts += [(-1, int(t), float(x), float(y)) for x, y, t in extra]
    confusion = {(f, k): (t, p) for f, k, t, p in mistyped}
    for f, t, x, y in pts:
        if math.isnan(x) or math.isnan(y):
            continue
        u, v = x * W - 0.5, y * H - 0.5
        g = np.exp(-((jj - u) ** 2 + (ii - v) ** 2) / (2 * sigma * sigma))
        heat[0] = np.maximum(heat[0], g)
        cx, cy = int(round(u)), int(round(v))
        for dy in (-1, 0, 1):
            for dx in (-1, 0, 1):
                yy, xx = cy + dy, cx + dx
                if 0 <= yy < H and 0 <= xx < W:
                    off[:, yy, xx] = (u - xx, v - yy)
                    types[:, yy, xx] = 0.0
                    shown, p = confusion.get((f, t), (t, 1.0))
                    types[t, yy, xx] = 1.0 - p
                    types[shown, yy, xx] += p
                    emb[:, yy, xx] = 0.0
                    hoff[:, yy, xx] = 0.0
                    if f >= 0:
                        emb[(embedding_ids[f] if embedding_ids is not None else f) % embed_dim, yy, xx] = scale
                        if heads is not None:
                            hoff[:, yy, xx] = (heads[f][0] * W - 0.5 - xx, heads[f][1] * H - 0.5 - yy)
    outs = {"heatmap": heat.astype(np.float32), "offsets": off.astype(np.float32),
            "types": types.astype(np.float32), "embeddings": emb.astype(np.float32)}
    if heads is not None:
        outs["head_offsets"] = hoff.astype(np.float32)
    return outs
