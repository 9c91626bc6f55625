using TorchSharp;
using static TorchSharp.torch;

namespace NormalizingFlows.Internal;

/// <summary>
/// Random draws on any device, with or without a seeded generator: the one place the library makes random numbers for data.
/// TorchSharp 0.107 makes only CPU generators (its native <c>THSGenerator_new</c> ignores the device, while
/// <c>Generator.device</c> reports the device asked for), and libtorch refuses a CPU generator for a draw on CUDA ("Expected a
/// 'cuda' device type for generator but found 'cpu'"). So a draw with a generator is made on the CPU and then moved to the
/// device: the same seed gives the same numbers on every device. Without a generator, the draw is made on the device itself
/// with that device's default generator.
/// </summary>
// The one place allowed to call libtorch's random factories (build/BannedSymbols.txt bans them elsewhere).
#pragma warning disable RS0030
internal static class Draw
{
    /// <summary>Standard normal numbers of this shape, dtype (null: the default dtype) and device (null: the CPU).</summary>
    public static Tensor Normal(long[] shape, ScalarType? dtype, Device? device, Generator? generator) =>
        OnDevice(device, generator, at => torch.randn(shape, dtype: dtype, device: at, generator: generator));

    /// <summary>Uniform numbers on <c>[0, 1)</c> of this shape, dtype (null: the default dtype) and device (null: the CPU).</summary>
    public static Tensor Uniform(long[] shape, ScalarType? dtype, Device? device, Generator? generator) =>
        OnDevice(device, generator, at => torch.rand(shape, dtype: dtype, device: at, generator: generator));

    /// <summary>Integers drawn uniformly from <c>low .. high - 1</c> (int64) of this shape and device.</summary>
    public static Tensor Integers(long low, long high, long[] shape, Device? device, Generator? generator) =>
        OnDevice(device, generator, at => torch.randint(low, high, shape, dtype: ScalarType.Int64, device: at, generator: generator));

    /// <summary>Gamma(<paramref name="concentration"/>, 1) numbers of its shape, dtype and device (differentiable in the
    /// concentration, as libtorch's <c>_standard_gamma</c> is).</summary>
    public static Tensor Gamma(Tensor concentration, Generator? generator)
    {
        if (generator is null || concentration.device_type == DeviceType.CPU) return torch._standard_gamma(concentration, generator);
        using var onCpu = concentration.cpu();
        using var drawn = torch._standard_gamma(onCpu, generator);
        return drawn.to(concentration.device);
    }

    private static Tensor OnDevice(Device? device, Generator? generator, System.Func<Device?, Tensor> draw)
    {
        if (generator is null || device is null || device.type == DeviceType.CPU) return draw(device);
        using var onCpu = draw(torch.CPU);
        return onCpu.to(device);
    }
}
#pragma warning restore RS0030
