using TorchSharp;
using static TorchSharp.torch;

namespace NormalizingFlows.Internal;

/// <summary>The default answer of <see cref="Bijector.LogDetIsEstimate"/> and <see cref="Distribution.LogProbIsEstimate"/>:
/// whether any bijector or distribution among a module's submodules (looking through containers such as module lists and
/// conditioners, not into the bijectors and distributions found, which answer for themselves) is an estimate.</summary>
internal static class EstimateFlags
{
    /// <summary>True when a bijector or distribution below <paramref name="module"/> reports an estimate.</summary>
    public static bool AnyPartEstimates(nn.Module module)
    {
        foreach (var child in module.children())
        {
            bool estimates = child switch
            {
                Bijector bijector => bijector.LogDetIsEstimate,
                Distribution distribution => distribution.LogProbIsEstimate,
                _ => AnyPartEstimates(child),
            };
            if (estimates) return true;
        }
        return false;
    }
}
