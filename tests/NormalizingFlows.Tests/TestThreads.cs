using System.Runtime.CompilerServices;
using TorchSharp;

namespace NormalizingFlows.Tests;

/// <summary>
/// Runs libtorch single-threaded in tests. xunit runs test classes (and `dotnet test` test assemblies) in
/// parallel; with two OpenMP threads each on two cores, libtorch's threads spin-wait for each other and a
/// training step becomes many times slower. One thread each keeps the suite's run time predictable.
/// </summary>
internal static class TestThreads
{
#pragma warning disable CA2255 // a module initializer is the one place that runs before any test in this assembly
    [ModuleInitializer]
    internal static void UseOneThread() => torch.set_num_threads(1);
#pragma warning restore CA2255
}
