using System;
using System.Buffers.Binary;
using NormalizingFlows.Serialization;
using TorchSharp;
using static TorchSharp.torch;

namespace NormalizingFlows.Training;

/// <summary>
/// Checks a saved random-generator state before it reaches libtorch, whose <c>set_state</c> rejects a malformed state by
/// throwing through native code (which can end the process instead of raising a .NET exception).
/// </summary>
/// <remarks>libtorch's CPU generator state is <c>CPUGeneratorImplState</c>: a Mersenne-twister record (initial seed as
/// <c>uint64</c>, <c>left</c> and <c>seeded</c> as <c>int32</c>, <c>next</c> as <c>uint64</c>, 624 <c>uint64</c> words, the
/// cached normal values) and the cached float normal. A state passes when it is a 1-D uint8 tensor as long as a fresh
/// generator's, and its twister is valid as libtorch defines it (<c>seeded == 1</c>, <c>1 &lt;= left &lt;= 624</c>,
/// <c>next &lt;= 624</c>). The field positions are first confirmed on a fresh generator's state; if this libtorch lays the state
/// out otherwise, only the type and length are checked.</remarks>
internal static class GeneratorState
{
    private const int StateWords = 624;
    private static readonly Lazy<(long Length, bool LayoutKnown)> Reference = new(ReadReference);

    /// <summary>Throws a <see cref="ModelFileException"/> naming <paramref name="path"/> and the field <c>generator</c> when
    /// <paramref name="state"/> is not a valid CPU generator state.</summary>
    public static void Check(string path, Tensor state)
    {
        var (length, layoutKnown) = Reference.Value;
        if (state.dtype != ScalarType.Byte || state.dim() != 1 || state.numel() != length)
            throw new ModelFileException(path,
                $"the checkpoint's field 'generator' is a {state.dtype} tensor of shape {Internal.Guard.Shape(state.shape)}; a CPU generator's state is {length} bytes (1-D, uint8).");
        if (!layoutKnown) return;
        using var scope = torch.NewDisposeScope();
        var cpu = state.cpu().contiguous();
        if (!IsValid(cpu.bytes))
            throw new ModelFileException(path, "the checkpoint's field 'generator' is not a valid Mersenne-twister state (its position or seeded flag is out of range).");
    }

    private static bool IsValid(ReadOnlySpan<byte> state)
    {
        if (state.Length < 24) return false;
        int left = BinaryPrimitives.ReadInt32LittleEndian(state[8..]);
        int seeded = BinaryPrimitives.ReadInt32LittleEndian(state[12..]);
        ulong next = BinaryPrimitives.ReadUInt64LittleEndian(state[16..]);
        return seeded == 1 && left >= 1 && left <= StateWords && next <= StateWords;
    }

    private static (long Length, bool LayoutKnown) ReadReference()
    {
        using var scope = torch.NewDisposeScope();
        using var generator = new Generator(12345);
        var state = generator.get_state();
        var cpu = state.cpu().contiguous();
        return (state.numel(), BitConverter.IsLittleEndian && state.dtype == ScalarType.Byte && IsValid(cpu.bytes));
    }
}
