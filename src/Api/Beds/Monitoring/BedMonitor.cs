using KeypointService.Models.Inference;

namespace KeypointService.Api.Beds.Monitoring;

/// <summary>One frame as the monitor sees it: its time, its posture and its (raw) joints.</summary>
public sealed record FrameObservation(long TimestampMs, string? FrameId, string Posture, IReadOnlyList<KeypointResult> Joints, int Width, int Height);

public abstract record FrameStep;

/// <summary>The frame is older than (or as old as) the bed's last accepted frame.</summary>
public sealed record FrameRejected(string Detail) : FrameStep;

public sealed record FrameAccepted(BedState Next, IReadOnlyList<EventDraft> Events, IReadOnlyList<SmoothedJoint> Joints) : FrameStep;

/// <summary>A change of a bed's settings: its next state and the events the change causes.</summary>
public sealed record BedChange(BedState Next, IReadOnlyList<EventDraft> Events);

/// <summary>
/// The temporal logic of one bed (docs/beds.md), a pure function of the stored state and the frame:
/// time order, sensor gaps, One Euro smoothing of the joints, the dwell rule for posture changes,
/// and the repositioning alert.
/// </summary>
public static class BedMonitor
{
    public static FrameStep Apply(BedState? stored, string bedId, FrameObservation frame, BedOptions options, long nowMs)
    {
        var bed = stored ?? new BedState { BedId = bedId, CreatedMs = nowMs };
        var t = frame.TimestampMs;
        if (bed.LastFrameMs is { } last && t <= last)
            return new FrameRejected($"frame at {Times.Format(t)} is not newer than the last accepted frame of bed '{bedId}' at {Times.Format(last)}; " +
                                     "frames must arrive in time order (a repeated frame_id is answered again instead)");
        var events = new List<EventDraft>();
        if (bed.OfflineSinceMs is { } offlineSince)
            events.Add(new EventDraft(BedEventTypes.SensorOnline, t, new Dictionary<string, object?>
            {
                ["offline_since"] = Times.Format(offlineSince), ["silent_seconds"] = (nowMs - bed.LastReceivedMs!.Value) / 1000.0,
            }));
        var filter = bed.Filter;
        if (bed.LastFrameMs is { } previous && t - previous > options.SensorTimeout.TotalMilliseconds)
        {
            events.Add(new EventDraft(BedEventTypes.SensorGap, t, new Dictionary<string, object?>
            {
                ["from"] = Times.Format(previous), ["to"] = Times.Format(t), ["gap_seconds"] = (t - previous) / 1000.0,
            }));
            filter = null; // the joints before the gap say nothing about the motion after it
        }
        var (joints, nextFilter) = Smooth(frame, filter, bed.LastFrameMs, options);

        string? posture = bed.Posture, candidate = bed.Candidate;
        long? since = bed.PostureSinceMs, candidateSince = bed.CandidateSinceMs, alertRaised = bed.AlertRaisedMs;
        var alert = bed.AlertActive;
        if (frame.Posture == posture) { candidate = null; candidateSince = null; }
        else
        {
            if (candidate != frame.Posture) { candidate = frame.Posture; candidateSince = t; }
            if (t - candidateSince!.Value >= options.Dwell.TotalMilliseconds)
            {
                events.Add(new EventDraft(BedEventTypes.PostureChanged, t, new Dictionary<string, object?>
                {
                    ["from"] = posture, ["to"] = candidate, ["since"] = Times.Format(candidateSince.Value),
                    ["previous_since"] = Times.Format(since), ["previous_seconds"] = since is { } s ? (candidateSince.Value - s) / 1000.0 : null,
                }));
                if (alert)
                {
                    events.Add(new EventDraft(BedEventTypes.AlertCleared, t, new Dictionary<string, object?>
                    {
                        ["reason"] = "posture_changed", ["posture"] = posture, ["new_posture"] = candidate,
                        ["alert_raised_at"] = Times.Format(alertRaised),
                    }));
                    alert = false;
                    alertRaised = null;
                }
                (posture, since, candidate, candidateSince) = (candidate, candidateSince, null, null);
            }
        }

        var limitMinutes = Limit(bed, options);
        if (!alert && posture is not null && Overdue(t, since!.Value, limitMinutes))
        {
            events.Add(Raised(t, posture, since.Value, limitMinutes));
            alert = true;
            alertRaised = t;
        }

        var next = bed with
        {
            Posture = posture, PostureSinceMs = since, Candidate = candidate, CandidateSinceMs = candidateSince,
            AlertActive = alert, AlertRaisedMs = alertRaised, LastFrameMs = t, LastFrameId = frame.FrameId,
            Frames = bed.Frames + 1, Filter = nextFilter, LastReceivedMs = nowMs, OfflineSinceMs = null,
        };
        return new FrameAccepted(next, events, joints);
    }

    /// <summary>
    /// A new repositioning limit (null: Beds:RepositionLimitMinutes), judged at once against the bed's last
    /// frame: an active alert the new limit no longer warrants is cleared (<c>limit_changed</c>), and a posture
    /// already held longer than a lowered limit raises the alert, as the next frame would have.
    /// </summary>
    public static BedChange SetLimit(BedState? stored, string bedId, double? limitMinutes, BedOptions options, long nowMs)
    {
        var bed = (stored ?? new BedState { BedId = bedId, CreatedMs = nowMs }) with { LimitMinutes = limitMinutes };
        if (bed.Posture is not { } posture || bed.PostureSinceMs is not { } since || bed.LastFrameMs is not { } t) return new BedChange(bed, []);
        var limit = limitMinutes ?? options.RepositionLimitMinutes;
        var overdue = Overdue(t, since, limit);
        if (bed.AlertActive && !overdue)
            return new BedChange(bed with { AlertActive = false, AlertRaisedMs = null },
            [
                new EventDraft(BedEventTypes.AlertCleared, t, new Dictionary<string, object?>
                {
                    ["reason"] = "limit_changed", ["posture"] = posture, ["limit_minutes"] = limit,
                    ["alert_raised_at"] = Times.Format(bed.AlertRaisedMs),
                }),
            ]);
        if (!bed.AlertActive && overdue)
            return new BedChange(bed with { AlertActive = true, AlertRaisedMs = t }, [Raised(t, posture, since, limit)]);
        return new BedChange(bed, []);
    }

    /// <summary>True when the bed watch has something to report: a sensor silent past its timeout, or an alert come due.</summary>
    public static bool NeedsWatch(BedState bed, BedOptions options, long nowMs) => Silent(bed, options, nowMs) || AlertDue(bed, options, nowMs);

    /// <summary>
    /// The bed watch's step, judged under the bed's lock between frames:
    /// <list type="bullet">
    /// <item>a bed whose frames stopped arriving (server time) for longer than the sensor timeout is reported
    /// once, <c>sensor_offline</c>; its next frame reports <c>sensor_online</c>;</item>
    /// <item>a repositioning alert that comes due between two frames is raised when it comes due, not by the
    /// next frame (a bed may send every few minutes, or have stopped sending): the posture is assumed held
    /// since the last frame, which the event names.</item>
    /// </list>
    /// Both are dated on the bed's own clock: its last frame time plus the server time since that frame arrived.
    /// Null when there is nothing to report (the bed was deleted, or a frame came in meanwhile).
    /// </summary>
    public static BedChange? Watch(BedState? stored, BedOptions options, long nowMs)
    {
        if (stored is null) return null;
        var events = new List<EventDraft>();
        var next = stored;
        if (Silent(stored, options, nowMs))
        {
            var silence = nowMs - stored.LastReceivedMs!.Value;
            events.Add(new EventDraft(BedEventTypes.SensorOffline, BedClock(stored, nowMs), new Dictionary<string, object?>
            {
                ["last_frame_at"] = Times.Format(stored.LastFrameMs), ["silent_seconds"] = silence / 1000.0,
                ["timeout_seconds"] = options.SensorTimeoutSeconds,
            }));
            next = next with { OfflineSinceMs = nowMs };
        }
        if (AlertDue(stored, options, nowMs))
        {
            var at = BedClock(stored, nowMs);
            events.Add(Raised(at, stored.Posture!, stored.PostureSinceMs!.Value, Limit(stored, options), stored.LastFrameMs));
            next = next with { AlertActive = true, AlertRaisedMs = at };
        }
        return events.Count == 0 ? null : new BedChange(next, events);
    }

    private static bool Silent(BedState bed, BedOptions options, long nowMs) =>
        bed.OfflineSinceMs is null && bed.LastReceivedMs is { } received && nowMs - received > options.SensorTimeout.TotalMilliseconds;

    private static bool AlertDue(BedState bed, BedOptions options, long nowMs) =>
        !bed.AlertActive && bed.Posture is not null && bed.PostureSinceMs is { } since && bed.LastReceivedMs is not null
        && Overdue(BedClock(bed, nowMs), since, Limit(bed, options));

    /// <summary>Server time <paramref name="nowMs"/> on the bed's clock: its last frame time plus the time since that frame arrived.</summary>
    private static long BedClock(BedState bed, long nowMs) => bed.LastFrameMs!.Value + Math.Max(0, nowMs - bed.LastReceivedMs!.Value);

    private static double Limit(BedState bed, BedOptions options) => bed.LimitMinutes ?? options.RepositionLimitMinutes;

    private static bool Overdue(long t, long since, double limitMinutes) => t - since > limitMinutes * 60_000;

    /// <summary>An alert_raised event; the bed watch names the last frame it assumed the posture held from.</summary>
    private static EventDraft Raised(long t, string posture, long since, double limitMinutes, long? lastFrameMs = null)
    {
        var data = new Dictionary<string, object?>
        {
            ["posture"] = posture, ["posture_since"] = Times.Format(since), ["limit_minutes"] = limitMinutes,
            ["due_at"] = Times.Format(since + (long)(limitMinutes * 60_000)), ["time_in_posture_seconds"] = (t - since) / 1000.0,
        };
        if (lastFrameMs is not null) data["last_frame_at"] = Times.Format(lastFrameMs);
        return new(BedEventTypes.AlertRaised, t, data);
    }

    private static (IReadOnlyList<SmoothedJoint>, JointFilterState) Smooth(FrameObservation frame, JointFilterState? filter, long? lastMs, BedOptions o)
    {
        var x = new double[2 * frame.Joints.Count];
        for (var j = 0; j < frame.Joints.Count; j++) { x[2 * j] = frame.Joints[j].X; x[2 * j + 1] = frame.Joints[j].Y; }
        double[] values, derivatives;
        if (filter is null || lastMs is null || filter.Width != frame.Width || filter.Height != frame.Height || filter.Values.Length != x.Length)
            (values, derivatives) = (x, new double[x.Length]);
        else
            (values, derivatives) = OneEuroFilter.Step(filter.Values, filter.Derivatives, x, (frame.TimestampMs - lastMs.Value) / 1000.0,
                o.SmoothingMinCutoff, o.SmoothingBeta, o.SmoothingDerivativeCutoff);
        var joints = frame.Joints.Select((k, j) => new SmoothedJoint(k.Name, values[2 * j], values[2 * j + 1],
            values[2 * j] / frame.Width, values[2 * j + 1] / frame.Height)).ToList();
        return (joints, new JointFilterState(frame.Width, frame.Height, values, derivatives));
    }
}
