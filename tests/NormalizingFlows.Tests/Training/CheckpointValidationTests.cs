using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using System.Text.Json.Nodes;
using NormalizingFlows.Serialization;
using NormalizingFlows.Targets;
using NormalizingFlows.Tests.Serialization;
using NormalizingFlows.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace NormalizingFlows.Tests.Training;

/// <summary>Checkpoints are untrusted: every field is checked before it is used, with messages naming the file and the field,
/// and a crafted generator state never reaches libtorch.</summary>
[Collection(TrainingCollection.Name)]
public sealed class CheckpointValidationTests : IDisposable
{
    private static readonly int[] Hidden = { 8 };
    private readonly TemporaryDirectory directory = new();
    private readonly string path;
    private readonly Tensor data;

    private static readonly FitOptions Options = new() { Epochs = 2, BatchSize = 50, Seed = 3 };

    public CheckpointValidationTests()
    {
        path = directory.File("run.nflow");
        using (var generator = new Generator(7)) data = new Banana().Sample(200, generator);
        using var flow = Flows.RealNvp(2, 2, Hidden, seed: 1);
        Fit.ToData(flow, data, Options with { CheckpointPath = path, CheckpointInterval = 1 });
        Assert.True(File.Exists(path));
    }

    public void Dispose()
    {
        data.Dispose();
        directory.Dispose();
    }

    /// <summary>Resuming from the (edited) checkpoint fails with a <see cref="ModelFileException"/> naming the file and the field.</summary>
    private void AssertResumeFails(string field, params string[] fragments)
    {
        using var flow = Flows.RealNvp(2, 2, Hidden, seed: 1);
        var error = Assert.Throws<ModelFileException>(() => Fit.ToData(flow, data, Options with { ResumeFrom = path }));
        Assert.StartsWith(path + ": ", error.Message, StringComparison.Ordinal);
        Assert.Contains($"'{field}'", error.Message, StringComparison.Ordinal);
        foreach (var fragment in fragments) Assert.Contains(fragment, error.Message, StringComparison.Ordinal);
    }

    /// <summary>Rewrites trainer.bin with <paramref name="edit"/> applied to its tensors (by name).</summary>
    private void EditTensors(Action<Dictionary<string, Tensor>> edit)
    {
        var entries = ModelFiles.ReadEntries(path);
        var edited = entries.Select(e =>
        {
            if (e.Key != "trainer.bin") return e;
            var tensors = TensorBlob.Read(e.Value).ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal);
            edit(tensors);
            var bytes = TensorBlob.Write(tensors);
            foreach (var t in tensors.Values) t.Dispose();
            return new KeyValuePair<string, byte[]>(e.Key, bytes);
        }).ToList();
        ModelFiles.WriteEntries(path, edited);
    }

    private void EditState(Action<JsonObject> edit)
    {
        var entries = ModelFiles.ReadEntries(path);
        ModelFiles.WriteEntries(path, entries.Select(e =>
        {
            if (e.Key != "trainer.json") return e;
            var state = JsonNode.Parse(e.Value)!.AsObject();
            edit(state);
            return new KeyValuePair<string, byte[]>(e.Key, Encoding.UTF8.GetBytes(state.ToJsonString()));
        }).ToList());
    }

    [Fact]
    public void Should_Resume_When_The_Checkpoint_Is_Intact()
    {
        using var flow = Flows.RealNvp(2, 2, Hidden, seed: 1);
        var result = Fit.ToData(flow, data, Options with { ResumeFrom = path });
        Assert.True(result.Iterations > 0);
    }

    [Fact]
    public void Should_Reject_Generator_State_Before_Libtorch_When_Its_Twister_Position_Is_Out_Of_Range()
    {
        EditTensors(t =>
        {
            var bytes = t["generator"].data<byte>().ToArray();
            BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(8), 100_000);   // left
            t["generator"].Dispose();
            t["generator"] = torch.tensor(bytes, ScalarType.Byte);
        });
        AssertResumeFails("generator", "not a valid Mersenne-twister state");
    }

    [Fact]
    public void Should_Reject_Generator_State_When_It_Has_The_Wrong_Length_Or_Type()
    {
        EditTensors(t =>
        {
            t["generator"].Dispose();
            t["generator"] = torch.zeros(100, ScalarType.Byte);
        });
        AssertResumeFails("generator", "shape [100]");
        EditTensors(t =>
        {
            t["generator"].Dispose();
            t["generator"] = torch.zeros(5056, ScalarType.Float32);
        });
        AssertResumeFails("generator", "Float32");
    }

    [Fact]
    public void Should_Name_The_Field_When_A_Counter_Is_Negative_Or_Not_A_Number()
    {
        EditState(s => s["iteration"] = -5);
        AssertResumeFails("iteration", "expected an integer from 0");
        EditState(s => s["iteration"] = 8);
        EditState(s => s["skipped"] = "many");
        AssertResumeFails("skipped");
    }

    [Fact]
    public void Should_Name_The_Field_When_A_History_Has_The_Wrong_Type_Or_Length()
    {
        EditTensors(t =>
        {
            t["losses"].Dispose();
            t["losses"] = torch.zeros(3, ScalarType.Int64);
        });
        AssertResumeFails("losses", "Int64");
        EditTensors(t =>
        {
            t["losses"].Dispose();
            t["losses"] = torch.zeros(3, ScalarType.Float64);
        });
        AssertResumeFails("losses", "holds 3 values for 8 iterations");
        EditTensors(t => t.Remove("best"));
        AssertResumeFails("best", "missing");
    }

    [Fact]
    public void Should_Name_The_Field_When_The_Minibatch_Position_Is_Outside_The_Rows()
    {
        EditTensors(t =>
        {
            t["rows.position"].Dispose();
            t["rows.position"] = torch.tensor(new[] { 1L << 40 }, ScalarType.Int64);
        });
        using var flow = Flows.RealNvp(2, 2, Hidden, seed: 1);
        var error = Assert.Throws<ArgumentException>(() => Fit.ToData(flow, data, Options with { ResumeFrom = path }));
        Assert.Contains("'rows.position'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Should_Name_The_Field_When_The_Minibatch_Order_Holds_A_Row_Outside_The_Data()
    {
        EditTensors(t =>
        {
            var order = t["rows.order"].data<long>().ToArray();
            order[0] = 1_000_000;
            t["rows.order"].Dispose();
            t["rows.order"] = torch.tensor(order, ScalarType.Int64);
        });
        using var flow = Flows.RealNvp(2, 2, Hidden, seed: 1);
        var error = Assert.Throws<ArgumentException>(() => Fit.ToData(flow, data, Options with { ResumeFrom = path }));
        Assert.Contains("'rows.order'", error.Message, StringComparison.Ordinal);
        EditTensors(t =>
        {
            t["rows.order"].Dispose();
            t["rows.order"] = torch.zeros(200, ScalarType.Float32);
        });
        AssertResumeFails("rows.order", "expected a 1-D Int64 tensor");
    }

    [Fact]
    public void Should_Name_The_Field_When_A_Best_Tensor_Does_Not_Fit_The_Model()
    {
        EditTensors(t => t["best/bogus"] = torch.zeros(3));
        AssertResumeFails("best/bogus", "the model does not have");
    }
}
