using System;
using System.Linq;
using System.Text.Json.Nodes;

namespace NormalizingFlows.Serialization;

/// <summary>
/// Describes the parts of a model as JSON while it is saved; the describe functions of <see cref="ModelRegistry"/> get one
/// to describe their parts.
/// </summary>
public sealed class ArchitectureWriter
{
    internal ArchitectureWriter()
    {
    }

    /// <summary>The description of <paramref name="part"/>: <c>{"type": name, ...}</c> as its registered describe function gives it.</summary>
    /// <param name="part">A bijector, distribution, conditioner, elementwise transform or any other registered part.</param>
    /// <exception cref="NotSupportedException">The part's type is not registered; the message names it and says how to register it.</exception>
    public JsonObject Describe(object part)
    {
        ArgumentNullException.ThrowIfNull(part);
        var type = part.GetType();
        var entry = ModelRegistry.Find(type) ?? throw new NotSupportedException(
            $"Cannot save {type.FullName}: the type is not registered for model files. Register it once, before saving and loading, with " +
            $"ModelRegistry.Register<{type.Name}>(\"{type.Name}\", describe, build) (see the ModelRegistry documentation).");
        var fields = entry.Describe(part, this) ?? throw new InvalidOperationException($"The describe function of '{entry.Name}' returned null.");
        if (fields.ContainsKey("type"))
            throw new InvalidOperationException($"The describe function of '{entry.Name}' returned a \"type\" property; the writer adds it.");
        var node = new JsonObject { ["type"] = entry.Name };
        foreach (var (key, value) in fields.ToList())
        {
            fields.Remove(key);
            node[key] = value;
        }
        return node;
    }

    /// <summary>A JSON array of <paramref name="values"/> (numbers, booleans or strings).</summary>
    internal static JsonArray Array<T>(System.Collections.Generic.IEnumerable<T> values) =>
        new(values.Select(v => (JsonNode?)JsonValue.Create(v)).ToArray());
}
