using System.Text.Json;
using System.Text.RegularExpressions;
using KeypointService.Api.Beds.Live;
using KeypointService.Api.Beds.Monitoring;
using KeypointService.Api.Beds.Storage;
using KeypointService.Api.Contracts;
using KeypointService.Api.Infrastructure;
using KeypointService.Api.Inputs;
using KeypointService.Models.Inference;
using KeypointService.Models.Inference.Batching;
using KeypointService.Models.Inputs;
using KeypointService.Models.Serving;
using Microsoft.Extensions.Options;

namespace KeypointService.Api.Beds;

/// <summary>A frame's outcome: the answer (fresh or repeated for a known frame_id), or a problem to return.</summary>
public abstract record FrameOutcome;
public sealed record FrameAnswered(BedFrameResponse Response, bool Repeated) : FrameOutcome;
public sealed record FrameProblem(int Status, string Title, string Detail) : FrameOutcome;

/// <summary>
/// Per-bed monitoring: reads a frame with the bed model (keypoints, joints, posture), runs the
/// bed's temporal logic on its stored state, stores state, events and answer in one transaction,
/// and only then answers and pushes to the bed's live connections.
/// </summary>
public sealed partial class BedService(ModelStore models, InferenceScheduler scheduler, IBedStore store, BedLiveHub hub,
    ILiveRelay relay, IOptions<BedOptions> options, TimeProvider clock)
{
    public BedOptions Options { get; } = options.Value;
    public IBedStore Store => store;
    public BedLiveHub Hub => hub;

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$")]
    private static partial Regex IdPattern();

    /// <summary>Null if <paramref name="id"/> is a usable bed or frame id, else why not.</summary>
    public static string? CheckId(string id, string what) =>
        IdPattern().IsMatch(id) ? null : $"{what} '{(id.Length > 40 ? id[..40] + "…" : id)}' must be 1-128 characters of letters, digits, '.', '_', ':' or '-', starting with a letter or digit";

    public async Task<FrameOutcome> SubmitAsync(string bedId, InputMap map, long timestampMs, string? frameId, CancellationToken cancellation)
    {
        if (CheckId(bedId, "bed id") is { } badBed) return BadInput(badBed);
        if (frameId is not null && CheckId(frameId, "frame_id") is { } badFrame) return BadInput(badFrame);
        if (models.TryAcquire(Options.Model, out var status) is not { } lease)
            return new FrameProblem(StatusCodes.Status503ServiceUnavailable, "Model unavailable",
                $"the bed model '{Options.Model}' (Beds:Model) is {(status is null ? "not in the store" : $"not loaded ({status.State.ToString().ToLowerInvariant()})")}");
        using (lease)
        {
            var manifest = lease.Model.Manifest;
            if (manifest.Posture is null || manifest.Joints is null)
                return new FrameProblem(StatusCodes.Status503ServiceUnavailable, "Model unsuitable",
                    $"the bed model '{manifest.Name}' version {manifest.Version} has no posture head or no joints head (Beds:Model must name an SPMKD model with both)");
            Prediction prediction;
            prediction = await scheduler.RunAsync(new InferenceRequest(lease.Model, map, new PredictionOptions()), cancellation);
            var posture = ResponseMapper.ToDto(prediction.Posture!);
            var observation = new FrameObservation(timestampMs, frameId, prediction.Posture!.Label, prediction.Joints!, map.Width, map.Height);
            BedFrameResponse? fresh = null;
            var commit = await store.CommitFrameAsync(bedId, frameId,
                current => BedMonitor.Apply(current, bedId, observation, Options, clock.GetUtcNow().ToUnixTimeMilliseconds()),
                (accepted, events) =>
                {
                    fresh = new BedFrameResponse
                    {
                        BedId = bedId, FrameId = frameId, Timestamp = Times.Format(timestampMs), Model = manifest.Name, Version = manifest.Version,
                        Posture = posture,
                        Joints = accepted.Joints.Select(j => new BedJointDto(j.Name, j.X, j.Y, j.XNorm, j.YNorm)).ToList(),
                        JointLinks = manifest.Joints.Skeleton,
                        Events = events.Select(BedMapper.ToDto).ToList(),
                        State = BedMapper.ToDto(accepted.Next, Options),
                    };
                    return JsonSerializer.Serialize(fresh, BedJson.Options);
                }, cancellation);
            switch (commit)
            {
                case FrameCommitted:
                    Push(bedId, [.. fresh!.Events.Select(e => new LivePush(LiveKinds.Event, e, e.Id)), new LivePush(LiveKinds.Frame, fresh)]);
                    return new FrameAnswered(fresh, Repeated: false);
                case FrameRepeated repeated:
                    return new FrameAnswered(JsonSerializer.Deserialize<BedFrameResponse>(repeated.ResponseJson, BedJson.Options)!, Repeated: true);
                case FrameRefused refused:
                    return new FrameProblem(StatusCodes.Status409Conflict, "Frame out of order", refused.Detail);
                default:
                    throw new InvalidOperationException("unknown commit outcome");
            }
        }
    }

    /// <summary>
    /// Sets a bed's repositioning limit (creating the bed if needed); the alert is judged again against the
    /// bed's last frame at once, and the events that causes are stored and pushed like a frame's.
    /// </summary>
    public async Task<BedState> SetLimitAsync(string bedId, double? limitMinutes, CancellationToken cancellation)
    {
        var updated = await store.UpdateAsync(bedId,
            current => BedMonitor.SetLimit(current, bedId, limitMinutes, Options, clock.GetUtcNow().ToUnixTimeMilliseconds()), cancellation);
        PushEvents(bedId, updated!.Events);
        return updated.Bed;
    }

    /// <summary>
    /// The bed watch (<see cref="BedMonitor.Watch"/>): every bed whose frames have stopped for longer than the
    /// sensor timeout gets its <c>sensor_offline</c> event, and every bed whose repositioning alert came due
    /// since its last frame its <c>alert_raised</c>, once, stored and pushed. Judged again under each bed's
    /// lock (a frame may have arrived, another replica may have reported it); returns the events reported.
    /// </summary>
    public async Task<IReadOnlyList<StoredEvent>> WatchBedsAsync(CancellationToken cancellation)
    {
        var reported = new List<StoredEvent>();
        var now = clock.GetUtcNow().ToUnixTimeMilliseconds();
        foreach (var bed in (await store.ListAsync(cancellation)).Where(b => BedMonitor.NeedsWatch(b, Options, now)))
        {
            var updated = await store.UpdateAsync(bed.BedId, current => BedMonitor.Watch(current, Options, now), cancellation);
            if (updated is null) continue;
            PushEvents(bed.BedId, updated.Events);
            reported.AddRange(updated.Events);
        }
        return reported;
    }

    private void PushEvents(string bedId, IReadOnlyList<StoredEvent> events) =>
        Push(bedId, [.. events.Select(BedMapper.ToDto).Select(e => new LivePush(LiveKinds.Event, e, e.Id))]);

    /// <summary>A commit's pushes: to this replica's live connections, and through the relay to the other replicas'.</summary>
    private void Push(string bedId, IReadOnlyList<LivePush> pushes)
    {
        if (pushes.Count == 0) return;
        foreach (var push in pushes) hub.Publish(bedId, push);
        relay.Relay(bedId, pushes);
    }

    private static FrameProblem BadInput(string detail) => new(StatusCodes.Status400BadRequest, "Invalid input", detail);

    /// <summary>A refused input or an overloaded service as a frame problem.</summary>
    public static FrameProblem ToProblem(RequestProblemException e) => new(e.Status, e.Title, e.Message);
    public static FrameProblem ToProblem(OverloadException e) => new(StatusCodes.Status503ServiceUnavailable, "Service overloaded", e.Message);
}
