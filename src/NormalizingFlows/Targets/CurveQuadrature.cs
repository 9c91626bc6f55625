using System;
using System.Collections.Generic;
using NormalizingFlows.Internal;
using TorchSharp;
using static TorchSharp.torch;

namespace NormalizingFlows.Targets;

/// <summary>
/// The density of "a random point of a curve plus isotropic Gaussian noise",
/// <c>p(x) = sum_k pi_k int w_k(t) N(x; c_k(t), sigma^2 I) dt</c>, by composite Gauss-Legendre quadrature over each
/// curve's parameter <c>t</c>. Panels have at most a given arc length (so the Gaussian along the curve is resolved) and
/// are refined geometrically towards both ends of each curve (so points beyond an end, where the integrand decays
/// exponentially into the end point, are integrated accurately too). The nodes are fixed at construction, so
/// <c>log p</c> is a log-sum-exp over them: smooth in <c>x</c> and differentiable.
/// </summary>
internal sealed class CurveQuadrature
{
    /// <summary>Rows per chunk times nodes: keeps the <c>[rows, nodes]</c> intermediates small (2 MB in float64), which
    /// is several times faster than large ones (no page faults from fresh allocations, data stays in cache).</summary>
    private const long ElementsPerChunk = 1 << 18;

    private readonly double[] nodesX;
    private readonly double[] nodesY;
    private readonly double[] logWeights;
    private readonly double[] nodeMatrix;
    private readonly double[] nodeBias;
    private readonly double halfInversePrecision;
    private readonly double logNormalizer;

    /// <summary>Builds the quadrature.</summary>
    /// <param name="curves">The curves, their parameter densities and mixture weights (which must sum to one).</param>
    /// <param name="noise">Standard deviation <c>sigma</c> of the isotropic Gaussian noise.</param>
    /// <param name="maxPanelLength">Largest arc length of one panel.</param>
    /// <param name="gradingLevels">Number of geometric halvings of the first and last panel of each curve.</param>
    /// <param name="order">Gauss-Legendre nodes per panel.</param>
    public CurveQuadrature(IReadOnlyList<Curve> curves, double noise, double maxPanelLength, int gradingLevels, int order)
    {
        var rule = GaussLegendre.Rule(order);
        var xs = new List<double>();
        var ys = new List<double>();
        var logW = new List<double>();
        foreach (var curve in curves)
        {
            var breaks = Breakpoints(curve, maxPanelLength, gradingLevels);
            for (int p = 0; p + 1 < breaks.Count; p++)
            {
                double a = breaks[p], b = breaks[p + 1], half = (b - a) / 2, mid = (a + b) / 2;
                for (int j = 0; j < order; j++)
                {
                    double t = mid + half * rule.Nodes[j];
                    double w = curve.Weight * curve.ParameterDensity(t) * half * rule.Weights[j];
                    if (!(w > 0)) continue; // a node where the parameter density vanishes adds nothing
                    var (x, y) = curve.Point(t);
                    xs.Add(x);
                    ys.Add(y);
                    logW.Add(Math.Log(w));
                }
            }
        }
        nodesX = xs.ToArray();
        nodesY = ys.ToArray();
        logWeights = logW.ToArray();
        halfInversePrecision = 0.5 / (noise * noise);
        nodeMatrix = new double[2 * nodesX.Length];
        nodeBias = new double[nodesX.Length];
        for (int j = 0; j < nodesX.Length; j++)
        {
            nodeMatrix[j] = nodesX[j] * 2 * halfInversePrecision;
            nodeMatrix[nodesX.Length + j] = nodesY[j] * 2 * halfInversePrecision;
            nodeBias[j] = logWeights[j] - (nodesX[j] * nodesX[j] + nodesY[j] * nodesY[j]) * halfInversePrecision;
        }
        logNormalizer = Math.Log(2 * Math.PI * noise * noise);
    }

    /// <summary>Number of quadrature nodes over all curves.</summary>
    public int NodeCount => nodesX.Length;

    /// <summary><c>log p(x)</c> for rows <c>[batch, 2]</c> (checked by the caller), in <paramref name="x"/>'s dtype and device.</summary>
    public Tensor LogDensity(Tensor x)
    {
        // -|x - c_j|^2 / (2 s^2) + log w_j = x . c_j / s^2 + (log w_j - |c_j|^2 / (2 s^2)) - |x|^2 / (2 s^2):
        // one matrix product per chunk instead of elementwise differences.
        var nodes = torch.tensor(nodeMatrix, new long[] { 2, nodesX.Length }, dtype: x.dtype, device: x.device);
        var bias = torch.tensor(nodeBias, dtype: x.dtype, device: x.device);
        long rows = x.size(0);
        long chunkRows = Math.Max(1, ElementsPerChunk / nodesX.Length);
        var parts = new List<Tensor>();
        using var halfInversePrecisionScalar = halfInversePrecision.ToScalar();
        using var logNormalizerScalar = logNormalizer.ToScalar();
        for (long start = 0; start < rows; start += chunkRows)
        {
            using var inner = torch.NewDisposeScope();
            var chunk = x.narrow(0, start, Math.Min(chunkRows, rows - start));
            var exponent = torch.addmm(bias, chunk, nodes, 1, 1);
            // Log-sum-exp over the nodes, with terms more than 60 nats below the largest clamped there: each adds less
            // than 1e-26 relative, and the clamp keeps exp() out of the subnormal range, which is ten times slower.
            // The shift is detached: log-sum-exp does not depend on it.
            var max = exponent.amax(new long[] { 1 }, keepdim: true).detach();
            // In place when no gradient is recorded (sampling-free evaluations: grids, KL estimates); out of place otherwise.
            var terms = exponent.requires_grad
                ? exponent.sub(max).clamp_min(Scalars.Of(-60)).exp()
                : exponent.sub_(max).clamp_min_(Scalars.Of(-60)).exp_();
            var lse = terms.sum(1).log().add(max.squeeze(1), Scalars.One);
            var logP = lse.sub(chunk.pow(Scalars.Two).sum(1).mul(halfInversePrecisionScalar)).sub(logNormalizerScalar);
            parts.Add(inner.MoveToOuter(logP));
        }
        return parts.Count == 1 ? parts[0] : torch.cat(parts, 0);
    }

    /// <summary>Panel ends in the parameter: equal arc lengths, then the first and last panel halved geometrically towards the curve's ends.</summary>
    private static List<double> Breakpoints(Curve curve, double maxPanelLength, int gradingLevels)
    {
        // Arc length along the parameter from a fine polygon; good enough to place panel ends.
        const int Segments = 20_000;
        var ts = new double[Segments + 1];
        var lengths = new double[Segments + 1];
        var previous = curve.Point(curve.Start);
        for (int i = 0; i <= Segments; i++)
        {
            ts[i] = curve.Start + (curve.End - curve.Start) * i / Segments;
            var point = curve.Point(ts[i]);
            lengths[i] = i == 0 ? 0 : lengths[i - 1] + Math.Sqrt(Square(point.X - previous.X) + Square(point.Y - previous.Y));
            previous = point;
        }
        double total = lengths[Segments];
        int panels = Math.Max(1, (int)Math.Ceiling(total / maxPanelLength));
        var uniform = new double[panels + 1];
        int cursor = 0;
        for (int p = 0; p <= panels; p++)
        {
            double s = total * p / panels;
            while (cursor < Segments - 1 && lengths[cursor + 1] < s) cursor++;
            double span = lengths[cursor + 1] - lengths[cursor];
            double fraction = span > 0 ? Math.Clamp((s - lengths[cursor]) / span, 0, 1) : 0;
            uniform[p] = ts[cursor] + fraction * (ts[cursor + 1] - ts[cursor]);
        }
        uniform[0] = curve.Start;
        uniform[panels] = curve.End;

        var breaks = new List<double>(uniform);
        double firstWidth = uniform[1] - uniform[0], lastWidth = uniform[panels] - uniform[panels - 1];
        for (int k = 1; k <= gradingLevels; k++)
        {
            breaks.Add(curve.Start + firstWidth / Math.Pow(2, k));
            breaks.Add(curve.End - lastWidth / Math.Pow(2, k));
        }
        breaks.Sort();
        // Drop repeated ends (a single panel graded from both sides repeats its midpoint).
        var distinct = new List<double> { breaks[0] };
        foreach (var b in breaks)
            if (b > distinct[^1]) distinct.Add(b);
        return distinct;
    }

    private static double Square(double v) => v * v;

    /// <summary>One curve of the mixture.</summary>
    /// <param name="Point">The curve <c>c(t)</c>.</param>
    /// <param name="ParameterDensity">Density <c>w(t)</c> of the parameter on <c>[Start, End]</c> (integrates to one).</param>
    /// <param name="Start">First parameter value.</param>
    /// <param name="End">Last parameter value.</param>
    /// <param name="Weight">Mixture weight <c>pi_k</c> of this curve.</param>
    internal sealed record Curve(Func<double, (double X, double Y)> Point, Func<double, double> ParameterDensity, double Start, double End, double Weight);
}
