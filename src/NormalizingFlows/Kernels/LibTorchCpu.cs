using System;
using System.Runtime.InteropServices;
using TorchSharp;

namespace NormalizingFlows.Kernels;

/// <summary>Entry points of the <c>libtorch_cpu</c> that TorchSharp has loaded (and of the libraries it depends on, such as its
/// OpenMP runtime), found at run time for the fused kernels.</summary>
internal static class LibTorchCpu
{
    private static readonly IntPtr Library = Load();

    /// <summary>The address of <paramref name="name"/>, or <see cref="IntPtr.Zero"/> where this libtorch build has no such export.</summary>
    public static IntPtr Export(string name) =>
        Library != IntPtr.Zero && NativeLibrary.TryGetExport(Library, name, out var address) ? address : IntPtr.Zero;

    private static IntPtr Load()
    {
        // Loading TorchSharp's native backend first makes libtorch_cpu part of the process, so the look-up finds that copy; a
        // look-up through its handle also searches the libraries it depends on.
        torch.InitializeDeviceType(DeviceType.CPU);
        foreach (var name in new[] { "libtorch_cpu.so", "torch_cpu.dll", "libtorch_cpu.dylib" })
            if (NativeLibrary.TryLoad(name, typeof(torch).Assembly, null, out var library)) return library;
        return IntPtr.Zero;
    }
}
