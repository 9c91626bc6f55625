using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text.Json;
using System.Text.Json.Nodes;
using NormalizingFlows.Cli.Output;

namespace NormalizingFlows.Cli.Fitting;

/// <summary>
/// The record a <c>train</c> run keeps next to its checkpoint (<c>checkpoint.run.json</c> beside <c>checkpoint.nflow</c>): the
/// fingerprint of the training data and the options that decide the model and the sequence of steps. <c>--resume</c> compares
/// it with the run being started and refuses to continue when anything differs, naming every difference.
/// </summary>
/// <param name="Data">The training data's fingerprint.</param>
/// <param name="Options">Option name (as typed, e.g. <c>--batch</c>) to its value as text (defaults spelled out).</param>
internal sealed record ResumeRecord(DataFingerprint Data, IReadOnlyDictionary<string, string> Options)
{
    private const string Format = "nflows-run-record";

    /// <summary>The record's file for <paramref name="checkpointPath"/>: <c>NAME.run.json</c> in the checkpoint's folder.</summary>
    public static string PathFor(string checkpointPath) =>
        Path.Combine(Path.GetDirectoryName(Path.GetFullPath(checkpointPath)) ?? ".", Path.GetFileNameWithoutExtension(checkpointPath) + ".run.json");

    /// <summary>The record of a run with <paramref name="settings"/> on data with fingerprint <paramref name="data"/>.</summary>
    public static ResumeRecord Of(TrainSettings settings, DataFingerprint data)
    {
        string Number(double value) => value.ToString("R", CultureInfo.InvariantCulture);
        var options = new SortedDictionary<string, string>(StringComparer.Ordinal)
        {
            ["input"] = settings.Patches is null ? "table" : "images",
            ["--flow"] = settings.Flow,
            ["--layers"] = settings.Layers?.ToString(CultureInfo.InvariantCulture) ?? "default",
            ["--hidden"] = settings.Hidden is null ? "default" : string.Join(",", settings.Hidden),
            ["--epochs"] = settings.Epochs.ToString(CultureInfo.InvariantCulture),
            ["--batch"] = settings.BatchSize.ToString(CultureInfo.InvariantCulture),
            ["--lr"] = Number(settings.LearningRate),
            ["--constant-lr"] = settings.Cosine ? "false" : "true",
            ["--warmup"] = settings.WarmupIterations.ToString(CultureInfo.InvariantCulture),
            ["--clip"] = settings.ClipGradientNorm is { } clip ? Number(clip) : "none",
            ["--val-fraction"] = Number(settings.ValidationFraction),
            ["--patience"] = settings.Patience?.ToString(CultureInfo.InvariantCulture) ?? "none",
            ["--no-standardize"] = settings.Standardize ? "false" : "true",
            ["--seed"] = settings.Seed.ToString(CultureInfo.InvariantCulture),
            ["--dtype"] = settings.Dtype,
        };
        if (settings.Dequantize) options["--dequantize"] = "uniform";
        if (settings.Patches is { } patches)
        {
            options["--patch"] = patches.Size.ToString(CultureInfo.InvariantCulture);
            options["--patches"] = patches.Count.ToString(CultureInfo.InvariantCulture);
        }
        return new ResumeRecord(data, options);
    }

    /// <summary>Writes the record next to <paramref name="checkpointPath"/> (atomically).</summary>
    public void Write(string checkpointPath)
    {
        var options = new JsonObject();
        foreach (var (name, value) in Options) options[name] = value;
        RunFiles.WriteJson(PathFor(checkpointPath), new JsonObject { ["format"] = Format, ["data"] = Data.ToJson(), ["options"] = options });
    }

    /// <summary>Reads the record kept next to <paramref name="checkpointPath"/>; null when there is none.</summary>
    /// <exception cref="InvalidDataException">The record exists but is not one (the message names the file).</exception>
    public static ResumeRecord? Read(string checkpointPath)
    {
        string path = PathFor(checkpointPath);
        if (!File.Exists(path)) return null;
        JsonObject? json;
        try
        {
            json = JsonNode.Parse(File.ReadAllText(path)) as JsonObject;
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path} is not valid JSON: {e.Message}", e);
        }
        if (json is null || json["format"]?.GetValueKind() != JsonValueKind.String || (string?)json["format"] != Format)
            throw new InvalidDataException($"{path} is not an nflows run record (no \"format\": \"{Format}\").");
        var data = DataFingerprint.FromJson(json["data"]) ?? throw new InvalidDataException($"{path}: \"data\" lacks path, bytes or sha256.");
        var options = new SortedDictionary<string, string>(StringComparer.Ordinal);
        if (json["options"] is JsonObject saved)
        {
            foreach (var (name, value) in saved)
            {
                if (value is JsonValue v && v.TryGetValue(out string? text)) options[name] = text;
                else throw new InvalidDataException($"{path}: option \"{name}\" is not a string.");
            }
        }
        else
        {
            throw new InvalidDataException($"{path}: \"options\" is missing.");
        }
        return new ResumeRecord(data, options);
    }

    /// <summary>Every difference between this (saved) record and <paramref name="current"/>, one line each; empty when they match.</summary>
    public IReadOnlyList<string> Differences(ResumeRecord current)
    {
        var lines = new List<string>();
        if (!Data.SameContent(current.Data))
            lines.Add($"training data: the checkpoint was made from {Data}, this run reads {current.Data}");
        foreach (string name in Options.Keys.Union(current.Options.Keys).Order(StringComparer.Ordinal))
        {
            string then = Options.TryGetValue(name, out var a) ? a : "(not set)";
            string now = current.Options.TryGetValue(name, out var b) ? b : "(not set)";
            if (then != now) lines.Add($"{name}: the checkpoint was made with {then}, this run has {now}");
        }
        return lines;
    }
}
