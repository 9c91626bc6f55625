using TorchSharp;
using static TorchSharp.torch;

namespace NormalizingFlows.Internal;

/// <summary>
/// Elementwise functions written so that they stay finite (with finite gradients) wherever the exact
/// value is representable, in float32 and float64.
/// </summary>
internal static class StableMath
{
    /// <summary><c>log(1 + exp(x)) = -log sigmoid(-x)</c> without overflow and without the fixed cut-off of
    /// <c>nn.functional.softplus</c> (which is off by <c>exp(-20)</c> past 20, too much for float64). Gradient: <c>sigmoid(x)</c>.</summary>
    public static Tensor Softplus(Tensor x) => nn.functional.logsigmoid(x.neg()).neg();

    /// <summary><c>log(sigmoid(x)) = -softplus(-x)</c>, libtorch's overflow-free <c>log_sigmoid</c>.</summary>
    public static Tensor LogSigmoid(Tensor x) => nn.functional.logsigmoid(x);

    /// <summary>The inverse of softplus, <c>y + log(-expm1(-y))</c> for <c>y &gt; 0</c>.</summary>
    public static Tensor SoftplusInverse(Tensor y) => y.add(LogOneMinusExpNeg(y), Scalars.One);

    /// <summary><c>log(1 - exp(-y))</c> for <c>y &gt; 0</c>, as <c>log(-expm1(-y))</c> (accurate for small <c>y</c>).</summary>
    public static Tensor LogOneMinusExpNeg(Tensor y) => y.neg().expm1().neg().log();

    /// <summary><c>log(1 - tanh(x)^2) = 2 (log 2 - x - softplus(-2x))</c>, finite for every finite <c>x</c>.</summary>
    public static Tensor LogTanhDerivative(Tensor x) =>
        Softplus(x.mul(Scalars.Of(-2.0))).add(x, Scalars.One).neg().add(Scalars.Of(System.Math.Log(2.0)), Scalars.One).mul(Scalars.Of(2.0));

    /// <summary>Leaky ReLU, <c>x</c> for <c>x &gt; 0</c> and <c>slope x</c> otherwise (gradient 1 or <paramref name="slope"/>, as
    /// libtorch's <c>leaky_relu</c>, whose TorchSharp wrapper hands libtorch a temporary Scalar; see <see cref="Scalars"/>).</summary>
    public static Tensor LeakyRelu(Tensor x, Scalar slope)
    {
        using var positive = x.gt(Scalars.Zero);
        using var scaled = x.mul(slope);
        return torch.where(positive, x, scaled);
    }

    /// <summary>ELU with <c>alpha = 1</c>: <c>x</c> for <c>x &gt; 0</c>, <c>exp(x) - 1</c> otherwise (the exponential of
    /// <c>min(x, 0)</c>, so the branch not taken never overflows into a NaN gradient).</summary>
    public static Tensor Elu(Tensor x)
    {
        using var positive = x.gt(Scalars.Zero);
        using var negativePart = x.clamp_max(Scalars.Zero);
        using var curve = negativePart.expm1();
        return torch.where(positive, x, curve);
    }

    /// <summary><c>log(1 + exp(x))</c> for one number, as <c>max(x, 0) + log1p(exp(-|x|))</c> (the tensor form's arithmetic).</summary>
    public static double Softplus(double x) => System.Math.Max(x, 0) + System.Math.Log(1 + System.Math.Exp(-System.Math.Abs(x)));

    /// <summary>The inverse of softplus for one positive number: the raw value whose softplus is <paramref name="value"/>.</summary>
    public static double SoftplusInverse(double value) =>
        value >= 1 ? value + System.Math.Log(1 - System.Math.Exp(-value)) : System.Math.Log(System.Math.Exp(value) - 1);
}
