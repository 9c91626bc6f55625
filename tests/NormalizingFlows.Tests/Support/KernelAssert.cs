using System;
using System.Collections.Generic;
using TorchSharp;
using Xunit;

namespace NormalizingFlows.Tests.Support;

/// <summary>The comparison the fused-kernel tests make between a kernel's tensors and the operation-by-operation path's.</summary>
public static class KernelAssert
{
    /// <summary>Asserts that each of <paramref name="actual"/> has the shape of its counterpart in <paramref name="expected"/> and
    /// differs from it by at most 1e-12 times the larger of 1 and its largest magnitude (float64 rounding).</summary>
    public static void Close(IReadOnlyList<torch.Tensor> expected, IReadOnlyList<torch.Tensor> actual, string what)
    {
        Assert.Equal(expected.Count, actual.Count);
        for (int i = 0; i < expected.Count; i++)
        {
            Assert.Equal(expected[i].shape, actual[i].shape);
            double scale = Math.Max(1.0, expected[i].abs().max().item<double>());
            double difference = expected[i].sub(actual[i]).abs().max().item<double>();
            Assert.True(difference <= 1e-12 * scale, $"{what}: tensor {i} differs by {difference:E2} (scale {scale:E2}).");
        }
    }
}
