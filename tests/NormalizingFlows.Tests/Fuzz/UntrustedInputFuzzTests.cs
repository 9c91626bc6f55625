using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.IO.Compression;
using System.Linq;
using System.Text;
using NormalizingFlows.Data;
using NormalizingFlows.Images;
using NormalizingFlows.Serialization;
using NormalizingFlows.Targets;
using NormalizingFlows.Tests.Serialization;
using NormalizingFlows.Tests.Training;
using NormalizingFlows.Training;
using SkiaSharp;
using TorchSharp;
using static TorchSharp.torch;

namespace NormalizingFlows.Tests.Fuzz;

/// <summary>
/// Seeded fuzzing of every untrusted input: valid CSV (plain and gzip), .npy, model, PNG and checkpoint files corrupted a
/// few hundred times in all (<see cref="Mutator"/>). Each input must load or fail with the documented exception type of its
/// reader, and no input may make the reader allocate much: the documented types are <see cref="DataFormatException"/> for
/// data files and images, <see cref="ModelFileException"/> for model files and checkpoints (and
/// <see cref="ArgumentException"/> when a valid checkpoint does not fit the fit being resumed).
/// </summary>
[Collection(TrainingCollection.Name)]
public sealed class UntrustedInputFuzzTests : IDisposable
{
    /// <summary>Most managed memory one input may allocate on the reading thread.</summary>
    private const long ManagedBound = 64L << 20;

    /// <summary>Most the process's working set may grow while one input is read (native memory included; generous, as test
    /// classes outside this collection run alongside, but far below what the crafted sizes would take).</summary>
    private const long WorkingSetBound = 1L << 30;

    private readonly TemporaryDirectory directory = new();
    private readonly List<string> failures = new();

    public void Dispose() => directory.Dispose();

    /// <summary>Runs one input: success or one of <paramref name="allowed"/>, within the memory bounds; failures are collected.</summary>
    private void Run(string name, Action read, params Type[] allowed)
    {
        long managed = GC.GetAllocatedBytesForCurrentThread();
        long workingSet = Environment.WorkingSet;
        try
        {
            read();
        }
        catch (Exception e) when (allowed.Contains(e.GetType()))
        {
            if (string.IsNullOrWhiteSpace(e.Message)) failures.Add($"{name}: {e.GetType().Name} without a message");
        }
        catch (Exception e)
        {
            failures.Add($"{name}: undocumented {e.GetType().FullName}: {e.Message}");
        }
        managed = GC.GetAllocatedBytesForCurrentThread() - managed;
        workingSet = Environment.WorkingSet - workingSet;
        if (managed > ManagedBound) failures.Add($"{name}: allocated {managed} managed bytes");
        if (workingSet > WorkingSetBound) failures.Add($"{name}: the working set grew by {workingSet} bytes");
    }

    private void AssertNoFailures(int cases)
    {
        Assert.True(failures.Count == 0, $"{failures.Count} of {cases} inputs failed:\n" + string.Join("\n", failures.Take(20)));
    }

    private static string Csv()
    {
        var text = new StringBuilder("x,y,z\n");
        var random = new Random(11);
        for (int i = 0; i < 60; i++)
            text.Append(CultureInfo.InvariantCulture, $"{random.NextDouble() * 10 - 5:R},{random.Next(-100, 100)},{random.NextDouble():E3}\n");
        return text.ToString();
    }

    private static byte[] Gzip(byte[] bytes)
    {
        var output = new MemoryStream();
        using (var gzip = new GZipStream(output, CompressionLevel.Optimal, leaveOpen: true)) gzip.Write(bytes);
        return output.ToArray();
    }

    [Fact]
    public void Should_Read_Or_Reject_With_DataFormatException_When_Csv_Files_Are_Corrupted()
    {
        var mutator = new Mutator(1);
        var plain = Encoding.UTF8.GetBytes(Csv());
        var gzip = Gzip(plain);
        const int cases = 120;
        for (int i = 0; i < cases; i++)
        {
            bool compressed = i % 3 == 0;
            string path = directory.File(compressed ? $"case{i}.csv.gz" : $"case{i}.csv");
            // A gzip file is corrupted as compressed bytes, or its content is corrupted and compressed validly.
            var bytes = compressed ? (i % 2 == 0 ? mutator.Mutate(gzip) : Gzip(mutator.Mutate(plain))) : mutator.Mutate(plain);
            File.WriteAllBytes(path, bytes);
            var dtype = i % 2 == 0 ? ScalarType.Float32 : ScalarType.Float64;
            Run(path, () => TabularFile.Read(path, new TabularReadOptions { DType = dtype, MaxLineLength = 4096, MaxRows = 1000 }).Dispose(),
                typeof(DataFormatException));
            File.Delete(path);
        }
        AssertNoFailures(cases);
    }

    [Fact]
    public void Should_Read_Or_Reject_With_DataFormatException_When_Npy_Files_Are_Corrupted()
    {
        var mutator = new Mutator(2);
        using var values = torch.linspace(-3, 3, 120, dtype: ScalarType.Float64).reshape(40, 3);
        string valid = directory.File("valid.npy");
        NpyFile.Write(valid, values);
        var original = File.ReadAllBytes(valid);
        const int cases = 100;
        for (int i = 0; i < cases; i++)
        {
            var bytes = mutator.Mutate(original);
            // Half the cases edit the header's shape text: huge, negative, overflowing and malformed sizes.
            if (i % 2 == 0)
            {
                string text = Encoding.Latin1.GetString(bytes);
                string[] shapes = { "(40, 3)", "(4000000000, 3)", "(2147483648,)", "(99999999999999999999, 3)", "(-1, 3)", "(40, 3, 0)", "()", "(40,3" };
                bytes = Encoding.Latin1.GetBytes(text.Replace("(40, 3)", shapes[mutator.Next(shapes.Length)], StringComparison.Ordinal));
            }
            var dtype = i % 3 == 0 ? ScalarType.Float32 : (ScalarType?)null;
            Run($"npy case {i}", () => NpyFile.Read(new MemoryStream(bytes), $"case{i}.npy", dtype).Dispose(), typeof(DataFormatException));
        }
        AssertNoFailures(cases);
    }

    [Fact]
    public void Should_Load_Or_Reject_With_ModelFileException_When_Model_Files_Are_Corrupted()
    {
        var mutator = new Mutator(3);
        byte[] original;
        using (var flow = Flows.RealNvp(2, 2, new[] { 8 }, seed: 1)) original = ModelFile.ToBytes(flow);
        const int cases = 120;
        for (int i = 0; i < cases; i++)
        {
            // Raw corruptions of the archive, and corruptions of one entry inside a valid archive (past the checksums).
            var bytes = i % 2 == 0 ? mutator.Mutate(original) : mutator.MutateEntry(original);
            Run($"model case {i}", () => ModelFile.FromBytes<Distribution>(bytes, $"case{i}.nflow").Dispose(), typeof(ModelFileException));
        }
        AssertNoFailures(cases);
    }

    [Fact]
    public void Should_Read_Or_Reject_With_DataFormatException_When_Png_Files_Are_Corrupted()
    {
        var mutator = new Mutator(4);
        byte[] original;
        using (var bitmap = new SKBitmap(new SKImageInfo(16, 12, SKColorType.Rgba8888, SKAlphaType.Unpremul)))
        {
            for (int y = 0; y < 12; y++)
                for (int x = 0; x < 16; x++)
                    bitmap.SetPixel(x, y, new SKColor((byte)(x * 16), (byte)(y * 20), (byte)(x * y)));
            using var image = SKImage.FromBitmap(bitmap);
            using var data = image.Encode(SKEncodedImageFormat.Png, 100);
            original = data.ToArray();
        }
        var claiming = Images.ImageFileLimitsTests.ClaimingPng(20000, 20000);
        const int cases = 80;
        for (int i = 0; i < cases; i++)
        {
            string path = directory.File($"case{i}.png");
            File.WriteAllBytes(path, mutator.Mutate(i % 4 == 0 ? claiming : original));
            var color = i % 2 == 0 ? ImageColor.Grey : ImageColor.Rgb;
            Run(path, () => ImageFile.Read(path, color).Dispose(), typeof(DataFormatException));
            File.Delete(path);
        }
        AssertNoFailures(cases);
    }

    [Fact]
    public void Should_Load_Or_Reject_With_ModelFileException_When_Checkpoints_Are_Corrupted()
    {
        var mutator = new Mutator(5);
        int[] hidden = { 8 };
        using Tensor rows = Rows();
        string valid = directory.File("valid.nflow");
        var options = new FitOptions { Epochs = 1, BatchSize = 50, Seed = 3, ValidationFraction = 0.2 };
        using (var flow = Flows.RealNvp(2, 2, hidden, seed: 1))
            Fit.ToData(flow, rows, options with { CheckpointPath = valid, CheckpointInterval = 1 });
        var original = File.ReadAllBytes(valid);
        using var model = Flows.RealNvp(2, 2, hidden, seed: 1);
        const int cases = 60;
        for (int i = 0; i < cases; i++)
        {
            string path = directory.File($"case{i}.nflow");
            File.WriteAllBytes(path, i % 4 == 0 ? mutator.Mutate(original) : mutator.MutateEntry(original, "trainer.bin", "trainer.json"));
            Run(path, () =>
            {
                using var checkpoint = TrainingCheckpoint.Load(path, model);
                // What passed the checks goes to libtorch as a resumed fit would hand it over: a bad state here would abort.
                using var generator = new Generator(0);
                generator.set_state(checkpoint.Tensors["generator"]);
            }, typeof(ModelFileException));
            File.Delete(path);
        }
        AssertNoFailures(cases);
    }

    private static Tensor Rows()
    {
        using var generator = new Generator(7);
        return new Banana().Sample(150, generator);
    }
}
