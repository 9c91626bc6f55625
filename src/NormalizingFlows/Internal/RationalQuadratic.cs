using TorchSharp;
using static TorchSharp.torch;

namespace NormalizingFlows.Internal;

/// <summary>
/// The monotonic rational-quadratic spline of Durkan et al. (2019) on one interval <c>[left, right]</c>, shared by
/// <see cref="Transforms.RationalQuadraticSpline"/> and <see cref="Transforms.CircularSpline"/>.
/// </summary>
/// <remarks>
/// Inputs must already lie in <c>[left, right]</c> (callers clamp them, so that values outside never reach this
/// arithmetic and gradients stay finite). <c>widths</c> and <c>heights</c> have shape <c>[...S, K]</c>, are positive and
/// sum to one along the last dimension; <c>derivatives</c> has shape <c>[...S, K + 1]</c> and is positive (the knots'
/// slopes, both ends included). The first and last knots are exactly <c>left</c> and <c>right</c>, not the end of a
/// cumulative sum, so an input exactly on a bound lands exactly on a bound.
/// </remarks>
internal static class RationalQuadratic
{
    /// <summary><c>y = s(x)</c> and <c>log s'(x)</c> elementwise.</summary>
    public static (Tensor Output, Tensor LogAbsDet) Forward(Tensor x, Tensor widths, Tensor heights, Tensor derivatives, double left, double right)
    {
        var xKnots = Knots(widths, left, right);
        var yKnots = Knots(heights, left, right);
        var bin = Bin(xKnots, x);
        var (x0, w) = Cell(xKnots, bin);
        var (y0, h) = Cell(yKnots, bin);
        var d0 = derivatives.gather(-1, bin).squeeze(-1);
        var d1 = derivatives.narrow(-1, 1, derivatives.shape[^1] - 1).gather(-1, bin).squeeze(-1);
        var slope = h.div(w);
        var theta = x.sub(x0).div(w).clamp(0.0, 1.0);
        var thetaOneMinus = theta.mul(theta.neg().add(1.0));
        var denominator = slope.add(d1.add(d0).sub(slope.mul(2.0)).mul(thetaOneMinus));
        var numerator = h.mul(slope.mul(theta.square()).add(d0.mul(thetaOneMinus)));
        var y = y0.add(numerator.div(denominator));
        return (y, LogDerivative(theta, thetaOneMinus, slope, d0, d1, denominator));
    }

    /// <summary><c>x = s^-1(y)</c> and <c>log |dx/dy|</c> elementwise, by the stable root of the bin's quadratic.</summary>
    public static (Tensor Output, Tensor LogAbsDet) Inverse(Tensor y, Tensor widths, Tensor heights, Tensor derivatives, double left, double right)
    {
        var xKnots = Knots(widths, left, right);
        var yKnots = Knots(heights, left, right);
        var bin = Bin(yKnots, y);
        var (x0, w) = Cell(xKnots, bin);
        var (y0, h) = Cell(yKnots, bin);
        var d0 = derivatives.gather(-1, bin).squeeze(-1);
        var d1 = derivatives.narrow(-1, 1, derivatives.shape[^1] - 1).gather(-1, bin).squeeze(-1);
        var slope = h.div(w);
        var offset = y.sub(y0);
        var curvature = d1.add(d0).sub(slope.mul(2.0));
        // a theta^2 + b theta + c = 0 with c <= 0 < b on the bin; theta = 2c / (-b - sqrt(b^2 - 4ac)) avoids cancellation.
        var a = h.mul(slope.sub(d0)).add(offset.mul(curvature));
        var b = h.mul(d0).sub(offset.mul(curvature));
        var c = slope.neg().mul(offset);
        var discriminant = b.square().sub(a.mul(c).mul(4.0)).clamp_min(0.0);
        var theta = c.mul(2.0).div(b.neg().sub(discriminant.sqrt())).clamp(0.0, 1.0);
        var x = x0.add(theta.mul(w));
        var thetaOneMinus = theta.mul(theta.neg().add(1.0));
        var denominator = slope.add(curvature.mul(thetaOneMinus));
        return (x, LogDerivative(theta, thetaOneMinus, slope, d0, d1, denominator).neg());
    }

    private static Tensor LogDerivative(Tensor theta, Tensor thetaOneMinus, Tensor slope, Tensor d0, Tensor d1, Tensor denominator)
    {
        var oneMinus = theta.neg().add(1.0);
        var inner = d1.mul(theta.square()).add(slope.mul(thetaOneMinus).mul(2.0)).add(d0.mul(oneMinus.square()));
        return slope.square().mul(inner).log().sub(denominator.log().mul(2.0));
    }

    /// <summary>The K + 1 knot positions <c>[left, left + (right - left) cumsum(sizes)[:K-1], right]</c>.</summary>
    private static Tensor Knots(Tensor sizes, double left, double right)
    {
        long bins = sizes.shape[^1];
        var leading = sizes.shape[..^1];
        var first = torch.full(SplineParameters.Append(leading, 1), left, dtype: sizes.dtype, device: sizes.device);
        var last = torch.full(SplineParameters.Append(leading, 1), right, dtype: sizes.dtype, device: sizes.device);
        if (bins == 1) return torch.cat(new[] { first, last }, -1);
        var interior = sizes.narrow(-1, 0, bins - 1).cumsum(-1).mul(right - left).add(left);
        return torch.cat(new[] { first, interior, last }, -1);
    }

    /// <summary>Index of the bin holding each value, <c>[...S, 1]</c>, in <c>[0, K - 1]</c>: the number of interior knots at or below it.</summary>
    private static Tensor Bin(Tensor knots, Tensor value)
    {
        long bins = knots.shape[^1] - 1;
        if (bins == 1) return torch.zeros(SplineParameters.Append(value.shape, 1), dtype: ScalarType.Int64, device: value.device);
        var interior = knots.narrow(-1, 1, bins - 1).detach();
        return value.detach().unsqueeze(-1).ge(interior).sum(-1, keepdim: true, type: ScalarType.Int64).clamp(0, bins - 1);
    }

    /// <summary>The left knot and the size of the selected bin, each of shape <c>[...S]</c>.</summary>
    private static (Tensor Start, Tensor Size) Cell(Tensor knots, Tensor bin)
    {
        long bins = knots.shape[^1] - 1;
        var starts = knots.narrow(-1, 0, bins);
        var sizes = knots.narrow(-1, 1, bins).sub(starts);
        return (starts.gather(-1, bin).squeeze(-1), sizes.gather(-1, bin).squeeze(-1));
    }
}
