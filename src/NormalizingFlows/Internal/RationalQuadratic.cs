using TorchSharp;
using static TorchSharp.torch;

namespace NormalizingFlows.Internal;

/// <summary>
/// The monotonic rational-quadratic spline of Durkan et al. (2019) on one interval <c>[left, right]</c>, shared by
/// <see cref="Transforms.RationalQuadraticSpline"/> and <see cref="Transforms.CircularSpline"/>.
/// </summary>
/// <remarks>
/// <para>Inputs must already lie in <c>[left, right]</c> (callers clamp them, so that values outside never reach this
/// arithmetic and gradients stay finite). <c>widths</c> and <c>heights</c> have shape <c>[...S, K]</c>, are positive and
/// sum to one along the last dimension; <c>derivatives</c> has shape <c>[...S, K + 1]</c> and is positive (the knots'
/// slopes, both ends included). The cumulative sums are divided by their own total, so the last knot is exactly
/// <c>right</c> (and the first exactly <c>left</c>): an input exactly on a bound lands in the last (first) bin at
/// <c>theta = 1</c> (<c>0</c>).</para>
/// <para>In bin <c>k</c> with knots <c>(x_k, y_k)</c>, sizes <c>w, h</c>, slope <c>s = h / w</c>, knot derivatives <c>d_k, d_k+1</c>
/// and <c>theta = (x - x_k) / w</c>: <c>y = y_k + h (s theta^2 + d_k theta (1 - theta)) / (s + (d_k+1 + d_k - 2 s) theta (1 - theta))</c>
/// and <c>dy/dx = s^2 (d_k+1 theta^2 + 2 s theta (1 - theta) + d_k (1 - theta)^2) / (s + (d_k+1 + d_k - 2 s) theta (1 - theta))^2</c>.
/// The code keeps the number of tensor operations small: each one costs a native call forward and backward.</para>
/// </remarks>
internal static class RationalQuadratic
{
    /// <summary><c>y = s(x)</c> and <c>log s'(x)</c> elementwise.</summary>
    public static (Tensor Output, Tensor LogAbsDet) Forward(Tensor x, Tensor widths, Tensor heights, Tensor derivatives, double left, double right)
    {
        var (x0, w, y0, h, d0, d1, slope, _) = Cell(x, widths, heights, derivatives, left, right, inverse: false);
        var theta = x.sub(x0).div(w).clamp(Scalars.Of(0.0), Scalars.Of(1.0));
        var oneMinus = theta.neg().add(Scalars.Of(1.0), Scalars.One);
        var cross = theta.mul(oneMinus);
        var thetaSquared = theta.pow(Scalars.Two);
        var curvature = d0.add(d1, Scalars.One).add(slope, Scalars.Of(-2.0));
        var denominator = torch.addcmul(slope, curvature, cross, Scalars.Of(1.0));
        var numerator = torch.addcmul(slope.mul(thetaSquared), d0, cross, Scalars.Of(1.0)).mul(h);
        var y = torch.addcdiv(y0, numerator, denominator, Scalars.Of(1.0));
        return (y, LogDerivative(slope, denominator, d0, d1, thetaSquared, cross, oneMinus));
    }

    /// <summary><c>x = s^-1(y)</c> and <c>log |dx/dy|</c> elementwise, by the stable root of the bin's quadratic.</summary>
    public static (Tensor Output, Tensor LogAbsDet) Inverse(Tensor y, Tensor widths, Tensor heights, Tensor derivatives, double left, double right)
    {
        var (x0, w, y0, h, d0, d1, slope, y1) = Cell(y, widths, heights, derivatives, left, right, inverse: true);
        var offset = y.sub(y0);
        var curvature = d0.add(d1, Scalars.One).add(slope, Scalars.Of(-2.0));
        var rest = y1.sub(y);
        var spread = torch.addcmul(d0.mul(rest), d1, offset, Scalars.Of(-1.0)).pow(Scalars.Two);
        var discriminant = torch.addcmul(spread, slope.mul(offset).mul(slope), rest, Scalars.Of(4.0)).clamp_min(Scalars.Of(0.0));
        var squareRoot = discriminant.sqrt(); // the discriminant of Root below, the same from both ends
        // The root is taken from the nearer end of the bin: theta from the bottom (offset, d_k) where it is at most 1/2, else
        // 1 - theta from the top (the same quadratic mirrored: rest, d_k+1). From the far end, 1 - theta
        // would be the difference of two nearly equal numbers: near the top of a flat bin followed by a steep knot it lost half
        // the digits of the log-derivative (1e-8 relative in float64).
        var fromBottom = Root(offset, h, d0, curvature, slope, squareRoot);
        var fromTop = Root(rest, h, d1, curvature, slope, squareRoot);
        var lower = fromBottom.le(Scalars.Of(0.5));
        var theta = KeepInUnit(torch.where(lower, fromBottom, fromTop.neg().add(Scalars.Of(1.0), Scalars.One)));
        var oneMinus = KeepInUnit(torch.where(lower, fromBottom.neg().add(Scalars.Of(1.0), Scalars.One), fromTop));
        var x = torch.addcmul(x0, theta, w, Scalars.Of(1.0));
        var cross = theta.mul(oneMinus);
        var denominator = torch.addcmul(slope, curvature, cross, Scalars.Of(1.0));
        return (x, LogDerivative(slope, denominator, d0, d1, theta.pow(Scalars.Two), cross, oneMinus).neg());
    }

    /// <summary>
    /// The root in [0, 1] of the bin's quadratic seen from one end: with <c>n</c> the value's distance from that end's knot
    /// (<c>o = y - y_k</c> or <c>r = y_k+1 - y</c>) and <c>d</c> the derivative at that end, it solves
    /// <c>a t^2 + b t - c = 0</c> with <c>b = h d - n curvature</c> and <c>c = s n >= 0</c> as <c>t = 2c / (b + sqrt(b^2 + 4ac))</c>,
    /// which avoids the cancellation of the textbook formula. The discriminant (the same from both ends) is written as a sum of
    /// two non-negative terms, <c>(d_k r - d_k+1 o)^2 + 4 s^2 o r</c> (equal to <c>b^2 + 4ac</c> when <c>s = h / w</c>): <c>b^2 + 4ac</c>
    /// itself cancels near the top of a steep bin, which in float32 moved theta there by 1e-5 and the log-derivative by 2e-2.
    /// </summary>
    private static Tensor Root(Tensor near, Tensor h, Tensor derivative, Tensor curvature, Tensor slope, Tensor squareRoot)
    {
        var b = torch.addcmul(near.mul(curvature).neg(), h, derivative, Scalars.Of(1.0));
        return slope.mul(near).mul(Scalars.Of(2.0)).div(b.add(squareRoot, Scalars.One));
    }

    /// <summary>Rounding can put a root an ulp outside [0, 1] (e.g. exactly on a bound): the value clamped, the root's gradient
    /// kept (a plain clamp would zero it there).</summary>
    private static Tensor KeepInUnit(Tensor root) => root.add(root.clamp(Scalars.Of(0.0), Scalars.Of(1.0)).sub(root).detach(), Scalars.One);

    /// <summary><c>log(s^2 (d1 theta^2 + 2 s theta (1 - theta) + d0 (1 - theta)^2) / denominator^2)</c>.</summary>
    private static Tensor LogDerivative(Tensor slope, Tensor denominator, Tensor d0, Tensor d1, Tensor thetaSquared, Tensor cross, Tensor oneMinus)
    {
        var inner = torch.addcmul(torch.addcmul(d1.mul(thetaSquared), slope, cross, Scalars.Of(2.0)), d0, oneMinus.pow(Scalars.Two), Scalars.Of(1.0));
        return slope.div(denominator).pow(Scalars.Two).mul(inner).log();
    }

    /// <summary>
    /// For each value, the bin it falls in and that bin's left knot, width, bottom knot, height, the derivatives at both
    /// ends, the slope and the bin's top knot, each of shape <c>[...S]</c> (the slope from the bin's own normalised sizes, see
    /// below). <paramref name="inverse"/> locates the value among the output knots.
    /// </summary>
    private static (Tensor X0, Tensor Width, Tensor Y0, Tensor Height, Tensor D0, Tensor D1, Tensor Slope, Tensor Y1) Cell(
        Tensor value, Tensor widths, Tensor heights, Tensor derivatives, double left, double right, bool inverse)
    {
        long bins = widths.size(-1);
        // Knots of both axes at once: [...S, K + 1, 2], from 0-padded cumulative sums scaled so the last is exactly 1.
        var sizes = torch.stack(new[] { widths, heights }, -1);
        var cumulative = sizes.cumsum(-2);
        var total = cumulative.narrow(-2, bins - 1, 1);
        cumulative = cumulative.div(total);
        using var span = (right - left).ToScalar();
        using var leftScalar = left.ToScalar();
        var knots = nn.functional.pad(cumulative, new long[] { 0, 0, 1, 0 }).mul(span).add(leftScalar, Scalars.One);
        // The bin's slope h / w from the bin's own sizes, not from differences of two knots: in float32 a knot near the far end
        // carries an absolute round-off of an ulp of the bound, which is 1e-4 relative to a bin of the minimum size (and then
        // 1e-4 in the log-derivative, twice log s). The width and height stay differences of knots, so that a value on a knot
        // is exactly at theta = 0 or 1. Padded by a zero row to line up with the K + 1 knots.
        var binSizes = nn.functional.pad(sizes.div(total).mul(span), new long[] { 0, 0, 0, 1 });
        // The bin is the number of interior knots at or below the value: always in [0, K - 1] for a value in [left, right].
        var bin = bins == 1
            ? torch.zeros(SplineParameters.Append(value.shape, 1), dtype: ScalarType.Int64, device: value.device)
            : value.unsqueeze(-1).ge(knots.select(-1, inverse ? 1 : 0).narrow(-1, 1, bins - 1)).sum(-1, keepdim: true, type: ScalarType.Int64);
        // One gather of the table [x knot, y knot, derivative] at the bin's two ends.
        var table = torch.cat(new[] { knots, derivatives.unsqueeze(-1), binSizes }, -1);
        var ends = torch.cat(new[] { bin, bin.add(Scalars.One, Scalars.One) }, -1).unsqueeze(-1);
        var shape = SplineParameters.Append(ends.shape[..^1], 5);
        var picked = table.gather(-2, ends.expand(shape));
        var low = picked.select(-2, 0).unbind(-1);
        var high = picked.select(-2, 1).unbind(-1);
        return (low[0], high[0].sub(low[0]), low[1], high[1].sub(low[1]), low[2], high[2], low[4].div(low[3]), high[1]);
    }
}
