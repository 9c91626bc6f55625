using System;
using NormalizingFlows.Internal;
using TorchSharp;
using static TorchSharp.torch;

namespace NormalizingFlows.Targets;

/// <summary>An equally weighted mixture of isotropic Gaussians <c>N(m_k, s^2 I)</c> in the plane: exact log-density and sampler.</summary>
internal sealed class IsotropicMixture
{
    private readonly double[] meansX;
    private readonly double[] meansY;
    private readonly double std;

    /// <summary>Creates the mixture with means <c>(meansX[k], meansY[k])</c> and standard deviation <paramref name="std"/>.</summary>
    public IsotropicMixture(double[] meansX, double[] meansY, double std)
    {
        this.meansX = meansX;
        this.meansY = meansY;
        this.std = std;
    }

    /// <summary><c>log p(x)</c> for rows <c>[batch, 2]</c> (checked by the caller).</summary>
    public Tensor LogDensity(Tensor x)
    {
        var mx = torch.tensor(meansX, dtype: x.dtype, device: x.device);
        var my = torch.tensor(meansY, dtype: x.dtype, device: x.device);
        var dx = x.select(1, 0).unsqueeze(1).sub(mx);
        var dy = x.select(1, 1).unsqueeze(1).sub(my);
        using var scale = (-0.5 / (std * std)).ToScalar();
        using var logNormalizer = (Math.Log(meansX.Length) + Math.Log(2 * Math.PI * std * std)).ToScalar();
        var exponent = dx.pow(Scalars.Two).add(dy.pow(Scalars.Two), Scalars.One).mul(scale);
        return torch.logsumexp(exponent, 1).sub(logNormalizer);
    }

    /// <summary>Draws <paramref name="count"/> rows: a mean chosen uniformly, plus <c>N(0, s^2 I)</c>.</summary>
    public Tensor Sample(long count, Generator? generator, ScalarType dtype, Device? device)
    {
        var k = Sampling.UniformIndex(count, meansX.Length, generator, device);
        var mx = torch.tensor(meansX, dtype: dtype, device: device).index_select(0, k);
        var my = torch.tensor(meansY, dtype: dtype, device: device).index_select(0, k);
        using var stdScalar = std.ToScalar();
        var noise = Draw.Normal(new[] { count, 2L }, dtype, device, generator).mul(stdScalar);
        return Sampling.Rows(mx, my).add(noise, Scalars.One);
    }
}
