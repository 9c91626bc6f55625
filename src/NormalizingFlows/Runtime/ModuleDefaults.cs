using System.Runtime.CompilerServices;

namespace NormalizingFlows.Runtime;

/// <summary>What the library sets up when its assembly is first used, before any of its code runs: libtorch's idle threads
/// sleep instead of spinning (<see cref="Threads.UsePassiveWait"/>; the reason is on <see cref="Threads"/>).</summary>
internal static class ModuleDefaults
{
#pragma warning disable CA2255 // a library module initializer on purpose: the wait policy must be in place before libtorch loads
    [ModuleInitializer]
    internal static void Apply() => Threads.UsePassiveWait();
#pragma warning restore CA2255
}
