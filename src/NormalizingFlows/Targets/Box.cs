using System;
using System.Globalization;
using NormalizingFlows.Internal;
using TorchSharp;
using static TorchSharp.torch;

namespace NormalizingFlows.Targets;

/// <summary>
/// An axis-aligned rectangle <c>[XMin, XMax] x [YMin, YMax]</c> in the plane: where a 2-D target's mass lies
/// (<see cref="ITarget.Bounds"/>), for density plots and grid integrals. Deconstructs as
/// <c>var (xMin, xMax, yMin, yMax) = box;</c>.
/// </summary>
public sealed record Box
{
    /// <summary>Creates the rectangle <c>[xMin, xMax] x [yMin, yMax]</c>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A bound is not finite.</exception>
    /// <exception cref="ArgumentException">A maximum does not exceed its minimum.</exception>
    public Box(double xMin, double xMax, double yMin, double yMax)
    {
        Finite(xMin, nameof(xMin));
        Finite(xMax, nameof(xMax));
        Finite(yMin, nameof(yMin));
        Finite(yMax, nameof(yMax));
        if (!(xMax > xMin)) throw new ArgumentException($"xMax ({xMax}) must exceed xMin ({xMin}).", nameof(xMax));
        if (!(yMax > yMin)) throw new ArgumentException($"yMax ({yMax}) must exceed yMin ({yMin}).", nameof(yMax));
        XMin = xMin;
        XMax = xMax;
        YMin = yMin;
        YMax = yMax;
    }

    /// <summary>Smallest first coordinate.</summary>
    public double XMin { get; }

    /// <summary>Largest first coordinate.</summary>
    public double XMax { get; }

    /// <summary>Smallest second coordinate.</summary>
    public double YMin { get; }

    /// <summary>Largest second coordinate.</summary>
    public double YMax { get; }

    /// <summary><c>XMax - XMin</c>.</summary>
    public double Width => XMax - XMin;

    /// <summary><c>YMax - YMin</c>.</summary>
    public double Height => YMax - YMin;

    /// <summary><c>Width * Height</c>.</summary>
    public double Area => Width * Height;

    /// <summary>Whether the point <c>(x, y)</c> lies in the closed rectangle.</summary>
    public bool Contains(double x, double y) => x >= XMin && x <= XMax && y >= YMin && y <= YMax;

    /// <summary>Which rows of <paramref name="points"/> (<c>[batch, 2]</c>) lie in the closed rectangle: a boolean tensor <c>[batch]</c>.</summary>
    public Tensor Contains(Tensor points)
    {
        Guard.Batch(points, new long[] { 2 }, nameof(points));
        using var scope = torch.NewDisposeScope();
        var x = points.select(1, 0);
        var y = points.select(1, 1);
        using var xMin = XMin.ToScalar();
        using var xMax = XMax.ToScalar();
        using var yMin = YMin.ToScalar();
        using var yMax = YMax.ToScalar();
        var inside = x.ge(xMin).logical_and(x.le(xMax)).logical_and(y.ge(yMin)).logical_and(y.le(yMax));
        return scope.MoveToOuter(inside);
    }

    /// <summary>Splits the rectangle into its four bounds.</summary>
    public void Deconstruct(out double xMin, out double xMax, out double yMin, out double yMax)
    {
        xMin = XMin;
        xMax = XMax;
        yMin = YMin;
        yMax = YMax;
    }

    /// <summary>The rectangle as <c>[xMin, xMax] x [yMin, yMax]</c>.</summary>
    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture, $"[{XMin}, {XMax}] x [{YMin}, {YMax}]");

    private static void Finite(double value, string paramName)
    {
        if (!double.IsFinite(value))
            throw new ArgumentOutOfRangeException(paramName, value, $"{paramName} must be a finite number; got {value}.");
    }
}
