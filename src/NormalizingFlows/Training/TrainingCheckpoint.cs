using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using NormalizingFlows.Internal;
using NormalizingFlows.Serialization;
using TorchSharp;
using static TorchSharp.torch;

namespace NormalizingFlows.Training;

/// <summary>
/// Everything a fit needs to continue exactly where it stopped: the model (a model file, so a checkpoint also loads with
/// <see cref="Flow.Load"/>), the optimizer's moments and step, the data generator's state, the minibatch order and position,
/// the loss history, the validation history and the best parameters so far. Written atomically: a crash while saving leaves
/// the previous checkpoint intact.
/// </summary>
internal sealed class TrainingCheckpoint : IDisposable
{
    private const string StateEntry = "trainer.json";
    private const string TensorsEntry = "trainer.bin";
    private const string Format = "nflows-checkpoint";
    private const int Version = 1;

    /// <summary>Settings that must not change between a checkpoint and its resumption (they decide the sequence of steps).</summary>
    public required JsonObject Settings { get; init; }
    public required int Iteration { get; init; }
    public required double[] Losses { get; init; }
    public required ValidationPoint[] Validation { get; init; }
    public required ValidationPoint Best { get; init; }
    public required int Skipped { get; init; }
    public required int ConsecutiveSkipped { get; init; }
    public required int SinceImprovement { get; init; }
    public required double LastLoss { get; init; }
    public required long OptimizerStep { get; init; }

    /// <summary>Named tensors: <c>adam.first</c>, <c>adam.second</c>, <c>generator</c>, optionally <c>rows.order</c>,
    /// <c>rows.position</c> and <c>best/NAME</c> for each entry of the best state. The checkpoint owns them.</summary>
    public required Dictionary<string, Tensor> Tensors { get; init; }

    /// <summary>Writes the checkpoint with the model's current weights.</summary>
    public void Save(string path, Distribution model)
    {
        var state = new JsonObject
        {
            ["format"] = Format,
            ["version"] = Version,
            ["settings"] = Settings.DeepClone(),
            ["iteration"] = Iteration,
            ["skipped"] = Skipped,
            ["consecutiveSkipped"] = ConsecutiveSkipped,
            ["sinceImprovement"] = SinceImprovement,
            ["optimizerStep"] = OptimizerStep,
        };
        using var scope = torch.NewDisposeScope();
        var tensors = new List<KeyValuePair<string, Tensor>>(Tensors)
        {
            new("losses", torch.tensor(Losses, dtype: ScalarType.Float64)),
            new("lastLoss", torch.tensor(new[] { LastLoss }, dtype: ScalarType.Float64)),
            new("validation.iterations", torch.tensor(Validation.Select(v => (long)v.Iteration).ToArray(), dtype: ScalarType.Int64)),
            new("validation.losses", torch.tensor(Validation.Select(v => v.Loss).ToArray(), dtype: ScalarType.Float64)),
            new("best", torch.tensor(new[] { Best.Iteration, Best.Loss }, dtype: ScalarType.Float64)),
        };
        var entries = new Dictionary<string, byte[]>
        {
            [StateEntry] = Encoding.UTF8.GetBytes(state.ToJsonString(new JsonSerializerOptions { WriteIndented = true })),
            [TensorsEntry] = TensorBlob.Write(tensors),
        };
        ModelFile.Save(model, path, new JsonObject { ["checkpoint"] = true, ["iteration"] = Iteration }, entries);
    }

    /// <summary>Reads a checkpoint, copies its weights into <paramref name="model"/> and returns the rest.</summary>
    /// <exception cref="ModelFileException">The file is not a checkpoint, is damaged, or its model does not match <paramref name="model"/>.</exception>
    public static TrainingCheckpoint Load(string path, Distribution model)
    {
        var (saved, entries) = ModelFile.LoadWithEntries<nn.Module>(path);
        using (saved)
        {
            if (!entries.TryGetValue(StateEntry, out var stateBytes) || !entries.TryGetValue(TensorsEntry, out var tensorBytes))
                throw new ModelFileException(path, $"it is a model file but not a training checkpoint (no {StateEntry} and {TensorsEntry}).");
            CopyWeights(path, saved, model);
            JsonObject state;
            try
            {
                state = JsonNode.Parse(stateBytes) as JsonObject ?? throw new JsonException("not a JSON object");
            }
            catch (JsonException e)
            {
                throw new ModelFileException(path, $"{StateEntry} is not valid JSON: {e.Message}", e);
            }
            if ((string?)state["format"] != Format || (int?)state["version"] != Version)
                throw new ModelFileException(path, $"{StateEntry} is not a version-{Version} training checkpoint.");
            List<KeyValuePair<string, Tensor>> list;
            try
            {
                list = TensorBlob.Read(tensorBytes);
            }
            catch (InvalidDataException e)
            {
                throw new ModelFileException(path, $"{TensorsEntry} is damaged: {e.Message}", e);
            }
            var tensors = list.ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal);
            Tensor Take(string name) => tensors.Remove(name, out var t) ? t : throw new ModelFileException(path, $"{TensorsEntry} lacks '{name}'.");
            using var losses = Take("losses");
            using var lastLoss = Take("lastLoss");
            using var validationIterations = Take("validation.iterations");
            using var validationLosses = Take("validation.losses");
            using var best = Take("best");
            var bestValues = best.data<double>().ToArray();
            var iterations = validationIterations.data<long>().ToArray();
            var values = validationLosses.data<double>().ToArray();
            return new TrainingCheckpoint
            {
                Settings = state["settings"] as JsonObject ?? new JsonObject(),
                Iteration = (int)state["iteration"]!,
                Losses = losses.data<double>().ToArray(),
                Validation = iterations.Select((it, i) => new ValidationPoint((int)it, values[i])).ToArray(),
                Best = new ValidationPoint((int)bestValues[0], bestValues[1]),
                Skipped = (int)state["skipped"]!,
                ConsecutiveSkipped = (int)state["consecutiveSkipped"]!,
                SinceImprovement = (int)state["sinceImprovement"]!,
                LastLoss = lastLoss.data<double>()[0],
                OptimizerStep = (long)state["optimizerStep"]!,
                Tensors = tensors,
            };
        }
    }

    /// <summary>Throws unless <paramref name="current"/> equals the checkpoint's settings, naming the first that differs.</summary>
    public void RequireSameSettings(string path, JsonObject current)
    {
        foreach (var (name, value) in current)
        {
            string now = value?.ToJsonString() ?? "null";
            string then = Settings[name]?.ToJsonString() ?? "null";
            if (now != then)
                throw new ArgumentException(
                    $"Cannot resume from {path}: it was made with {name} = {then}, but this fit has {name} = {now}. Resume with the same settings and data.",
                    "options");
        }
    }

    private static void CopyWeights(string path, nn.Module saved, Distribution model)
    {
        var source = saved.state_dict();
        var target = model.state_dict();
        foreach (var (name, tensor) in target)
        {
            if (!source.TryGetValue(name, out var value) || !value.shape.SequenceEqual(tensor.shape))
                throw new ModelFileException(path,
                    $"its model does not match the model being trained: tensor '{name}' {Guard.Shape(tensor.shape)} is " +
                    (value is null ? "missing" : $"{Guard.Shape(value.shape)}") + " in the checkpoint.");
        }
        if (source.Count != target.Count)
            throw new ModelFileException(path, $"its model has {source.Count} tensors but the model being trained has {target.Count}.");
        using var noGrad = torch.no_grad();
        foreach (var (name, tensor) in target) tensor.copy_(source[name]);
    }

    public void Dispose()
    {
        foreach (var tensor in Tensors.Values) tensor.Dispose();
    }
}
