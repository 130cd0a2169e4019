using System.Security.Cryptography;
using System.Text.Json;
using KeypointService.Models.Processing;
using KeypointService.Models.Processing.Grouping;

namespace KeypointService.Models.Manifests;

public sealed class ManifestException(string message) : Exception(message);

/// <summary>Reads a version directory's manifest.json, validates it against the shared JSON Schema and the files it names.</summary>
public static class ManifestReader
{
    public const string FileName = "manifest.json";
    private static readonly Lazy<ManifestSchema> Schema = new(ManifestSchema.LoadEmbedded);

    public static ModelManifest Parse(string json, string source)
    {
        JsonDocument document;
        try { document = JsonDocument.Parse(json, new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip }); }
        catch (JsonException e) { throw new ManifestException($"{source}: not valid JSON ({e.Message})"); }

        using (document)
        {
            var errors = Schema.Value.Validate(document.RootElement);
            if (errors.Count > 0)
                throw new ManifestException($"{source}: does not match the manifest schema: {string.Join("; ", errors.Take(10))}");
            var manifest = document.RootElement.Deserialize(ManifestJsonContext.Default.ModelManifest)
                ?? throw new ManifestException($"{source}: empty manifest");
            CheckConsistency(manifest, source);
            return manifest;
        }
    }

    /// <summary>Reads and checks a version directory: manifest, names, file hashes.</summary>
    public static ModelManifest ReadVersionDirectory(string versionDirectory, string expectedName, string expectedVersion)
    {
        var path = Path.Combine(versionDirectory, FileName);
        if (!File.Exists(path)) throw new ManifestException($"{path}: missing");
        var manifest = Parse(File.ReadAllText(path), path);
        if (manifest.Name != expectedName)
            throw new ManifestException($"{path}: name '{manifest.Name}' does not match its directory '{expectedName}'");
        if (manifest.Version != expectedVersion)
            throw new ManifestException($"{path}: version '{manifest.Version}' does not match its directory '{expectedVersion}'");
        VerifyFile(versionDirectory, manifest.ModelFile, manifest.Sha256);
        if (manifest.Outputs.Reconstruction is { } reconstruction)
            VerifyFile(versionDirectory, reconstruction.ModelFile, reconstruction.Sha256);
        return manifest;
    }

    private static void VerifyFile(string directory, string fileName, string expectedSha256)
    {
        var path = Path.Combine(directory, fileName);
        if (!File.Exists(path)) throw new ManifestException($"{path}: missing");
        using var stream = File.OpenRead(path);
        var actual = Convert.ToHexStringLower(SHA256.HashData(stream));
        if (actual != expectedSha256)
            throw new ManifestException($"{path}: sha256 {actual} does not match the manifest's {expectedSha256}");
    }

    // Cross-field rules the JSON Schema cannot express.
    private static void CheckConsistency(ModelManifest m, string source)
    {
        void Require(bool condition, string message) { if (!condition) throw new ManifestException($"{source}: {message}"); }
        var k = m.Keypoints.Count;
        foreach (var link in m.Skeleton) Require(link.All(i => i < k), $"skeleton link [{string.Join(",", link)}] refers to a keypoint beyond the {k} named");
        foreach (var link in m.Grouping?.CandidateLinks ?? [])
            Require(link.All(i => i < k), $"grouping.candidate_links [{string.Join(",", link)}] refers to a keypoint beyond the {k} named");
        if (m.Grouping is { HeadVote: { } vote } g)
        {
            Require(vote.HeadType < k, $"grouping.head_vote.head_type {vote.HeadType} is beyond the {k} keypoints named");
            Require(g.OutputNames.Count(n => n == vote.Output) == 1, $"grouping.head_vote.output '{vote.Output}' is already another grouping output");
        }
        if (m.Grouping is { Retype: not null })
            Require(k <= FigureGrouping.MaxRetypeKeypoints, $"grouping.retype searches type assignments and allows at most {FigureGrouping.MaxRetypeKeypoints} keypoint types, not {k}");
        switch (m.Decoding.Method)
        {
            case DecodingMethod.Dark or DecodingMethod.Argmax:
                Require(m.Outputs.Heatmaps is not null, $"decoding '{m.Decoding.Method}' needs outputs.heatmaps");
                break;
            case DecodingMethod.Direct:
                Require(m.Outputs.Coordinates is not null, "decoding 'direct' needs outputs.coordinates");
                break;
        }
        if (m.Joints is { } j)
        {
            Require(j.Weight.Count == 2 * j.Names.Count && j.Bias.Count == 2 * j.Names.Count, $"joints.weight/bias must have {2 * j.Names.Count} rows");
            Require(j.Weight.All(row => row.Length == 2 * k), $"joints.weight rows must have {2 * k} columns (2 x keypoints)");
            foreach (var link in j.Skeleton) Require(link.All(i => i < j.Names.Count), "joints.skeleton refers to an unknown joint");
        }
        if (m.Posture is { } posture) PostureHead.CheckShape(posture, k, message => Require(false, message));
    }
}
