using KeypointService.Models.Manifests;

namespace KeypointService.Models.Processing.Grouping;

/// <summary>One raw model output: row-major float data and its shape (e.g. [N, C, H, W]).</summary>
public sealed record GroupingTensor(float[] Data, long[] Shape);

/// <summary>A category-implicit detection: a heatmap peak with its sub-cell position, type and score.</summary>
/// <param name="X">Normalised x in [0, 1] of the model input (= of the caller's image).</param>
/// <param name="Y">Normalised y.</param>
/// <param name="Score">Heatmap value at the peak.</param>
/// <param name="Type">Keypoint-type index (into the manifest's keypoints).</param>
/// <param name="TypeScore">Probability of that type.</param>
/// <param name="VoteX">Normalised x of its vote for its figure's head (with <c>grouping.head_vote</c> only).</param>
/// <param name="VoteY">Normalised y of that vote.</param>
public sealed record GroupedDetection(double X, double Y, double Score, int Type, double TypeScore, double? VoteX = null, double? VoteY = null);

/// <summary>A keypoint of an instance: name, type index, the detection it came from, normalised position and score.</summary>
public sealed record InstanceKeypoint(string Name, int Type, int Detection, double X, double Y, double Score);

/// <summary>A link of an instance: the candidate link index (−1: none joins its ends' types, with <c>grouping.retype</c>),
/// its keypoint-type pair, the two detections and S_ij.</summary>
public sealed record InstanceLink(int Link, int From, int To, int FromDetection, int ToDetection, double Score);

/// <summary>One figure: its keypoints (ordered by type, missing types absent), links and score.</summary>
public sealed record FigureInstance(IReadOnlyList<InstanceKeypoint> Keypoints, IReadOnlyList<InstanceLink> Links, double Score);

/// <summary>The grouping of one image: all detections, the instances (best first) and the outlier detections.</summary>
public sealed record GroupingResult(IReadOnlyList<GroupedDetection> Detections, IReadOnlyList<FigureInstance> Instances, IReadOnlyList<int> Outliers);

/// <summary>
/// The grouping step of task <c>multi</c>: heatmap peaks → link scores A = σ(s·ZZᵀ + b) (with head votes
/// S = A^(1 − w)·exp(−w·d²/(2σ²))) → greedy assembly into figures (with <c>retype</c>, re-typing each joined figure), with
/// outliers for detections that fit no figure. A pure function of
/// the raw outputs and the manifest's <see cref="GroupingSpec"/>; the steps are those of
/// keypoint_trainer/codecs/grouping.py (docs/model-manifest.md, "Grouping"), in float64 and in the same
/// order, and the golden samples check that both agree.
/// </summary>
public static class FigureGrouping
{
    /// <summary>Most keypoint types <c>grouping.retype</c> allows: its search tries up to K! type assignments per merge.</summary>
    public const int MaxRetypeKeypoints = 8;

    /// <summary>Groups batch item <paramref name="item"/> of a <c>multi</c> model's outputs (keyed by output name).</summary>
    public static GroupingResult Group(ModelManifest manifest, IReadOnlyDictionary<string, GroupingTensor> outputs, int item = 0)
    {
        var spec = manifest.Grouping ?? throw new ArgumentException($"model '{manifest.Name}' has no grouping spec (task {manifest.Task})");
        return Group(spec, manifest.Keypoints, manifest.Skeleton, outputs, item);
    }

    /// <summary>Groups batch item <paramref name="item"/>; <paramref name="keypointNames"/> and <paramref name="skeleton"/> as in the manifest.</summary>
    public static GroupingResult Group(GroupingSpec spec, IReadOnlyList<string> keypointNames, IReadOnlyList<int[]> skeleton,
        IReadOnlyDictionary<string, GroupingTensor> outputs, int item = 0)
    {
        var heat = Plane(outputs, spec.Heatmap, 1, item, out var height, out var width);
        var offsets = Plane(outputs, spec.Offsets, 2, item, out _, out _, height, width);
        var k = keypointNames.Count;
        var types = Plane(outputs, spec.Types, k, item, out _, out _, height, width);
        var embeddingTensor = Get(outputs, spec.Embeddings);
        if (embeddingTensor.Shape.Length != 4) throw new ArgumentException($"output '{spec.Embeddings}' must be [N, D, H, W]");
        var d = (int)embeddingTensor.Shape[1];
        var embeddings = Plane(outputs, spec.Embeddings, d, item, out _, out _, height, width);
        var headOffsets = spec.HeadVote is { } vote ? Plane(outputs, vote.Output, 2, item, out _, out _, height, width) : default;
        var plane = height * width;

        // 1-2. Peaks and detections.
        var peaks = FindPeaks(heat, width, height, spec.PeakThreshold, spec.MaxDetections);
        var detections = new GroupedDetection[peaks.Count];
        var cells = new int[peaks.Count];
        var typeProbabilities = new double[peaks.Count][];
        for (var n = 0; n < peaks.Count; n++)
        {
            var (score, cell) = peaks[n];
            int y = cell / width, x = cell % width;
            var t = 0;
            for (var c = 1; c < k; c++)
                if (types[c * plane + cell] > types[t * plane + cell]) t = c;
            double px = (x + 0.5 + offsets[cell]) / width, py = (y + 0.5 + offsets[plane + cell]) / height;
            double? voteX = null, voteY = null;
            if (spec.HeadVote is { } v)
                (voteX, voteY) = t == v.HeadType ? (px, py) // a head votes for itself
                    : ((x + 0.5 + headOffsets[cell]) / width, (y + 0.5 + headOffsets[plane + cell]) / height);
            detections[n] = new GroupedDetection(px, py, score, t, types[t * plane + cell], voteX, voteY);
            cells[n] = cell;
            typeProbabilities[n] = new double[k];
            for (var c = 0; c < k; c++) typeProbabilities[n][c] = types[c * plane + cell];
        }

        // 3. Link scores, with the head votes' agreement when the spec has them.
        var count = detections.Length;
        var a = new double[count, count];
        for (var i = 0; i < count; i++)
            for (var j = 0; j < count; j++)
            {
                var s = 0.0;
                for (var c = 0; c < d; c++) s += (double)embeddings[c * plane + cells[i]] * embeddings[c * plane + cells[j]];
                a[i, j] = Sigmoid(spec.LinkScale * s + spec.LinkBias);
                if (spec.HeadVote is { } v) a[i, j] = VoteScore(a[i, j], detections[i], detections[j], v);
            }

        // 4. Candidate links (the spec's type pairs, else the skeleton's; with retype every pair i < j), strongest first.
        var pairs = spec.LinksOf(skeleton);
        var candidates = new List<(double Score, int Link, int I, int J)>();
        void Consider(int l, int i, int j)
        {
            var distance = Hypot(detections[i].X - detections[j].X, detections[i].Y - detections[j].Y);
            if (a[i, j] >= spec.LinkThreshold && distance <= spec.MaxLinkLength) candidates.Add((a[i, j], l, i, j));
        }
        if (spec.Retype is not null)
            for (var i = 0; i < count; i++)
                for (var j = i + 1; j < count; j++) Consider(-1, i, j);
        else
            for (var l = 0; l < pairs.Count; l++)
                for (var i = 0; i < count; i++)
                {
                    if (detections[i].Type != pairs[l][0]) continue;
                    for (var j = 0; j < count; j++)
                        if (j != i && detections[j].Type == pairs[l][1]) Consider(l, i, j);
                }
        candidates.Sort((p, q) =>
        {
            var c = q.Score.CompareTo(p.Score);
            if (c != 0) return c;
            c = p.Link.CompareTo(q.Link);
            return c != 0 ? c : p.I != q.I ? p.I.CompareTo(q.I) : p.J.CompareTo(q.J);
        });

        // 5. Greedy assembly: union-find, at most one keypoint per type in a figure (with retype: re-typed on each merge).
        var parent = new int[count];
        var members = new SortedDictionary<int, SortedDictionary<int, int>>();
        var links = new Dictionary<int, List<(int Link, int I, int J, double Score)>>();
        for (var i = 0; i < count; i++)
        {
            parent[i] = i;
            members[i] = new SortedDictionary<int, int> { [detections[i].Type] = i };
            links[i] = [];
        }
        int Find(int i) { while (parent[i] != i) i = parent[i]; return i; }
        foreach (var (score, l, i, j) in candidates)
        {
            int ri = Find(i), rj = Find(j);
            if (ri == rj) continue;
            var joined = Join(members[ri], members[rj], typeProbabilities, spec.Retype);
            if (joined is null) continue;
            var (root, other) = ri < rj ? (ri, rj) : (rj, ri);
            parent[other] = root;
            members[root] = joined;
            members.Remove(other);
            links[root].AddRange(links[other]);
            links.Remove(other);
            links[root].Add((l, i, j, score));
        }

        // 6-7. Instances (scored, best first) and outliers.
        var instances = new List<(FigureInstance Instance, int First)>();
        var outliers = new List<int>();
        foreach (var (root, group) in members)
        {
            if (group.Count < spec.MinKeypoints) { outliers.AddRange(group.Values); continue; }
            var sum = 0.0;
            foreach (var det in group.Values) sum += detections[det].Score;
            foreach (var link in links[root]) sum += link.Score;
            var keypoints = group.Select(p => new InstanceKeypoint(keypointNames[p.Key], p.Key, p.Value, detections[p.Value].X, detections[p.Value].Y, detections[p.Value].Score)).ToArray();
            var instanceLinks = (spec.Retype is null ? links[root] : LinksOfTypes(links[root], group, pairs))
                .Select(x => x.Link >= 0 ? new InstanceLink(x.Link, pairs[x.Link][0], pairs[x.Link][1], x.I, x.J, x.Score)
                    : new InstanceLink(-1, TypeIn(group, x.I), TypeIn(group, x.J), x.I, x.J, x.Score)).ToArray();
            instances.Add((new FigureInstance(keypoints, instanceLinks, sum / (k + pairs.Count)), group.Values.Min()));
        }
        instances.Sort((p, q) => p.Instance.Score != q.Instance.Score ? q.Instance.Score.CompareTo(p.Instance.Score) : p.First.CompareTo(q.First));
        outliers.Sort();
        return new GroupingResult(detections, instances.Select(x => x.Instance).ToArray(), outliers);
    }

    /// <summary>Peaks of a heatmap: value ≥ threshold and beating its 8 neighbours (strictly those earlier in row-major order), best first.</summary>
    public static List<(double Score, int Cell)> FindPeaks(ReadOnlySpan<float> heat, int width, int height, double threshold, int maxDetections)
    {
        var peaks = new List<(double Score, int Cell)>();
        for (var y = 0; y < height; y++)
            for (var x = 0; x < width; x++)
            {
                double v = heat[y * width + x];
                if (!(v >= threshold)) continue;
                var ok = true;
                for (var dy = -1; dy <= 1 && ok; dy++)
                    for (var dx = -1; dx <= 1; dx++)
                    {
                        if (dx == 0 && dy == 0) continue;
                        int yy = y + dy, xx = x + dx;
                        if (yy < 0 || yy >= height || xx < 0 || xx >= width) continue;
                        double n = heat[yy * width + xx];
                        var earlier = dy < 0 || (dy == 0 && dx < 0);
                        if (earlier ? !(v > n) : !(v >= n)) { ok = false; break; }
                    }
                if (ok) peaks.Add((v, y * width + x));
            }
        peaks.Sort((p, q) => p.Score != q.Score ? q.Score.CompareTo(p.Score) : p.Cell.CompareTo(q.Cell));
        return peaks.Count > maxDetections ? peaks.GetRange(0, maxDetections) : peaks;
    }

    // The figure two figures make: their keypoints when no type is in both (without retype), else (retype) the best
    // type assignment of all their detections; null when they cannot join.
    private static SortedDictionary<int, int>? Join(SortedDictionary<int, int> first, SortedDictionary<int, int> second,
        double[][] typeProbabilities, RetypeSpec? retype)
    {
        if (retype is null)
        {
            if (first.Keys.Any(second.ContainsKey)) return null;
            var union = new SortedDictionary<int, int>(first);
            foreach (var (type, det) in second) union[type] = det;
            return union;
        }
        var detections = first.Values.Concat(second.Values).Order().ToArray();
        return AssignTypes(detections, typeProbabilities, retype.MinProbability);
    }

    /// <summary>
    /// Distinct types for <paramref name="detections"/> (ascending indices), each of probability ≥ <paramref name="minProbability"/>,
    /// with the largest sum of log probabilities: depth first, types in index order, the first found kept on ties
    /// (as assign_types in Python). Null when no assignment exists.
    /// </summary>
    public static SortedDictionary<int, int>? AssignTypes(IReadOnlyList<int> detections, double[][] typeProbabilities, double minProbability)
    {
        var used = new bool[typeProbabilities[detections[0]].Length];
        if (detections.Count > used.Length) return null; // more detections than types: no search needed
        var slots = new int[detections.Count];
        int[]? best = null;
        var bestTotal = double.NegativeInfinity;
        void Visit(int n, double total)
        {
            if (n == detections.Count)
            {
                if (total > bestTotal) (bestTotal, best) = (total, (int[])slots.Clone());
                return;
            }
            var probabilities = typeProbabilities[detections[n]];
            for (var t = 0; t < probabilities.Length; t++)
            {
                if (used[t] || !(probabilities[t] >= minProbability)) continue;
                used[t] = true;
                slots[n] = t;
                Visit(n + 1, total + Math.Log(probabilities[t]));
                used[t] = false;
            }
        }
        Visit(0, 0.0);
        if (best is null) return null;
        var figure = new SortedDictionary<int, int>();
        for (var n = 0; n < detections.Count; n++) figure[best[n]] = detections[n];
        return figure;
    }

    // With retype: each link under the candidate link of its ends' final types, oriented as that link; −1 when none joins them.
    private static List<(int Link, int I, int J, double Score)> LinksOfTypes(List<(int Link, int I, int J, double Score)> links,
        SortedDictionary<int, int> figure, IReadOnlyList<int[]> pairs)
    {
        var result = new List<(int Link, int I, int J, double Score)>();
        foreach (var (_, i, j, score) in links)
        {
            int ti = TypeIn(figure, i), tj = TypeIn(figure, j);
            var forward = IndexOfPair(pairs, ti, tj);
            var backward = forward < 0 ? IndexOfPair(pairs, tj, ti) : -1;
            result.Add(forward >= 0 ? (forward, i, j, score) : backward >= 0 ? (backward, j, i, score) : (-1, i, j, score));
        }
        return result;
    }

    private static int IndexOfPair(IReadOnlyList<int[]> pairs, int from, int to)
    {
        for (var l = 0; l < pairs.Count; l++)
            if (pairs[l][0] == from && pairs[l][1] == to) return l;
        return -1;
    }

    private static int TypeIn(SortedDictionary<int, int> figure, int detection) => figure.First(p => p.Value == detection).Key;

    private static double Sigmoid(double v) => 1.0 / (1.0 + Math.Exp(-v));

    // S = A^(1 - w) * exp(-w * d² / (2 sigma²)); the same operations in the same order as HeadVote.score in Python.
    private static double VoteScore(double a, GroupedDetection i, GroupedDetection j, HeadVoteSpec v)
    {
        double dx = i.VoteX!.Value - j.VoteX!.Value, dy = i.VoteY!.Value - j.VoteY!.Value;
        return Math.Pow(a, 1.0 - v.Weight) * Math.Exp(-v.Weight * (dx * dx + dy * dy) / (2.0 * v.Sigma * v.Sigma));
    }

    // Same expression as the Python reference (math.sqrt(dx * dx + dy * dy)), so both compare the same double with the limit.
    private static double Hypot(double dx, double dy) => Math.Sqrt(dx * dx + dy * dy);

    private static GroupingTensor Get(IReadOnlyDictionary<string, GroupingTensor> outputs, string name) =>
        outputs.TryGetValue(name, out var t) ? t : throw new ArgumentException($"output '{name}' is missing");

    private static ReadOnlySpan<float> Plane(IReadOnlyDictionary<string, GroupingTensor> outputs, string name, int channels, int item,
        out int height, out int width, int expectHeight = -1, int expectWidth = -1)
    {
        var t = Get(outputs, name);
        var s = t.Shape;
        if (s.Length != 4 || s[1] != channels || item < 0 || item >= s[0])
            throw new ArgumentException($"output '{name}' has shape [{string.Join(", ", s)}], expected [N, {channels}, H, W] with item {item} < N");
        height = (int)s[2];
        width = (int)s[3];
        if (expectHeight >= 0 && (height != expectHeight || width != expectWidth))
            throw new ArgumentException($"output '{name}' is {height}x{width}, the heatmap {expectHeight}x{expectWidth}");
        var size = channels * height * width;
        if (t.Data.Length < (item + 1) * size) throw new ArgumentException($"output '{name}' holds {t.Data.Length} values, fewer than its shape");
        return t.Data.AsSpan(item * size, size);
    }
}
