using System;
using System.Collections.Generic;
using System.Linq;
using System.Text.Json.Nodes;

namespace NormalizingFlows.Serialization;

/// <summary>
/// Checks a model's description against <see cref="ModelFileLimits"/> and against the values its <c>weights.bin</c> really
/// holds, before any part is built: the number of parts, every width and event size, and a lower bound of the parameters
/// the library's own parts will allocate (their weight matrices), which a genuine file's weights always cover.
/// </summary>
internal static class ArchitectureLimits
{
    /// <summary>Properties that hold widths (one integer, or an array of them).</summary>
    private static readonly HashSet<string> Widths = new(StringComparer.Ordinal)
    {
        "features", "inFeatures", "outFeatures", "contextFeatures", "hiddenFeatures", "parametersPerFeature",
        "inChannels", "outChannels", "hiddenChannels", "channels", "height", "width", "eventShape",
        "components", "bins", "parts", "residualBlocks",
    };

    /// <summary>Throws a <see cref="ModelFileException"/> naming the file and the place in the JSON when the description at
    /// <paramref name="model"/> exceeds a limit or describes more parameters than <paramref name="storedValues"/>.</summary>
    public static void Check(string path, JsonNode model, ModelFileLimits limits, long storedValues)
    {
        int parts = 0;
        long described = 0;
        Walk(path, model, limits, ref parts, ref described);
        if (described > limits.MaxParameters)
            throw Error(path, model, $"it describes at least {described} parameters, more than the limit of {limits.MaxParameters} (ModelFileLimits.MaxParameters; nflows --max-model-parameters).");
        if (described > storedValues)
            throw Error(path, model,
                $"it describes at least {described} parameters but {ModelArchive.WeightsEntry} holds only {storedValues} values; the file is damaged or crafted.");
    }

    private static void Walk(string path, JsonNode? node, ModelFileLimits limits, ref int parts, ref long described)
    {
        switch (node)
        {
            case JsonArray array:
                foreach (var item in array) Walk(path, item, limits, ref parts, ref described);
                break;
            case JsonObject obj:
                if (obj["type"] is JsonValue typeValue && typeValue.TryGetValue<string>(out var type))
                {
                    if (++parts > limits.MaxParts)
                        throw Error(path, obj, $"the model has more than {limits.MaxParts} parts (ModelFileLimits.MaxParts).");
                    CheckWidths(path, obj, limits);
                    described = Add(described, Values(type, obj));
                }
                foreach (var (_, value) in obj) Walk(path, value, limits, ref parts, ref described);
                break;
        }
    }

    private static void CheckWidths(string path, JsonObject part, ModelFileLimits limits)
    {
        foreach (var (name, value) in part)
        {
            if (!Widths.Contains(name)) continue;
            foreach (var (node, width) in Integers(value))
                if (width > limits.MaxWidth)
                    throw Error(path, node, $"the width {width} is more than the limit of {limits.MaxWidth} (ModelFileLimits.MaxWidth).");
        }
        long eventSize = part["eventShape"] is JsonArray shape ? Product(Integers(shape).Select(p => p.Value))
            : part.ContainsKey("height") ? Product(new[] { Int(part, "channels"), Int(part, "height"), Int(part, "width") })
            : 0;
        if (eventSize > limits.MaxEventSize)
            throw Error(path, part, $"an event of {eventSize} values is more than the limit of {limits.MaxEventSize} (ModelFileLimits.MaxEventSize).");
    }

    /// <summary>A lower bound of the parameter and buffer values the library's part of type <paramref name="type"/> allocates
    /// itself (its children apart): the weight matrices of its layers. Zero for parts that allocate little or are not the
    /// library's.</summary>
    private static long Values(string type, JsonObject n)
    {
        long hiddenChain(long first, long last) => Chain(first, Ints(n, "hiddenFeatures"), last);
        long features = Int(n, "features");
        return type switch
        {
            "Mlp" => hiddenChain(Int(n, "inFeatures") + Int(n, "contextFeatures"), Int(n, "outFeatures")),
            "Made" => hiddenChain(features + Int(n, "contextFeatures"), Multiply(features, Int(n, "parametersPerFeature"))),
            "ParallelMlp" => Multiply(Int(n, "parts"), hiddenChain(Int(n, "inFeatures") + Int(n, "contextFeatures"), Int(n, "outFeatures"))),
            "ResidualBlock" => hiddenChain(features, features),
            "ContinuousFlow" => hiddenChain(features + 1 + Int(n, "contextFeatures"), features),
            "ConvNet" => Multiply(9, Add(Add(Multiply(Int(n, "inChannels") + Int(n, "contextFeatures"), Int(n, "hiddenChannels")),
                Multiply(2 * Int(n, "residualBlocks"), Multiply(Int(n, "hiddenChannels"), Int(n, "hiddenChannels")))),
                Multiply(Int(n, "hiddenChannels"), Int(n, "outChannels")))),
            "LuLinear" => Multiply(2 * features, features),
            "MultivariateGaussian" => Multiply(features, features),
            "GaussianMixture" => Multiply(Int(n, "components"), features),
            "InvertibleConv1x1" => n["eventShape"] is JsonArray shape && shape.Count > 0 ? Multiply(First(shape), First(shape)) : 0,
            "ElementwiseAffine" or "Scale" or "Shift" => n["eventShape"] is JsonArray s ? Product(Integers(s).Select(p => p.Value)) : 0,
            _ => 0,
        };
    }

    private static long First(JsonArray shape) => Integers(shape).Select(p => p.Value).FirstOrDefault();

    private static long Chain(long first, IReadOnlyList<long> hidden, long last)
    {
        if (hidden.Count == 0) return Multiply(first, last);
        long total = Multiply(first, hidden[0]);
        for (int i = 0; i + 1 < hidden.Count; i++) total = Add(total, Multiply(hidden[i], hidden[i + 1]));
        return Add(total, Multiply(hidden[^1], last));
    }

    /// <summary>The integer at <paramref name="property"/>, or 0 when it is absent, negative or not an integer (the part's
    /// own reader reports those).</summary>
    private static long Int(JsonObject node, string property) => Integers(node[property]).Select(p => p.Value).FirstOrDefault();

    private static IReadOnlyList<long> Ints(JsonObject node, string property) =>
        node[property] is JsonArray array ? Integers(array).Select(p => p.Value).ToArray() : Array.Empty<long>();

    /// <summary>The non-negative integers in a value or an array of values, each with its node.</summary>
    private static IEnumerable<(JsonNode Node, long Value)> Integers(JsonNode? value)
    {
        if (value is JsonValue single)
        {
            if (single.TryGetValue<long>(out long v) && v > 0) yield return (single, v);
            else if (single.TryGetValue<double>(out double d) && d >= 1 && double.IsFinite(d))
                yield return (single, d >= long.MaxValue ? long.MaxValue : (long)d);
        }
        else if (value is JsonArray array)
        {
            foreach (var item in array)
                foreach (var pair in Integers(item as JsonValue)) yield return pair;
        }
    }

    private static long Product(IEnumerable<long> values)
    {
        long product = 1;
        bool any = false;
        foreach (long v in values)
        {
            product = Multiply(product, v);
            any = true;
        }
        return any ? product : 0;
    }

    private static long Multiply(long a, long b) => a <= 0 || b <= 0 ? 0 : a > long.MaxValue / b ? long.MaxValue : a * b;

    private static long Add(long a, long b) => a > long.MaxValue - b ? long.MaxValue : a + b;

    private static ModelFileException Error(string path, JsonNode node, string problem) =>
        new(path, $"{ModelArchive.ArchitectureEntry} at {node.GetPath()}: {problem}");
}
