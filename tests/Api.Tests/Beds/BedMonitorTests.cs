using KeypointService.Api.Beds;
using KeypointService.Api.Beds.Monitoring;
using KeypointService.Models.Inference;

namespace KeypointService.Api.Tests.Beds;

/// <summary>The bed's temporal logic as a pure function: dwell, alert, order, gaps, smoothing.</summary>
public class BedMonitorTests
{
    private static readonly BedOptions Options = new() { DwellSeconds = 30, RepositionLimitMinutes = 120, SensorTimeoutSeconds = 60 };
    private const long T0 = 1_800_000_000_000;

    private static FrameObservation Frame(double seconds, string posture, double x = 10, double y = 20) =>
        new(T0 + (long)(seconds * 1000), null, posture, [new KeypointResult("thorax", x, y, x / 84, y / 192, null)], 84, 192);

    /// <summary>Feeds frames in order; returns the final state and every event.</summary>
    private static (BedState State, List<EventDraft> Events) Run(BedOptions options, params FrameObservation[] frames)
    {
        BedState? state = null;
        var events = new List<EventDraft>();
        foreach (var f in frames)
        {
            var step = Assert.IsType<FrameAccepted>(BedMonitor.Apply(state, "bed-1", f, options, T0));
            state = step.Next;
            events.AddRange(step.Events);
        }
        return (state!, events);
    }

    private static FrameObservation[] Every(double from, double to, double step, string posture) =>
        Enumerable.Range(0, (int)((to - from) / step) + 1).Select(i => Frame(from + i * step, posture)).ToArray();

    [Fact]
    public void A_posture_counts_once_it_has_held_for_the_dwell_time_and_dates_from_the_start_of_the_hold()
    {
        var (early, none) = Run(Options, Every(0, 20, 10, "supine"));
        Assert.Null(early.Posture);
        Assert.Equal("supine", early.Candidate);
        Assert.Empty(none);

        var (state, events) = Run(Options, Every(0, 30, 10, "supine"));
        Assert.Equal("supine", state.Posture);
        Assert.Equal(T0, state.PostureSinceMs);
        var change = Assert.Single(events);
        Assert.Equal(BedEventTypes.PostureChanged, change.Type);
        Assert.Null(change.Data["from"]);
        Assert.Equal("supine", change.Data["to"]);
    }

    [Fact]
    public void A_noisy_frame_does_not_reset_the_clock()
    {
        var frames = Every(0, 100, 10, "supine").ToList();
        frames.Insert(5, Frame(45, "prone"));
        var (state, events) = Run(Options, frames.ToArray());
        Assert.Equal("supine", state.Posture);
        Assert.Equal(T0, state.PostureSinceMs);
        Assert.Null(state.Candidate);
        Assert.Single(events); // only the first posture
    }

    [Fact]
    public void A_held_change_is_one_posture_changed_event_dated_from_its_first_frame()
    {
        var (state, events) = Run(Options, [.. Every(0, 60, 10, "supine"), .. Every(70, 100, 10, "left_side")]);
        Assert.Equal("left_side", state.Posture);
        Assert.Equal(T0 + 70_000, state.PostureSinceMs);
        var change = events.Last();
        Assert.Equal(BedEventTypes.PostureChanged, change.Type);
        Assert.Equal(("supine", "left_side"), (change.Data["from"], change.Data["to"]));
        Assert.Equal(T0 + 100_000, change.AtMs);
    }

    [Fact]
    public void The_alert_is_raised_once_after_the_limit_and_cleared_by_a_held_change()
    {
        var options = new BedOptions { DwellSeconds = 30, RepositionLimitMinutes = 2, SensorTimeoutSeconds = 60 };
        var (state, events) = Run(options, Every(0, 180, 10, "supine"));
        Assert.True(state.AlertActive);
        var raised = Assert.Single(events, e => e.Type == BedEventTypes.AlertRaised);
        Assert.Equal(T0 + 130_000, raised.AtMs); // first frame with more than 120 s in posture
        Assert.Equal(2.0, raised.Data["limit_minutes"]);

        var (after, all) = Run(options, [.. Every(0, 180, 10, "supine"), .. Every(190, 210, 10, "prone")]);
        Assert.True(after.AlertActive); // the change has not held yet
        Assert.DoesNotContain(all, e => e.Type == BedEventTypes.AlertCleared);
        (after, all) = Run(options, [.. Every(0, 180, 10, "supine"), .. Every(190, 220, 10, "prone")]);
        Assert.False(after.AlertActive);
        Assert.Equal([BedEventTypes.PostureChanged, BedEventTypes.AlertRaised, BedEventTypes.PostureChanged, BedEventTypes.AlertCleared],
            all.Select(e => e.Type));
    }

    [Fact]
    public void A_raised_limit_clears_an_alert_it_no_longer_warrants_and_a_lowered_one_raises_it_at_once()
    {
        var options = new BedOptions { DwellSeconds = 30, RepositionLimitMinutes = 2, SensorTimeoutSeconds = 60 };
        var (alerting, _) = Run(options, Every(0, 180, 10, "supine")); // 180 s in posture, raised at 130 s
        Assert.True(alerting.AlertActive);

        var raised = BedMonitor.SetLimit(alerting, "bed-1", 5, options, T0);
        Assert.False(raised.Next.AlertActive);
        Assert.Null(raised.Next.AlertRaisedMs);
        Assert.Equal(5, raised.Next.LimitMinutes);
        var cleared = Assert.Single(raised.Events);
        Assert.Equal((BedEventTypes.AlertCleared, T0 + 180_000), (cleared.Type, cleared.AtMs)); // dated by the bed's last frame
        Assert.Equal(("limit_changed", "supine", 5.0), (cleared.Data["reason"], cleared.Data["posture"], cleared.Data["limit_minutes"]));
        Assert.Equal(Times.Format(T0 + 130_000), cleared.Data["alert_raised_at"]);

        var still = BedMonitor.SetLimit(alerting, "bed-1", 2.5, options, T0); // 180 s is still over 150 s
        Assert.True(still.Next.AlertActive);
        Assert.Empty(still.Events);

        var lowered = BedMonitor.SetLimit(raised.Next, "bed-1", 1, options, T0);
        Assert.True(lowered.Next.AlertActive);
        var again = Assert.Single(lowered.Events);
        Assert.Equal((BedEventTypes.AlertRaised, 1.0), (again.Type, again.Data["limit_minutes"]));
        Assert.Equal(Times.Format(T0 + 60_000), again.Data["due_at"]);

        var back = BedMonitor.SetLimit(raised.Next, "bed-1", null, options, T0); // null: the default, 2 min
        Assert.True(back.Next.AlertActive);
        Assert.Null(back.Next.LimitMinutes);
    }

    [Fact]
    public void A_limit_on_a_bed_without_a_posture_changes_only_the_setting()
    {
        var fresh = BedMonitor.SetLimit(null, "bed-new", 90, Options, T0);
        Assert.Equal(("bed-new", T0, 90.0), (fresh.Next.BedId, fresh.Next.CreatedMs, fresh.Next.LimitMinutes!.Value));
        Assert.Empty(fresh.Events);
        var (pending, _) = Run(Options, Every(0, 20, 10, "supine")); // no posture has held yet
        Assert.Empty(BedMonitor.SetLimit(pending, "bed-1", 0.1, Options, T0).Events);
    }

    [Fact]
    public void A_bed_silent_longer_than_the_sensor_timeout_is_reported_offline_once_and_online_by_its_next_frame()
    {
        const long received = T0 + 5_000; // server time the frames arrived (Run passes T0 as now)
        var (bed, _) = Run(Options, Every(0, 30, 10, "supine"));
        bed = bed with { LastReceivedMs = received };
        Assert.False(BedMonitor.NeedsWatch(bed, Options, received + 60_000)); // exactly the timeout: not yet
        Assert.Null(BedMonitor.Watch(bed, Options, received + 60_000));
        Assert.Null(BedMonitor.Watch(null, Options, received + 600_000)); // deleted meanwhile

        var offline = BedMonitor.Watch(bed, Options, received + 90_000)!;
        Assert.Equal(received + 90_000, offline.Next.OfflineSinceMs);
        var e = Assert.Single(offline.Events);
        Assert.Equal((BedEventTypes.SensorOffline, T0 + 30_000 + 90_000), (e.Type, e.AtMs)); // on the bed's clock
        Assert.Equal((90.0, Times.Format(T0 + 30_000)), (e.Data["silent_seconds"], e.Data["last_frame_at"]));
        Assert.False(BedMonitor.NeedsWatch(offline.Next, Options, received + 900_000)); // reported once
        Assert.Null(BedMonitor.Watch(offline.Next, Options, received + 900_000));

        var back = Assert.IsType<FrameAccepted>(BedMonitor.Apply(offline.Next, "bed-1", Frame(300, "supine"), Options, received + 200_000));
        Assert.Null(back.Next.OfflineSinceMs);
        Assert.Equal(received + 200_000, back.Next.LastReceivedMs);
        var online = back.Events.First();
        Assert.Equal((BedEventTypes.SensorOnline, T0 + 300_000, 200.0), (online.Type, online.AtMs, online.Data["silent_seconds"]));
        Assert.Contains(back.Events, x => x.Type == BedEventTypes.SensorGap); // the frames' own gap, as before
    }

    [Fact]
    public void An_alert_due_between_frames_is_raised_by_the_watch_when_it_comes_due_and_once()
    {
        var options = new BedOptions { DwellSeconds = 30, RepositionLimitMinutes = 2, SensorTimeoutSeconds = 600 };
        const long received = T0 + 7_000; // server time the last frame arrived
        var (bed, _) = Run(options, Every(0, 60, 10, "supine")); // posture since T0, last frame at T0 + 60 s
        bed = bed with { LastReceivedMs = received };
        Assert.Null(BedMonitor.Watch(bed, options, received + 60_000)); // 120 s in posture on the bed's clock: exactly the limit

        var due = BedMonitor.Watch(bed, options, received + 61_000)!;
        Assert.True(due.Next.AlertActive);
        Assert.Equal(T0 + 121_000, due.Next.AlertRaisedMs);
        Assert.Null(due.Next.OfflineSinceMs); // silent 61 s, within the 600 s timeout
        var raised = Assert.Single(due.Events);
        Assert.Equal((BedEventTypes.AlertRaised, T0 + 121_000), (raised.Type, raised.AtMs));
        Assert.Equal((Times.Format(T0 + 120_000), Times.Format(T0 + 60_000)), (raised.Data["due_at"], raised.Data["last_frame_at"]));
        Assert.Null(BedMonitor.Watch(due.Next, options, received + 300_000)); // raised once

        var next = Assert.IsType<FrameAccepted>(BedMonitor.Apply(due.Next, "bed-1", Frame(130, "supine"), options, received + 70_000));
        Assert.DoesNotContain(next.Events, e => e.Type == BedEventTypes.AlertRaised); // the next frame does not raise it again
        Assert.True(next.Next.AlertActive);

        var silentAndDue = BedMonitor.Watch(bed, new BedOptions { DwellSeconds = 30, RepositionLimitMinutes = 2, SensorTimeoutSeconds = 60 }, received + 90_000)!;
        Assert.Equal([BedEventTypes.SensorOffline, BedEventTypes.AlertRaised], silentAndDue.Events.Select(e => e.Type));
        Assert.True(silentAndDue.Next.AlertActive && silentAndDue.Next.OfflineSinceMs == received + 90_000);
    }

    [Fact]
    public void A_bed_limit_overrides_the_default()
    {
        var start = new BedState { BedId = "bed-1", CreatedMs = T0, LimitMinutes = 1 };
        BedState state = start;
        var events = new List<EventDraft>();
        foreach (var f in Every(0, 100, 10, "supine"))
        {
            var step = Assert.IsType<FrameAccepted>(BedMonitor.Apply(state, "bed-1", f, Options, T0));
            state = step.Next;
            events.AddRange(step.Events);
        }
        Assert.Equal(T0 + 70_000, Assert.Single(events, e => e.Type == BedEventTypes.AlertRaised).AtMs);
    }

    [Fact]
    public void Frames_not_newer_than_the_last_accepted_one_are_rejected()
    {
        var (state, _) = Run(Options, Frame(0, "supine"), Frame(10, "supine"));
        Assert.Contains("not newer", Assert.IsType<FrameRejected>(BedMonitor.Apply(state, "bed-1", Frame(5, "supine"), Options, T0)).Detail);
        Assert.IsType<FrameRejected>(BedMonitor.Apply(state, "bed-1", Frame(10, "supine"), Options, T0));
    }

    [Fact]
    public void A_gap_longer_than_the_sensor_timeout_is_an_event_and_restarts_the_smoothing()
    {
        var (state, events) = Run(Options, Frame(0, "supine", x: 10), Frame(100, "supine", x: 50));
        var gap = Assert.Single(events, e => e.Type == BedEventTypes.SensorGap);
        Assert.Equal(100.0, gap.Data["gap_seconds"]);
        Assert.Equal(50, state.Filter!.Values[0]); // not pulled towards the frame before the gap
    }

    [Fact]
    public void Joints_are_smoothed_a_still_joint_stays_put_and_a_jump_is_followed_partly()
    {
        var (still, _) = Run(Options, Frame(0, "supine", x: 10), Frame(1, "supine", x: 10));
        Assert.Equal(10, still.Filter!.Values[0], 9);
        var step = Assert.IsType<FrameAccepted>(BedMonitor.Apply(still, "bed-1", Frame(2, "supine", x: 20), Options, T0));
        var x = step.Joints[0].X;
        Assert.InRange(x, 10.0001, 19.9999);
        Assert.Equal(x / 84, step.Joints[0].XNorm, 12);
    }

    [Fact]
    public void One_euro_alpha_follows_the_cutoff()
    {
        Assert.Equal(1 / (1 + 1 / (2 * Math.PI)), OneEuroFilter.Alpha(1, 1), 12);
        Assert.True(OneEuroFilter.Alpha(10, 1) > OneEuroFilter.Alpha(0.1, 1));
    }
}
