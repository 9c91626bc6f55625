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
    /// <remarks>A checkpoint is untrusted like any model file: every field is checked (type, range, length, consistency with
    /// the others and with <paramref name="model"/>) before it is used, and the generator's state is checked against the
    /// layout of libtorch's CPU generator before it reaches libtorch.</remarks>
    /// <exception cref="ModelFileException">The file is not a checkpoint, is damaged, has an invalid field (the message names
    /// the file and the field), or its model does not match <paramref name="model"/>.</exception>
    public static TrainingCheckpoint Load(string path, Distribution model)
    {
        var (saved, entries) = ModelFile.LoadWithEntries<nn.Module>(path);
        using (saved)
        {
            if (!entries.TryGetValue(StateEntry, out var stateBytes) || !entries.TryGetValue(TensorsEntry, out var tensorBytes))
                throw new ModelFileException(path, $"it is a model file but not a training checkpoint (no {StateEntry} and {TensorsEntry}).");
            CopyWeights(path, saved, model);
            JsonObject state;
            if (!System.Text.Unicode.Utf8.IsValid(stateBytes)) throw new ModelFileException(path, $"{StateEntry} is not valid UTF-8 text.");
            try
            {
                state = JsonNode.Parse(stateBytes, documentOptions: ModelArchive.StrictJson) as JsonObject ?? throw new JsonException("not a JSON object");
            }
            catch (JsonException e)
            {
                throw new ModelFileException(path, $"{StateEntry} is not valid JSON: {e.Message}", e);
            }
            if (!(state["format"] is JsonValue f && f.TryGetValue<string>(out var format) && format == Format)
                || !(state["version"] is JsonValue v && v.TryGetValue<int>(out int version) && version == Version))
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
            try
            {
                return Validated(path, state, tensors, model);
            }
            catch
            {
                foreach (var tensor in tensors.Values) tensor.Dispose();
                throw;
            }
        }
    }

    private static TrainingCheckpoint Validated(string path, JsonObject state, Dictionary<string, Tensor> tensors, Distribution model)
    {
        ModelFileException Bad(string field, string problem) => new(path, $"the checkpoint's field '{field}' {problem}");
        long Integer(string name, long min, long max)
        {
            if (state[name] is JsonValue value && value.TryGetValue<long>(out long result) && result >= min && result <= max) return result;
            throw Bad(name, $"in {StateEntry} is {state[name]?.ToJsonString() ?? "missing"}; expected an integer from {min} to {max}.");
        }
        Tensor Take(string name, ScalarType dtype)
        {
            if (!tensors.Remove(name, out var t)) throw Bad(name, $"is missing from {TensorsEntry}.");
            if (t.dtype != dtype || t.dim() != 1)
            {
                string problem = $"in {TensorsEntry} is a {t.dtype} tensor of shape {Guard.Shape(t.shape)}; expected a 1-D {dtype} tensor.";
                t.Dispose();
                throw Bad(name, problem);
            }
            return t;
        }
        if (state["settings"] is not JsonObject settings) throw Bad("settings", $"in {StateEntry} is not a JSON object.");
        int iteration = (int)Integer("iteration", 0, int.MaxValue);
        int skipped = (int)Integer("skipped", 0, int.MaxValue);
        int consecutiveSkipped = (int)Integer("consecutiveSkipped", 0, int.MaxValue);
        int sinceImprovement = (int)Integer("sinceImprovement", 0, int.MaxValue);
        long optimizerStep = Integer("optimizerStep", 0, long.MaxValue);

        using var losses = Take("losses", ScalarType.Float64);
        using var lastLoss = Take("lastLoss", ScalarType.Float64);
        using var validationIterations = Take("validation.iterations", ScalarType.Int64);
        using var validationLosses = Take("validation.losses", ScalarType.Float64);
        using var best = Take("best", ScalarType.Float64);
        if (losses.numel() != iteration) throw Bad("losses", $"holds {losses.numel()} values for {iteration} iterations.");
        if (lastLoss.numel() != 1) throw Bad("lastLoss", $"holds {lastLoss.numel()} values; expected 1.");
        if (best.numel() != 2) throw Bad("best", $"holds {best.numel()} values; expected 2 (iteration and loss).");
        if (validationIterations.numel() != validationLosses.numel())
            throw Bad("validation.losses", $"holds {validationLosses.numel()} values for {validationIterations.numel()} validation iterations.");
        var bestValues = best.data<double>().ToArray();
        if (!(bestValues[0] >= 0 && bestValues[0] <= iteration && bestValues[0] == Math.Floor(bestValues[0])))
            throw Bad("best", $"names iteration {bestValues[0]}; expected an integer from 0 to {iteration}.");
        var iterations = validationIterations.data<long>().ToArray();
        if (iterations.Any(i => i < 0 || i > iteration))
            throw Bad("validation.iterations", $"holds an iteration outside 0..{iteration}.");
        var values = validationLosses.data<double>().ToArray();

        foreach (var name in new[] { "adam.first", "adam.second" })
        {
            if (!tensors.TryGetValue(name, out var moments)) throw Bad(name, $"is missing from {TensorsEntry}.");
            if (!moments.is_floating_point()) throw Bad(name, $"holds {moments.dtype} values; expected floating-point moments.");
        }
        if (!tensors.TryGetValue("generator", out var generator)) throw Bad("generator", $"is missing from {TensorsEntry}.");
        GeneratorState.Check(path, generator);
        if (tensors.TryGetValue("rows.order", out var order) && (order.dtype != ScalarType.Int64 || order.dim() != 1))
            throw Bad("rows.order", $"is a {order.dtype} tensor of shape {Guard.Shape(order.shape)}; expected a 1-D Int64 tensor.");
        if (tensors.TryGetValue("rows.position", out var position) && (position.dtype != ScalarType.Int64 || position.numel() != 1 || position.data<long>()[0] < 0))
            throw Bad("rows.position", "is not one non-negative Int64 value.");
        var modelState = model.state_dict();
        foreach (var (name, tensor) in tensors)
        {
            if (!name.StartsWith("best/", StringComparison.Ordinal)) continue;
            string parameter = name["best/".Length..];
            if (!modelState.TryGetValue(parameter, out var target))
                throw Bad(name, "names a tensor the model does not have.");
            if (!tensor.shape.SequenceEqual(target.shape) || (tensor.is_floating_point() != target.is_floating_point()))
                throw Bad(name, $"is a {tensor.dtype} tensor of shape {Guard.Shape(tensor.shape)}; the model's is a {target.dtype} tensor of shape {Guard.Shape(target.shape)}.");
        }
        return new TrainingCheckpoint
        {
            Settings = settings,
            Iteration = iteration,
            Losses = losses.data<double>().ToArray(),
            Validation = iterations.Select((it, i) => new ValidationPoint((int)it, values[i])).ToArray(),
            Best = new ValidationPoint((int)bestValues[0], bestValues[1]),
            Skipped = skipped,
            ConsecutiveSkipped = consecutiveSkipped,
            SinceImprovement = sinceImprovement,
            LastLoss = lastLoss.data<double>()[0],
            OptimizerStep = optimizerStep,
            Tensors = tensors,
        };
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
