namespace KeypointService.Api.Beds.Monitoring;

/// <summary>
/// The One Euro filter (Casiez, Roussel, Vogel, CHI 2012) over a vector of coordinates: an
/// exponential smoother whose cutoff rises with speed, so still joints are steady and moving ones lag little.
/// </summary>
public static class OneEuroFilter
{
    /// <summary>Filters <paramref name="x"/> taken <paramref name="dtSeconds"/> after the state's; returns the new state.</summary>
    public static (double[] Values, double[] Derivatives) Step(double[] values, double[] derivatives, double[] x, double dtSeconds,
        double minCutoff, double beta, double derivativeCutoff)
    {
        if (x.Length != values.Length) throw new ArgumentException("filter state and input differ in length");
        var newValues = new double[x.Length];
        var newDerivatives = new double[x.Length];
        var aD = Alpha(derivativeCutoff, dtSeconds);
        for (var i = 0; i < x.Length; i++)
        {
            var dx = (x[i] - values[i]) / dtSeconds;
            newDerivatives[i] = aD * dx + (1 - aD) * derivatives[i];
            var a = Alpha(minCutoff + beta * Math.Abs(newDerivatives[i]), dtSeconds);
            newValues[i] = a * x[i] + (1 - a) * values[i];
        }
        return (newValues, newDerivatives);
    }

    /// <summary>Smoothing factor for a first-order low-pass filter with this cutoff (Hz) at this sampling interval.</summary>
    public static double Alpha(double cutoffHz, double dtSeconds)
    {
        var tau = 1.0 / (2 * Math.PI * cutoffHz);
        return 1.0 / (1.0 + tau / dtSeconds);
    }
}
