using System;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace NormalizingFlows.Internal;

/// <summary>
/// The weight and bias of a linear layer whose spectral norm is kept below a coefficient <c>c</c>:
/// <c>W_hat = W / max(1, sigma(W) / c)</c> (Behrmann et al. 2019), with <c>sigma(W)</c> estimated by power iteration
/// from persistent vectors <c>u</c> and <c>v</c> (buffers, as in Miyato et al. 2018).
/// </summary>
internal sealed class SpectralNormLinear : nn.Module
{
    private readonly Parameter weight;
    private readonly Parameter bias;
    private readonly Tensor u;
    private readonly Tensor v;

    /// <summary>Creates the layer with weights and bias drawn from <c>U(-1/sqrt(in), 1/sqrt(in))</c> (as <c>nn.Linear</c>),
    /// and runs <paramref name="warmUpIterations"/> power iterations so the first estimate is already good.</summary>
    public SpectralNormLinear(int inFeatures, int outFeatures, Generator? generator, int warmUpIterations = 50) : base(nameof(SpectralNormLinear))
    {
        double bound = 1.0 / Math.Sqrt(inFeatures);
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        using var width = (2 * bound).ToScalar();
        using var boundScalar = bound.ToScalar();
        var w = Draw.Uniform(new long[] { outFeatures, inFeatures }, null, null, generator).mul(width).sub(boundScalar);
        var b = Draw.Uniform(new long[] { outFeatures }, null, null, generator).mul(width).sub(boundScalar);
        var uk = nn.functional.normalize(Draw.Normal(new long[] { outFeatures }, null, null, generator), dim: 0);
        var vk = nn.functional.normalize(Draw.Normal(new long[] { inFeatures }, null, null, generator), dim: 0);
        for (int i = 0; i < warmUpIterations; i++)
        {
            vk = nn.functional.normalize(w.t().mv(uk), dim: 0);
            uk = nn.functional.normalize(w.mv(vk), dim: 0);
        }
        weight = new Parameter(w.DetachFromDisposeScope());
        bias = new Parameter(b.DetachFromDisposeScope());
        u = uk.DetachFromDisposeScope();
        v = vk.DetachFromDisposeScope();
        RegisterComponents();
    }

    /// <summary>The bias (the parameter itself: use it only inside a computation, never return it).</summary>
    public Tensor Bias => bias;

    /// <summary>
    /// <c>W / max(1, sigma / c)</c>, differentiable in <c>W</c>, with <c>sigma = u . W v</c> after <paramref name="iterations"/>
    /// power iterations from the stored vectors; the stored vectors are replaced by the new ones only when
    /// <paramref name="update"/> is true (training), so evaluation is deterministic.
    /// </summary>
    public Tensor NormalizedWeight(double coefficient, int iterations, bool update)
    {
        Tensor uk = u, vk = v;
        using (torch.no_grad())
        {
            for (int i = 0; i < iterations; i++)
            {
                vk = nn.functional.normalize(weight.t().mv(uk), dim: 0);
                uk = nn.functional.normalize(weight.mv(vk), dim: 0);
            }
            if (update && iterations > 0)
            {
                u.copy_(uk);
                v.copy_(vk);
            }
        }
        var sigma = uk.dot(weight.mv(vk));
        using var coefficientScalar = coefficient.ToScalar();
        return weight.div(sigma.div(coefficientScalar).clamp_min(Scalars.Of(1.0)));
    }
}
