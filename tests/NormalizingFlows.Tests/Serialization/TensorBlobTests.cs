using System;
using System.IO;
using System.Linq;
using System.Collections.Generic;
using NormalizingFlows.Serialization;
using TorchSharp;
using static TorchSharp.torch;

namespace NormalizingFlows.Tests.Serialization;

/// <summary>The named-tensor format under model weights (and training checkpoints): exact round trips and clear errors.</summary>
public sealed class TensorBlobTests
{
    [Fact]
    public void Should_Round_Trip_Names_Order_Types_Shapes_And_Values_Exactly()
    {
        using var scope = torch.NewDisposeScope();
        using var generator = new Generator(3);
        var values = torch.randn(new long[] { 3, 4 }, dtype: ScalarType.Float64, generator: generator);
        var tensors = new List<KeyValuePair<string, Tensor>>
        {
            new("z.float32", torch.randn(new long[] { 2, 3, 4 }, generator: generator)),
            new("a.float64", values.mul(1e-300)),
            new("float64-extremes", torch.tensor(new[] { double.Epsilon, double.MaxValue, -0.0, double.PositiveInfinity, double.NegativeInfinity })),
            new("float16", torch.randn(5, generator: generator).to(ScalarType.Float16)),
            new("bfloat16", torch.randn(5, generator: generator).to(ScalarType.BFloat16)),
            new("int64", torch.tensor(new[] { long.MinValue, -1L, 0L, long.MaxValue })),
            new("int32", torch.tensor(new[] { int.MinValue, 7, int.MaxValue })),
            new("int16", torch.tensor(new short[] { -3, 300 })),
            new("int8", torch.tensor(new sbyte[] { -128, 127 })),
            new("uint8", torch.tensor(new byte[] { 0, 255 })),
            new("bool", torch.tensor(new[] { true, false, true })),
            new("scalar", torch.tensor(2.5)),
            new("empty", torch.zeros(new long[] { 0, 3 })),
            new("transposed (not contiguous)", values.t()),
            new("layers.0.weight", torch.ones(1)),
        };

        var read = TensorBlob.Read(TensorBlob.Write(tensors));

        Assert.Equal(tensors.Select(t => t.Key), read.Select(t => t.Key));
        for (int i = 0; i < tensors.Count; i++)
        {
            var (name, expected) = tensors[i];
            var actual = read[i].Value;
            Assert.Equal(expected.dtype, actual.dtype);
            Assert.Equal(expected.shape, actual.shape);
            Assert.True(expected.eq(actual).all().item<bool>(), $"Values of '{name}' differ after the round trip.");
            actual.Dispose();
        }
    }

    [Fact]
    public void Should_Say_Where_It_Ends_When_The_Bytes_Are_Cut_Short()
    {
        using var tensor = torch.ones(10);
        var bytes = TensorBlob.Write(new[] { new KeyValuePair<string, Tensor>("weight", tensor) });
        var error = Assert.Throws<InvalidDataException>(() => TensorBlob.Read(bytes.AsSpan(0, bytes.Length - 4)));
        Assert.Contains("ends inside the values of tensor 'weight'", error.Message);
    }

    [Fact]
    public void Should_Reject_Bytes_That_Are_Not_A_Tensor_List()
    {
        var error = Assert.Throws<InvalidDataException>(() => TensorBlob.Read("PK not a tensor list"u8));
        Assert.Contains("NFTB", error.Message);
    }

    [Fact]
    public void Should_Reject_Two_Tensors_Of_The_Same_Name()
    {
        using var tensor = torch.ones(1);
        var error = Assert.Throws<ArgumentException>(() => TensorBlob.Write(new[] { new KeyValuePair<string, Tensor>("w", tensor), new("w", tensor) }));
        Assert.Contains("'w'", error.Message);
    }
}
