using System;
using System.Globalization;
using TorchSharp;
using static TorchSharp.torch;

namespace NormalizingFlows.Cli.Runtime;

/// <summary>Turns <c>--device</c> and <c>--dtype</c> values into TorchSharp's, failing clearly when CUDA is asked for but absent.</summary>
internal static class DeviceChoice
{
    /// <summary>The device named by <paramref name="text"/> (<c>cpu</c>, <c>cuda</c>, <c>cuda:N</c>).</summary>
    /// <exception cref="InvalidOperationException">CUDA was asked for but is not available, or the GPU index does not exist.</exception>
    public static Device Resolve(string text)
    {
        if (text == "cpu") return torch.CPU;
        if (!torch.cuda.is_available())
            throw new InvalidOperationException(
                $"--device {text}: CUDA is not available here (this nflows runs on the CPU build of TorchSharp, or no GPU is visible); use --device cpu.");
        int index = text == "cuda" ? 0 : int.Parse(text.AsSpan(5), NumberStyles.None, CultureInfo.InvariantCulture);
        int count = torch.cuda.device_count();
        if (index >= count)
            throw new InvalidOperationException($"--device {text}: there are {count} CUDA devices (0 to {count - 1}).");
        return torch.device(DeviceType.CUDA, index);
    }

    /// <summary>The element type named by <paramref name="text"/> (<c>float32</c> or <c>float64</c>).</summary>
    public static ScalarType Dtype(string text) => text == "float64" ? ScalarType.Float64 : ScalarType.Float32;
}
