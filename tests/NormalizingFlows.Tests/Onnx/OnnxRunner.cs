using System;
using System.Collections.Generic;
using System.Linq;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using TorchSharp;
using static TorchSharp.torch;
using Tensor = TorchSharp.torch.Tensor;

namespace NormalizingFlows.Tests.Onnx;

/// <summary>Runs an exported model with ONNX Runtime (CPU) on torch tensors and returns torch tensors (float64, for comparing).</summary>
internal sealed class OnnxRunner : IDisposable
{
    private readonly InferenceSession session;
    private readonly bool float64;

    public OnnxRunner(byte[] model, bool float64)
    {
        using var sessionOptions = new SessionOptions { GraphOptimizationLevel = Environment.GetEnvironmentVariable("ORT_NOOPT") == "1" ? GraphOptimizationLevel.ORT_DISABLE_ALL : GraphOptimizationLevel.ORT_ENABLE_ALL };
        session = new InferenceSession(model, sessionOptions);
        this.float64 = float64;
    }

    public IReadOnlyDictionary<string, NodeMetadata> Inputs => session.InputMetadata;

    public Tensor[] Run(IReadOnlyDictionary<string, Tensor> inputs, params string[] outputs)
    {
        var values = inputs.Select(kv => Value(kv.Key, kv.Value)).ToList();
        using var results = session.Run(values, outputs);
        return results.Select(r => float64
            ? Back(r.AsTensor<double>().ToArray(), r.AsTensor<double>().Dimensions.ToArray())
            : Back(r.AsTensor<float>().ToArray().Select(v => (double)v).ToArray(), r.AsTensor<float>().Dimensions.ToArray())).ToArray();
    }

    private NamedOnnxValue Value(string name, Tensor value)
    {
        var dims = value.shape.Select(d => (int)d).ToArray();
        using var scope = torch.NewDisposeScope();
        var flat = value.detach().cpu().to(ScalarType.Float64).contiguous().flatten().data<double>().ToArray();
        // An input declared float64 (a mixture's component_uniform) stays float64 in a float32 graph.
        // (An input with a default is listed among the overridable initializers.)
        var metadata = session.InputMetadata.TryGetValue(name, out var m) ? m : session.OverridableInitializerMetadata[name];
        return float64 || metadata.ElementType == typeof(double)
            ? NamedOnnxValue.CreateFromTensor(name, new DenseTensor<double>(flat, dims))
            : NamedOnnxValue.CreateFromTensor(name, new DenseTensor<float>(flat.Select(v => (float)v).ToArray(), dims));
    }

    private static Tensor Back(double[] values, int[] dims) =>
        torch.tensor(values, dtype: ScalarType.Float64).reshape(dims.Select(d => (long)d).ToArray());

    public void Dispose() => session.Dispose();

    /// <summary>Asserts elementwise agreement within <paramref name="tolerance"/> relative to <c>1 + |expected|</c>; NaN must
    /// meet NaN and an infinity the same infinity.</summary>
    public static void AssertClose(Tensor expected, Tensor actual, double tolerance, string what)
    {
        using var scope = torch.NewDisposeScope();
        var e = expected.detach().to(ScalarType.Float64).flatten().data<double>().ToArray();
        var a = actual.detach().to(ScalarType.Float64).flatten().data<double>().ToArray();
        Assert.Equal(expected.shape, actual.shape);
        for (int i = 0; i < e.Length; i++)
        {
            if (double.IsNaN(e[i]) || double.IsInfinity(e[i]))
            {
                Assert.True(e[i].Equals(a[i]), $"{what}: element {i} is {a[i]:R} from ONNX Runtime but {e[i]:R} from the library.");
                continue;
            }
            double error = Math.Abs(e[i] - a[i]);
            Assert.True(error <= tolerance * (1 + Math.Abs(e[i])),
                $"{what}: element {i} is {a[i]:R} from ONNX Runtime but {e[i]:R} from the library (difference {error:E3}, tolerance {tolerance:E1}).");
        }
    }
}
