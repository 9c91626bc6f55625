using System;
using System.Collections.Generic;
using System.Diagnostics.CodeAnalysis;
using System.Linq;
using TorchSharp;
using static TorchSharp.torch;

namespace NormalizingFlows.Internal;

/// <summary>Argument and shape checks shared by every public entry point. Messages name the argument,
/// the expected shape and the actual one.</summary>
internal static class Guard
{
    /// <summary>Formats a shape as <c>[512, 3]</c>.</summary>
    public static string Shape(IEnumerable<long> shape) => "[" + string.Join(", ", shape) + "]";

    /// <summary>Formats an event shape behind a batch dimension: <c>[batch, 2]</c>.</summary>
    public static string BatchShape(IReadOnlyList<long> eventShape, string batch = "batch") =>
        "[" + string.Join(", ", new[] { batch }.Concat(eventShape.Select(d => d.ToString(System.Globalization.CultureInfo.InvariantCulture)))) + "]";

    /// <summary>Checks that <paramref name="x"/> is a non-empty batch of floating-point events of the given shape.</summary>
    public static void Batch([NotNull] Tensor? x, IReadOnlyList<long> eventShape, string paramName)
    {
        Shaped(x, eventShape, paramName);
        if (!x.is_floating_point())
            throw new ArgumentException($"Expected {paramName} to hold floating-point values; got {x.dtype}.", paramName);
    }

    /// <summary>Checks that <paramref name="x"/> is a live, non-empty batch of events of the given shape; its dtype and device are
    /// left to <see cref="Placement"/>, which names the model's.</summary>
    public static void Shaped([NotNull] Tensor? x, IReadOnlyList<long> eventShape, string paramName)
    {
        if (x is null) throw new ArgumentNullException(paramName);
        if (x.IsInvalid) throw new ArgumentException($"{paramName} has been disposed.", paramName);
        bool ok = x.dim() == eventShape.Count + 1;
        for (int i = 0; ok && i < eventShape.Count; i++) ok = x.size(i + 1) == eventShape[i];
        if (!ok)
            throw new ArgumentException($"Expected {paramName} with shape {BatchShape(eventShape)}; got {Shape(x.shape)}.", paramName);
        if (x.size(0) == 0)
            throw new ArgumentException($"Expected {paramName} with at least one row; got shape {Shape(x.shape)}.", paramName);
    }

    /// <summary>
    /// Checks that the tensors handed to a model's public entry point have the model's dtype and live on its device (the
    /// placement of its first floating-point parameter or buffer), so that a mismatch is an <see cref="ArgumentException"/> instead
    /// of an abort in libtorch's kernels: "Expected x of dtype Float32 on cpu (the model's); got Float64 on cpu.". A model that
    /// holds no floating-point tensor takes any floating-point dtype on any device; its context must then match the input.
    /// </summary>
    /// <param name="model">The model whose entry point was called.</param>
    /// <param name="cache">The model's placement cache.</param>
    /// <param name="input">The input batch (already shape-checked), or null for a call without one (sampling).</param>
    /// <param name="inputName">The input's parameter name.</param>
    /// <param name="context">The context (already shape-checked), or null.</param>
    /// <param name="contextName">The context's parameter name.</param>
    /// <remarks>The common case costs three header reads per tensor and no tensor operation; the placement is cached (see
    /// <see cref="PlacementCache"/>) and read again before a mismatch is reported.</remarks>
    public static void Placement(nn.Module model, PlacementCache cache, Tensor? input, string inputName, Tensor? context, string contextName = "context")
    {
        if (cache.Get(model) is { } cached && (input is null || cached.Holds(input)) && (context is null || cached.Holds(context))) return;
        if (context is not null && context.IsInvalid) throw new ArgumentException($"{contextName} has been disposed.", contextName);
        if (cache.Refresh(model) is { } expected)
        {
            if (input is not null) Placed(input, expected, "the model's", inputName);
            if (context is not null) Placed(context, expected, "the model's", contextName);
            return;
        }
        if (input is not null) Floating(input, inputName);
        if (context is null) return;
        if (input is null) Floating(context, contextName);
        else Placed(context, ModelPlacement.Of(input), inputName + "'s", contextName);
    }

    private static void Placed(Tensor tensor, ModelPlacement expected, string whose, string paramName)
    {
        if (!expected.Holds(tensor))
            throw new ArgumentException($"Expected {paramName} of dtype {expected} ({whose}); got {ModelPlacement.Of(tensor)}.", paramName);
    }

    private static void Floating(Tensor tensor, string paramName)
    {
        if (!tensor.is_floating_point())
            throw new ArgumentException($"Expected {paramName} of a floating-point dtype; got {ModelPlacement.Of(tensor)}.", paramName);
    }

    /// <summary>Checks a context tensor against the context width a model expects and the batch it goes with.</summary>
    public static void Context(Tensor? context, int contextFeatures, long batch, string paramName)
    {
        if (contextFeatures == 0)
        {
            if (context is not null)
                throw new ArgumentException($"This model takes no context, but {paramName} with shape {Shape(context.shape)} was given.", paramName);
            return;
        }
        if (context is null)
            throw new ArgumentException($"This model needs a context with {contextFeatures} features: expected {paramName} with shape [{batch}, {contextFeatures}]; got none.", paramName);
        if (context.IsInvalid) throw new ArgumentException($"{paramName} has been disposed.", paramName);
        if (context.dim() != 2 || context.size(0) != batch || context.size(1) != contextFeatures)
            throw new ArgumentException($"Expected {paramName} with shape [{batch}, {contextFeatures}] (one row per input row, {contextFeatures} context features); got {Shape(context.shape)}.", paramName);
    }

    /// <summary>Checks that a count or size is at least one.</summary>
    public static void Positive(long value, string paramName)
    {
        if (value <= 0) throw new ArgumentOutOfRangeException(paramName, value, $"{paramName} must be positive; got {value}.");
    }

    /// <summary>Checks that a real option is finite and positive.</summary>
    public static void Positive(double value, string paramName)
    {
        if (!(value > 0) || double.IsInfinity(value))
            throw new ArgumentOutOfRangeException(paramName, value, $"{paramName} must be a positive finite number; got {value}.");
    }

    /// <summary>Checks that a real option is finite and not negative.</summary>
    public static void NonNegative(double value, string paramName)
    {
        if (!(value >= 0) || double.IsInfinity(value))
            throw new ArgumentOutOfRangeException(paramName, value, $"{paramName} must be a finite number that is zero or more; got {value}.");
    }

    /// <summary>Checks that every value of a data tensor is finite; names the first bad row.</summary>
    public static void Finite(Tensor x, string paramName)
    {
        using var scope = torch.NewDisposeScope();
        using var _ = torch.no_grad();
        var badRows = x.isfinite().logical_not().reshape(x.size(0), -1).any(1);
        if (!badRows.any().item<bool>()) return;
        long row = badRows.nonzero()[0, 0].item<long>();
        var values = x[row].reshape(-1).to(ScalarType.Float64).data<double>().ToArray();
        int column = Array.FindIndex(values, v => !double.IsFinite(v));
        throw new ArgumentException($"{paramName} contains a non-finite value ({values[column]}) at row {row}, column {column}.", paramName);
    }

    /// <summary>Checks a feature count.</summary>
    public static void Features(int features, string paramName)
    {
        if (features <= 0) throw new ArgumentOutOfRangeException(paramName, features, $"{paramName} must be at least 1; got {features}.");
    }

    /// <summary>Checks a list of hidden-layer widths: not null, every width at least 1 (the message names the entry).</summary>
    public static void HiddenWidths(IReadOnlyList<int>? hiddenFeatures, string paramName)
    {
        ArgumentNullException.ThrowIfNull(hiddenFeatures, paramName);
        for (int i = 0; i < hiddenFeatures.Count; i++)
            if (hiddenFeatures[i] <= 0)
                throw new ArgumentOutOfRangeException(paramName, hiddenFeatures[i], $"{paramName}[{i}] must be at least 1; got {hiddenFeatures[i]}.");
    }

    /// <summary>Checks that an <see cref="Conditioners.Activation"/> is one of the defined values.</summary>
    public static void Defined(Conditioners.Activation activation, string paramName)
    {
        if (!Enum.IsDefined(activation)) throw new ArgumentOutOfRangeException(paramName, activation, $"Unknown activation {activation}.");
    }
}
