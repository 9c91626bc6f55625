using System;
using System.Collections.Generic;
using System.Linq;
using NormalizingFlows.Bijectors;
using NormalizingFlows.Distributions;
using NormalizingFlows.Onnx;
using NormalizingFlows.Transforms;
using TorchSharp;
using static TorchSharp.torch;

namespace NormalizingFlows.Tests.Onnx;

/// <summary>Float32 parity of an exported rational-quadratic spline (a coupling whose network has zero weights, so its bias is the
/// spline's parameters for every row) on the rows where float32 is most fragile: at, just inside and just beyond the tail bounds
/// (the nearest float32 and two ulps either side) and, for moderate bins, exactly on every knot of both axes and two ulps either
/// side.</summary>
public sealed class OnnxSplineEdgeTests
{
    private const int Bins = 5;
    private const double Bound = 3.0;

    /// <summary>Steep bins at both ends: a bin of the minimum width under a wide height at the top (slope about 400) and of the
    /// minimum height at the bottom. At the tail bound the inverse's discriminant b^2 + 4ac used to cancel (both terms near
    /// 4 h^2 s^2); the two engines rounded it differently and their log-probs at y = 3 differed by 2.4e-2.</summary>
    [Fact]
    public void Should_Match_The_Library_In_Float32_At_The_Tail_Bounds_Of_Steep_Bins() =>
        CheckParity(new double[] { 2, 0, -9, 1, -9 }, new double[] { -9, 1, 0, -9, 2 }, new double[] { 3, -3, 2, -4 }, knots: false);

    /// <summary>Moderate bins (sizes within a factor of about 5, derivatives between 0.3 and 3): every knot of both axes and the
    /// tail bounds. (On the knots of bins of the minimum size next to wide ones float32 itself cannot decide the bin: both engines
    /// are then up to 0.7 from the float64 log-prob, equally, and no float32 parity is claimed there.)</summary>
    [Fact]
    public void Should_Match_The_Library_In_Float32_On_Bin_Edges_And_Tail_Bounds() =>
        CheckParity(new double[] { 0.8, -0.4, 0.3, -0.9, 0.1 }, new double[] { -0.6, 0.5, 0.9, -0.2, -0.7 }, new double[] { 1.0, -1.2, 0.6, -0.5 }, knots: true);

    private static void CheckParity(double[] rawWidths, double[] rawHeights, double[] rawDerivatives, bool knots)
    {
        using var scope = torch.NewDisposeScope();
        var spline = new RationalQuadraticSpline(Bins, Bound);
        var coupling = Coupling.WithMlp(Masks.Halves(2), Array.Empty<int>(), transform: spline);
        using (torch.no_grad())
        {
            // A network with zero weights: its bias is the spline's parameters, the same for every row.
            foreach (var (name, p) in coupling.named_parameters())
            {
                if (p.dim() == 2) p.zero_();
                else p.copy_(torch.tensor(rawWidths.Concat(rawHeights).Concat(rawDerivatives).ToArray(), dtype: p.dtype));
            }
        }
        using var flow = new Flow(new StandardNormal(2), coupling);
        flow.eval();
        var points = EdgePoints(knots ? new[] { rawWidths, rawHeights } : Array.Empty<double[]>());
        var rows = torch.stack(new[] { torch.full(points.Length, 0.25f), torch.tensor(points) }, 1);
        var model = flow.ToOnnx();
        using var runner = new OnnxRunner(model, float64: false);
        var outputs = runner.Run(new Dictionary<string, Tensor> { ["x"] = rows, ["z"] = rows }, "log_prob", "sample", "sample_log_prob");
        using var noGrad = torch.no_grad();
        OnnxRunner.AssertClose(flow.LogProb(rows), outputs[0], 1e-5, "log_prob on edges");
        var (x, logAbsDet) = flow.Bijector.Forward(rows);
        OnnxRunner.AssertClose(x, outputs[1], 1e-5, "sample on edges");
        OnnxRunner.AssertClose(flow.Base.LogProb(rows).sub(logAbsDet), outputs[2], 1e-5, "sample_log_prob on edges");
    }

    /// <summary>The tail bounds and the knots of the given axes (computed in float64 from the raw parameters, as the spline
    /// defines them), each as the nearest float32 and two ulps either side.</summary>
    private static float[] EdgePoints(double[][] axes)
    {
        var centres = new List<double> { -Bound, Bound };
        foreach (var raw in axes)
        {
            var exp = raw.Select(Math.Exp).ToArray();
            double sum = exp.Sum(), cumulative = 0;
            var sizes = exp.Select(e => RationalQuadraticSpline.DefaultMinBinWidth + (1 - Bins * RationalQuadraticSpline.DefaultMinBinWidth) * e / sum).ToArray();
            double total = sizes.Sum();
            foreach (var s in sizes.Take(Bins - 1))
            {
                cumulative += s;
                centres.Add(-Bound + 2 * Bound * cumulative / total);
            }
        }
        var points = new List<float>();
        foreach (var c in centres)
        {
            float f = (float)c;
            points.AddRange(new[] { f, MathF.BitIncrement(f), MathF.BitIncrement(MathF.BitIncrement(f)), MathF.BitDecrement(f), MathF.BitDecrement(MathF.BitDecrement(f)) });
        }
        return points.ToArray();
    }
}
