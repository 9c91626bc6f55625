using TorchSharp;
using static TorchSharp.torch;

namespace NormalizingFlows.Tests;

public sealed class NativeLibraryTests
{
    [Fact]
    public void Should_Load_Native_Library_And_Compute()
    {
        using var x = torch.ones(2, 3);
        Assert.Equal(6.0, x.sum().ToDouble());
    }
}
