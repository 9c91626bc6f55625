using System;
using NormalizingFlows.Internal;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace NormalizingFlows.Bijectors;

/// <summary>
/// Glow's invertible 1x1 convolution on images <c>[batch, channels, height, width]</c>: one <c>C x C</c> matrix
/// <c>W</c> mixes the channels of every pixel.
/// Forward: <c>y[:, h, w] = W x[:, h, w]</c> at every pixel; log-det: <c>height * width * log|det W|</c>.
/// Inverse: <c>x[:, h, w] = W^-1 y[:, h, w]</c>; log-det: <c>-height * width * log|det W|</c>.
/// Either <c>W</c> is a full matrix (its determinant by an LU factorisation on every call), or it is LU-parametrised,
/// <c>W = P L (U + diag(sign(s) exp(log|s|)))</c> with <c>P</c> a fixed permutation, <c>L</c> unit lower triangular,
/// <c>U</c> strictly upper triangular and <c>sign(s)</c> fixed, so that <c>log|det W| = sum(log|s|)</c> costs <c>O(C)</c>
/// and the inverse is two triangular solves. Both start at a random rotation (<c>log|det W| = 0</c>).
/// Kingma and Dhariwal, "Glow: generative flow with invertible 1x1 convolutions" (2018), section 3.2.
/// </summary>
public sealed partial class InvertibleConv1x1 : Bijector
{
    private readonly Parameter? weight;
    private readonly Parameter? lower;
    private readonly Parameter? upper;
    private readonly Parameter? logAbsDiagonal;
    private readonly Tensor? permutation;
    private readonly Tensor? signDiagonal;
    private readonly Tensor? identity;
    private readonly long pixels;

    /// <summary>Creates the layer on images of the given size, starting at a random rotation.</summary>
    /// <param name="channels">Number of channels <c>C</c>.</param>
    /// <param name="height">Image height.</param>
    /// <param name="width">Image width.</param>
    /// <param name="luDecomposed">True for the LU parametrisation (cheap determinant and inverse), false for a full matrix.</param>
    /// <param name="generator">Generator for the initial rotation; null uses TorchSharp's default generator.</param>
    public InvertibleConv1x1(int channels, int height, int width, bool luDecomposed = true, Generator? generator = null)
        : base(nameof(InvertibleConv1x1), Checked(channels, height, width))
    {
        pixels = (long)height * width;
        LuDecomposed = luDecomposed;
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        var (rotation, _) = torch.linalg.qr(Draw.Normal(new long[] { channels, channels }, ScalarType.Float64, null, generator));
        if (!luDecomposed)
        {
            weight = new Parameter(rotation.to(ScalarType.Float32).DetachFromDisposeScope());
        }
        else
        {
            var (p, l, u) = torch.linalg.lu(rotation);
            var s = u.diagonal();
            permutation = p.to(ScalarType.Float32).DetachFromDisposeScope();
            signDiagonal = s.sign().to(ScalarType.Float32).DetachFromDisposeScope();
            identity = torch.eye(channels).DetachFromDisposeScope();
            lower = new Parameter(l.tril(-1).to(ScalarType.Float32).DetachFromDisposeScope());
            upper = new Parameter(u.triu(1).to(ScalarType.Float32).DetachFromDisposeScope());
            logAbsDiagonal = new Parameter(s.abs().log().to(ScalarType.Float32).DetachFromDisposeScope());
        }
        RegisterComponents();
    }

    /// <summary>Whether <c>W</c> is LU-parametrised (true) or a full matrix (false).</summary>
    public bool LuDecomposed { get; }

    /// <summary>The matrix <c>W</c>, detached from autograd (a tensor the caller owns).</summary>
    public Tensor Weight()
    {
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        return scope.MoveToOuter(LuDecomposed ? LuWeight().Weight : weight!.clone());
    }

    private (Tensor Weight, Tensor Lower, Tensor Upper, Tensor LogAbsDet) LuWeight()
    {
        var l = lower!.tril(-1).add(identity!, Scalars.One);
        var u = upper!.triu(1).add(torch.diag(logAbsDiagonal!.exp().mul(signDiagonal!)), Scalars.One);
        return (permutation!.matmul(l).matmul(u), l, u, logAbsDiagonal!.sum());
    }

    /// <inheritdoc />
    protected internal override (Tensor Output, Tensor LogAbsDet) ForwardCore(Tensor x, Tensor? context)
    {
        Tensor w, logAbsDet;
        if (LuDecomposed)
        {
            (w, _, _, logAbsDet) = LuWeight();
        }
        else
        {
            w = weight!;
            logAbsDet = torch.linalg.slogdet(w).Item2;
        }
        var y = w.matmul(Pixels(x)).view(x.shape);
        using var pixelCount = pixels.ToScalar();
        return (y, logAbsDet.mul(pixelCount).expand(x.size(0)));
    }

    /// <inheritdoc />
    protected internal override (Tensor Output, Tensor LogAbsDet) InverseCore(Tensor y, Tensor? context)
    {
        Tensor x, logAbsDet;
        if (LuDecomposed)
        {
            var (_, l, u, logDet) = LuWeight();
            var permuted = permutation!.t().matmul(Pixels(y));
            var lowerSolved = torch.linalg.solve_triangular(l, permuted, upper: false, unitriangular: true);
            x = torch.linalg.solve_triangular(u, lowerSolved, upper: true);
            logAbsDet = logDet;
        }
        else
        {
            x = torch.linalg.solve(weight!, Pixels(y));
            logAbsDet = torch.linalg.slogdet(weight!).Item2;
        }
        using var minusPixelCount = (-pixels).ToScalar();
        return (x.view(y.shape), logAbsDet.mul(minusPixelCount).expand(y.size(0)));
    }

    /// <summary>The image as <c>[batch, channels, pixels]</c>, so that <c>W</c> multiplies every pixel's channels.</summary>
    private Tensor Pixels(Tensor image) => image.reshape(image.size(0), EventShape[0], pixels);

    private static long[] Checked(int channels, int height, int width)
    {
        Guard.Features(channels, nameof(channels));
        Guard.Features(height, nameof(height));
        Guard.Features(width, nameof(width));
        return new long[] { channels, height, width };
    }
}
