using NormalizingFlows.Runtime;

namespace NormalizingFlows.Tests.Runtime;

/// <summary>The switch of the fused kernels: the environment variable read at start-up, and the per-flow-of-execution override
/// the tests use to hold both paths to each other.</summary>
public sealed class FusedKernelsSwitchTests
{
    [Theory]
    [InlineData("0", true)]
    [InlineData("false", true)]
    [InlineData(" OFF ", true)]
    [InlineData("No", true)]
    [InlineData(null, false)]
    [InlineData("1", false)]
    [InlineData("on", false)]
    [InlineData("", false)]
    public void Should_Turn_The_Kernels_Off_Only_For_An_Off_Value(string? value, bool off) => Assert.Equal(off, FusedKernels.IsOff(value));

    [Fact]
    public void Should_Start_As_The_Environment_Says()
    {
        bool off = FusedKernels.IsOff(System.Environment.GetEnvironmentVariable(FusedKernels.EnvironmentVariable));
        Assert.Equal(!off, FusedKernels.Enabled);
    }

    [Fact]
    public void Should_Restore_The_Switch_When_A_Scope_Ends()
    {
        bool before = FusedKernels.On;
        using (FusedKernels.Scoped(false))
        {
            Assert.False(FusedKernels.On);
            using (FusedKernels.Scoped(true)) Assert.True(FusedKernels.On);
            Assert.False(FusedKernels.On);
        }
        Assert.Equal(before, FusedKernels.On);
    }
}
