using NormalizingFlows.Kernels;

namespace NormalizingFlows.Tests.Kernels;

/// <summary>The background compilation of the evaluation kernels: its synthetic chain runs to the end in both element types (a
/// failure would be swallowed in the background, so it is checked here directly).</summary>
public sealed class KernelWarmUpTests
{
    [Fact]
    public void Should_Run_The_Synthetic_Chain_Through_Every_Kernel_In_Both_Precisions()
    {
        Assert.True(KernelWarmUp.Run<float>(), "the float32 warm-up chain failed");
        Assert.True(KernelWarmUp.Run<double>(), "the float64 warm-up chain failed");
    }
}
