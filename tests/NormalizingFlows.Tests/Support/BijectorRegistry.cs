using System;
using System.Collections.Generic;
using System.Linq;
using NormalizingFlows.Bijectors;
using NormalizingFlows.Conditioners;
using NormalizingFlows.Transforms;
using TorchSharp;
using static TorchSharp.torch;

namespace NormalizingFlows.Tests.Support;

/// <summary>One bijector configuration for the shared property suite.</summary>
/// <param name="Name">Unique name, shown in test results.</param>
/// <param name="Create">Builds the bijector (float32, as a user would); the suite converts it to float64, perturbs its
/// parameters and puts it in eval mode (a case that needs data-dependent initialisation does it here).</param>
/// <param name="Features">Event width.</param>
/// <param name="ContextFeatures">Context width (0 for none).</param>
public sealed record BijectorCase(string Name, Func<Generator, Bijector> Create, int Features, int ContextFeatures = 0)
{
    /// <summary>Event shape for bijectors on non-flat events (images <c>[channels, height, width]</c>); null for <c>[Features]</c>.
    /// <see cref="Features"/> is then the flattened size (the product of this shape).</summary>
    public IReadOnlyList<long>? EventShape { get; init; }

    /// <summary>Data-side event shape (what Forward returns and Inverse takes) for bijectors that reshape (a squeeze); null when it
    /// equals the base-side shape (<see cref="EventShape"/>, or <c>[Features]</c>).</summary>
    public IReadOnlyList<long>? OutputShape { get; init; }

    /// <summary>The shape of a batch of <paramref name="batch"/> events: <c>[batch, ...EventShape]</c>, or <c>[batch, Features]</c>.</summary>
    public long[] BatchShape(long batch) => new[] { batch }.Concat(EventShape ?? new long[] { Features }).ToArray();

    /// <summary>The shape of a batch on the data side: <c>[batch, ...OutputShape]</c>, or <see cref="BatchShape"/> when the bijector does not reshape.</summary>
    public long[] OutputBatchShape(long batch) => OutputShape is null ? BatchShape(batch) : new[] { batch }.Concat(OutputShape).ToArray();

    /// <summary>The event shape with its last size one larger: a wrong shape for the shape-error tests.</summary>
    public long[] WrongBatchShape(long batch)
    {
        var shape = BatchShape(batch);
        shape[^1] += 1;
        return shape;
    }

    /// <summary>The event shape as the library's shape errors write it behind the batch: <c>[batch, 3, 4, 4]</c>.</summary>
    public string EventShapeText => "[batch, " + string.Join(", ", EventShape ?? new long[] { Features }) + "]";

    /// <summary>Maps draws of N(0, 1.5^2) to valid inputs of <see cref="Bijector.Forward"/> (the base side); null for all reals.</summary>
    public Func<Tensor, Tensor>? BaseDomain { get; init; }

    /// <summary>Maps draws of N(0, 1.5^2) to valid inputs of <see cref="Bijector.Inverse"/> (the data side); null for all reals.</summary>
    public Func<Tensor, Tensor>? DataDomain { get; init; }

    /// <summary>False for bijectors without an analytic inverse (planar, radial): the suite then checks the forward direction only.</summary>
    public bool HasInverse { get; init; } = true;

    /// <summary>Tolerance of the log-det against the autograd Jacobian (relative to 1 + |value|).</summary>
    public double LogDetTolerance { get; init; } = 1e-8;

    /// <summary>Tolerance of round trips (relative to 1 + |value|); iterative inverses need a looser one.</summary>
    public double RoundTripTolerance { get; init; } = 1e-9;

    /// <summary>Standard-normal draws scaled by 1.5, mapped to the base side.</summary>
    public Tensor BaseInput(Tensor draws) => BaseDomain is null ? draws : BaseDomain(draws);

    /// <summary>Standard-normal draws scaled by 1.5, mapped to the data side.</summary>
    public Tensor DataInput(Tensor draws) => DataDomain is null ? draws : DataDomain(draws);

    public override string ToString() => Name;
}

/// <summary>
/// Every bijector the library has, in one list that feeds one property suite.
/// Adding a bijector = one file in the library + one line in a <c>BijectorCase[]</c> field of this class
/// (one partial file per family; a convention test fails if a public bijector type is missing).
/// </summary>
public static partial class BijectorRegistry
{
    private static readonly int[] Hidden = { 16, 16 };

    private static readonly Lazy<BijectorCase[]> All = new(() => typeof(BijectorRegistry)
        .GetFields(System.Reflection.BindingFlags.Static | System.Reflection.BindingFlags.NonPublic)
        .Where(f => f.FieldType == typeof(BijectorCase[]))
        .OrderBy(f => f.Name, StringComparer.Ordinal)
        .SelectMany(f => (BijectorCase[])f.GetValue(null)!)
        .ToArray());

    /// <summary>Every case of every family.</summary>
    public static IReadOnlyList<BijectorCase> Cases => All.Value;

    private static readonly BijectorCase[] CoreCases =
    {
        new("permutation-random", g => Permutation.Random(5, g), 5),
        new("permutation-reverse", _ => Permutation.Reverse(4), 4),
        new("lu-linear", _ => new LuLinear(4), 4),
        new("lu-linear-permuted", g => LuLinear.WithRandomPermutation(4, g), 4),
        new("coupling-affine-halves", g => Coupling.WithMlp(Masks.Halves(4), Hidden, generator: g), 4),
        new("coupling-affine-alternating-odd-width", g => Coupling.WithMlp(Masks.Alternating(5, 0), Hidden, generator: g), 5),
        new("coupling-affine-arbitrary-mask", g => Coupling.WithMlp(new[] { true, false, false, true, false }, Hidden, activation: Activation.Tanh, generator: g), 5),
        new("coupling-affine-stacked-networks", g => new Coupling(Masks.Alternating(4, 1),
            new Stacked(new Mlp(2, 2, Hidden, generator: g), new Mlp(2, 2, Hidden, generator: g)), AffineTransform.Instance), 4),
        new("coupling-affine-parallel-networks", g => new Coupling(Masks.Alternating(4, 0), new ParallelMlp(2, 2, 2, Hidden, generator: g), AffineTransform.Instance), 4),
        new("coupling-affine-parallel-networks-context", g => new Coupling(Masks.Halves(4),
            new ParallelMlp(2, 2, 2, Hidden, contextFeatures: 3, activation: Activation.Tanh, generator: g), AffineTransform.Instance), 4, 3),
        new("coupling-affine-context", g => Coupling.WithMlp(Masks.Halves(4), Hidden, contextFeatures: 3, generator: g), 4, 3),
        new("chain", g => new Chain(Coupling.WithMlp(Masks.Halves(3), Hidden, generator: g), LuLinear.WithRandomPermutation(3, g),
            Coupling.WithMlp(Masks.Halves(3, second: false), Hidden, generator: g)), 3),
        new("chain-context", g => new Chain(Coupling.WithMlp(Masks.Halves(3), Hidden, contextFeatures: 2, generator: g), Permutation.Reverse(3),
            Coupling.WithMlp(Masks.Halves(3), Hidden, contextFeatures: 2, generator: g)), 3, 2),
        new("invert", g => new Invert(new Chain(Coupling.WithMlp(Masks.Halves(4), Hidden, generator: g), new LuLinear(4))), 4),
    };

    public static IEnumerable<object[]> Names => Cases.Select(c => new object[] { c.Name });

    public static IEnumerable<object[]> InvertibleNames => Cases.Where(c => c.HasInverse).Select(c => new object[] { c.Name });

    public static IEnumerable<object[]> ConditionalNames => Cases.Where(c => c.ContextFeatures > 0).Select(c => new object[] { c.Name });

    public static BijectorCase Get(string name) => Cases.Single(c => c.Name == name);

    /// <summary>Builds the case in float64 with every parameter moved away from its initial value, so that no layer is the identity.</summary>
    public static Bijector CreatePerturbed(BijectorCase testCase, long seed = 1)
    {
        using var generator = new Generator((ulong)seed);
        var bijector = testCase.Create(generator);
        bijector.to(ScalarType.Float64);
        using (torch.no_grad())
        {
            foreach (var p in bijector.parameters())
                p.add_(torch.randn(p.shape, dtype: p.dtype, generator: generator).mul(0.3));
        }
        bijector.eval();
        return bijector;
    }
}
