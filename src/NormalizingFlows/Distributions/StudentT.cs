using System;
using System.Collections.Generic;
using System.Linq;
using NormalizingFlows.Internal;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace NormalizingFlows.Distributions;

/// <summary>
/// Independent Student-t distributions per feature, a heavy-tailed base: <c>x_d = loc_d + scale_d t_d</c> with
/// <c>t_d ~ t(nu_d)</c>. <c>log p(x) = sum_d [lgamma((nu+1)/2) - lgamma(nu/2) - log(nu pi)/2 - log scale
/// - (nu+1)/2 log(1 + ((x - loc)/scale)^2 / nu)]</c>. Tails fall off as <c>|x|^-(nu+1)</c>; as <c>nu</c> grows it
/// approaches <c>N(loc, scale^2)</c>. Heavy-tailed bases help flows model heavy-tailed data
/// (Jaini et al., "Tails of Lipschitz triangular flows", 2020; Alexanderson and Henter, 2020).
/// </summary>
/// <remarks>Sampling draws <c>t = z / sqrt(v / nu)</c> with <c>z ~ N(0, 1)</c> and <c>v = 2 g</c>, <c>g ~ Gamma(nu/2, 1)</c>;
/// it is reparameterised in the location and scale, and (through libtorch's gamma sampler gradient) in the degrees of freedom.
/// The mean exists for <c>nu &gt; 1</c> and the variance, <c>scale^2 nu / (nu - 2)</c>, for <c>nu &gt; 2</c>.</remarks>
public sealed partial class StudentT : Distribution
{
    private static readonly double HalfLogPi = 0.5 * Math.Log(Math.PI);

    private readonly Tensor loc;
    private readonly Tensor logScale;
    private readonly Tensor logDegreesOfFreedom;

    /// <summary>Creates independent Student-t distributions on <paramref name="features"/> dimensions.</summary>
    /// <param name="features">Number of dimensions.</param>
    /// <param name="degreesOfFreedom">Degrees of freedom <c>nu</c> of every feature (positive; smaller is heavier-tailed).</param>
    /// <param name="loc">Location per feature; null for zeros.</param>
    /// <param name="scale">Scale per feature (positive); null for ones.</param>
    /// <param name="trainable">Whether the location and scale are trained (parameters) or fixed (buffers).</param>
    /// <param name="trainableDegreesOfFreedom">Whether the degrees of freedom (one per feature, stored as a logarithm) are trained too.</param>
    /// <exception cref="ArgumentException">A value is out of range or has the wrong length (the message names it).</exception>
    public StudentT(int features, double degreesOfFreedom = 5.0, IReadOnlyList<double>? loc = null, IReadOnlyList<double>? scale = null,
        bool trainable = true, bool trainableDegreesOfFreedom = false)
        : base(nameof(StudentT), new[] { (long)CheckedFeatures(features) })
    {
        if (!(degreesOfFreedom > 0) || !double.IsFinite(degreesOfFreedom))
            throw new ArgumentOutOfRangeException(nameof(degreesOfFreedom), degreesOfFreedom, $"degreesOfFreedom must be positive and finite; got {degreesOfFreedom}.");
        var mean = loc?.ToArray() ?? new double[features];
        var std = scale?.ToArray() ?? Enumerable.Repeat(1.0, features).ToArray();
        if (mean.Length != features) throw new ArgumentException($"Expected loc with {features} values; got {mean.Length}.", nameof(loc));
        if (std.Length != features) throw new ArgumentException($"Expected scale with {features} values; got {std.Length}.", nameof(scale));
        for (int i = 0; i < features; i++)
        {
            if (!double.IsFinite(mean[i])) throw new ArgumentException($"loc[{i}] must be finite; got {mean[i]}.", nameof(loc));
            if (!(std[i] > 0) || !double.IsFinite(std[i])) throw new ArgumentException($"scale[{i}] must be positive and finite; got {std[i]}.", nameof(scale));
        }
        Trainable = trainable;
        TrainableDegreesOfFreedom = trainableDegreesOfFreedom;
        var locTensor = torch.tensor(mean.Select(v => (float)v).ToArray()).DetachFromDisposeScope();
        var logScaleTensor = torch.tensor(std.Select(v => (float)Math.Log(v)).ToArray()).DetachFromDisposeScope();
        using var logDof = Math.Log(degreesOfFreedom).ToScalar();
        var logDofTensor = torch.full(features, logDof).DetachFromDisposeScope();
        this.loc = trainable ? new Parameter(locTensor) : locTensor;
        logScale = trainable ? new Parameter(logScaleTensor) : logScaleTensor;
        logDegreesOfFreedom = trainableDegreesOfFreedom ? new Parameter(logDofTensor) : logDofTensor;
        RegisterComponents();
    }

    /// <summary>Whether the location and scale are trainable parameters.</summary>
    public bool Trainable { get; }

    /// <summary>Whether the degrees of freedom are trainable parameters.</summary>
    public bool TrainableDegreesOfFreedom { get; }

    /// <summary>The current location (a copy the caller owns).</summary>
    public Tensor Loc => Snapshot.Copy(loc);

    /// <summary>The current scale (a copy the caller owns).</summary>
    public Tensor Scale => Snapshot.Map(logScale, t => t.exp());

    /// <summary>The current degrees of freedom per feature (a copy the caller owns).</summary>
    public Tensor DegreesOfFreedom => Snapshot.Map(logDegreesOfFreedom, t => t.exp());

    /// <inheritdoc />
    protected internal override Tensor LogProbCore(Tensor x, Tensor? context)
    {
        var nu = logDegreesOfFreedom.exp();
        var t = x.sub(loc).mul(logScale.neg().exp());
        var normaliser = torch.lgamma(nu.add(Scalars.One, Scalars.One).mul(Scalars.Of(0.5))).sub(torch.lgamma(nu.mul(Scalars.Of(0.5))))
            .sub(logDegreesOfFreedom.mul(Scalars.Of(0.5))).sub(Scalars.Of(HalfLogPi)).sub(logScale);
        var kernel = torch.log1p(t.pow(Scalars.Two).div(nu)).mul(nu.add(Scalars.One, Scalars.One).mul(Scalars.Of(-0.5)));
        return kernel.add(normaliser, Scalars.One).sum(1);
    }

    /// <inheritdoc />
    protected internal override (Tensor Samples, Tensor LogProb) SampleWithLogProbCore(long count, Tensor? context, Generator? generator)
    {
        var x = SampleCore(count, context, generator);
        return (x, LogProbCore(x, context));
    }

    /// <inheritdoc />
    protected internal override Tensor SampleCore(long count, Tensor? context, Generator? generator)
    {
        var nu = logDegreesOfFreedom.exp();
        var z = Draw.Normal(new[] { count, EventSize }, loc.dtype, loc.device, generator);
        var gamma = Draw.Gamma(nu.mul(Scalars.Of(0.5)).expand(count, EventSize).contiguous(), generator);
        return FromNoise(z, gamma.mul(Scalars.Two));
    }

    /// <summary>The draw from given noise: <c>loc + scale z / sqrt(v / nu)</c> for standard-normal <paramref name="z"/> and
    /// chi-square draws <paramref name="chiSquare"/> with <c>nu</c> degrees of freedom per feature (both <c>[count, features]</c>);
    /// <see cref="SampleCore"/> draws <c>v = 2 Gamma(nu / 2)</c>. The exported sample graph computes the same from the same
    /// noise.</summary>
    internal Tensor FromNoise(Tensor z, Tensor chiSquare)
    {
        var nu = logDegreesOfFreedom.exp();
        var t = z.mul(torch.rsqrt(chiSquare.div(nu)));
        return torch.addcmul(loc, t, logScale.exp(), Scalars.Of(1.0));
    }

    private static int CheckedFeatures(int features)
    {
        Guard.Features(features, nameof(features));
        return features;
    }
}
