using System;
using System.Linq;
using NormalizingFlows.Targets;
using TorchSharp;
using static TorchSharp.torch;

namespace NormalizingFlows.Plotting.Internal;

/// <summary>Argument checks for models, targets and sample tensors, and where a model's tensors live.</summary>
internal static class ModelChecks
{
    /// <summary>Requires an unconditional model over 2-D points (event shape <c>[2]</c>).</summary>
    public static void TwoDimensional(Distribution model, string paramName)
    {
        ArgumentNullException.ThrowIfNull(model, paramName);
        if (model.EventShape.Count != 1 || model.EventShape[0] != 2)
            throw new ArgumentException(
                $"Expected {paramName} with event shape [2] (a density over the plane); got [{string.Join(", ", model.EventShape)}].", paramName);
        if (model.ContextFeatures != 0)
            throw new ArgumentException(
                $"Expected an unconditional {paramName}; this one takes {model.ContextFeatures} context features.", paramName);
    }

    /// <summary>Requires a 2-D target.</summary>
    public static void TwoDimensional(ITarget target, string paramName)
    {
        ArgumentNullException.ThrowIfNull(target, paramName);
        if (target.Features != 2)
            throw new ArgumentException($"Expected {paramName} with 2 features; {target.Name} has {target.Features}.", paramName);
    }

    /// <summary>Requires points of shape <c>[n, 2]</c> with <c>n &gt; 0</c>.</summary>
    public static void Points(Tensor points, string paramName)
    {
        ArgumentNullException.ThrowIfNull(points, paramName);
        if (points.dim() != 2 || points.size(1) != 2 || points.size(0) == 0)
            throw new ArgumentException(
                $"Expected {paramName} with shape [n, 2] and n > 0; got [{string.Join(", ", points.shape)}].", paramName);
    }

    /// <summary>The dtype and device of the model's first floating-point parameter or buffer (float32 on the CPU if none).</summary>
    public static (ScalarType DType, Device Device) Placement(nn.Module model)
    {
        var tensor = model.parameters().Cast<Tensor>().FirstOrDefault(t => t.is_floating_point())
            ?? model.buffers().FirstOrDefault(t => t.is_floating_point());
        return tensor is null ? (ScalarType.Float32, torch.CPU) : (tensor.dtype, tensor.device);
    }

    /// <summary>Copies points <c>[n, 2]</c> into two arrays of doubles (first and second coordinate).</summary>
    public static (double[] X, double[] Y) ToArrays(Tensor points)
    {
        using var scope = torch.NewDisposeScope();
        var cpu = points.detach().to(ScalarType.Float64).cpu().contiguous();
        var values = cpu.data<double>().ToArray();
        long n = points.size(0);
        var x = new double[n];
        var y = new double[n];
        for (long i = 0; i < n; i++)
        {
            x[i] = values[2 * i];
            y[i] = values[2 * i + 1];
        }
        return (x, y);
    }
}
