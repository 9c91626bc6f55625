using TorchSharp;
using static TorchSharp.torch;

namespace NormalizingFlows.Targets;

/// <summary>A distribution to learn: a sampler and a log-density (exact, or unnormalised for variational fits).</summary>
public interface ITarget
{
    /// <summary>Short name in kebab case, as the command line and <c>TargetCatalog</c> spell it (e.g. <c>banana</c>).</summary>
    string Name { get; }

    /// <summary>Number of dimensions.</summary>
    int Features { get; }

    /// <summary>Whether <see cref="LogDensity"/> is normalised (integrates to one).</summary>
    bool IsNormalized { get; }

    /// <summary>
    /// A rectangle that holds almost all of the mass (at least 99.9 % for the built-in targets), for density plots
    /// and grid integrals. Defined for 2-D targets; a target with another number of features throws
    /// <see cref="System.NotSupportedException"/>.
    /// </summary>
    Box Bounds { get; }

    /// <summary>Log-density of each row of <paramref name="x"/> (<c>[batch, Features]</c>); <c>-inf</c> outside the support.</summary>
    Tensor LogDensity(Tensor x);

    /// <summary>Draws <paramref name="count"/> samples, shape <c>[count, Features]</c>.</summary>
    /// <param name="count">Number of samples; positive.</param>
    /// <param name="generator">Generator for reproducible draws; null uses TorchSharp's default generator.</param>
    /// <param name="dtype">Element type; null for float32.</param>
    /// <param name="device">Device; null for the CPU.</param>
    Tensor Sample(long count, Generator? generator = null, ScalarType? dtype = null, Device? device = null);
}
