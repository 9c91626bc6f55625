using System;
using System.IO;
using NormalizingFlows.Serialization;
using NormalizingFlows.Internal;
using TorchSharp;

namespace NormalizingFlows.Tests.Serialization;

/// <summary>Saving is atomic: a failure mid-write leaves the previous file byte for byte and no temporary file behind.</summary>
public sealed class AtomicSaveTests
{
    private static readonly int[] Hidden = { 4 };

    [Fact]
    public void Should_Leave_The_Previous_File_Intact_And_No_Temporary_File_When_A_Save_Fails_Midway()
    {
        using var directory = new TemporaryDirectory();
        string path = directory.File("model.nflow");
        using var first = Flows.RealNvp(2, 2, Hidden, seed: 1);
        first.Save(path);
        var before = File.ReadAllBytes(path);
        using var second = Flows.RealNvp(2, 4, Hidden, seed: 2);
        bool wroteSomething = false;

        var error = Assert.Throws<IOException>(() => ModelFile.Save(second, path, null, open =>
        {
            using var entry = open("half-written.bin");
            entry.Write(new byte[100_000]);
            wroteSomething = true;
            throw new IOException("Injected failure in the middle of the write.");
        }));

        Assert.Equal("Injected failure in the middle of the write.", error.Message);
        Assert.True(wroteSomething);
        Assert.Equal(before, File.ReadAllBytes(path));
        Assert.Equal(new[] { "model.nflow" }, directory.FileNames());
        using var loaded = Flow.Load(path);
        Assert.Equal(2, ((NormalizingFlows.Bijectors.Chain)loaded.Bijector).Layers.Count);
    }

    [Fact]
    public void Should_Leave_No_File_When_The_First_Save_Fails_Midway()
    {
        using var directory = new TemporaryDirectory();
        using var flow = Flows.RealNvp(2, 2, Hidden);
        Assert.Throws<InvalidOperationException>(() => ModelFile.Save(flow, directory.File("model.nflow"), null,
            _ => throw new InvalidOperationException("Injected failure.")));
        Assert.Empty(directory.FileNames());
    }

    [Fact]
    public void Should_Replace_The_Previous_File_And_Leave_No_Temporary_File_When_A_Save_Succeeds()
    {
        using var scope = torch.NewDisposeScope();
        using var directory = new TemporaryDirectory();
        string path = directory.File("model.nflow");
        using var first = Flows.RealNvp(2, 2, Hidden, seed: 1);
        first.Save(path);
        using var second = Flows.RealNvp(2, 4, Hidden, seed: 2);
        second.Save(path);
        Assert.Equal(new[] { "model.nflow" }, directory.FileNames());
        using var loaded = Flow.Load(path);
        Assert.Equal(4, ((NormalizingFlows.Bijectors.Chain)loaded.Bijector).Layers.Count);
    }

    [Fact]
    public void Should_Put_The_Temporary_File_Next_To_The_Target()
    {
        string temporary = AtomicFile.TemporaryPath("/data/models", "flow.nflow");
        Assert.Equal("/data/models", Path.GetDirectoryName(temporary));
        Assert.StartsWith(".flow.nflow.", Path.GetFileName(temporary));
        Assert.EndsWith(".tmp", temporary);
        Assert.NotEqual(temporary, AtomicFile.TemporaryPath("/data/models", "flow.nflow"));
    }
}
