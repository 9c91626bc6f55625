using System;
using System.Text.Json.Nodes;
using TorchSharp;
using static TorchSharp.torch;

namespace NormalizingFlows.Serialization;

/// <summary>
/// Builds the parts of a model from <c>architecture.json</c> while it is loaded; the build functions of
/// <see cref="ModelRegistry"/> get one to read values and build their parts. Every read checks what it reads and throws a
/// <see cref="ModelFileException"/> that names the file and the place in the JSON (e.g. <c>$.model.bijector.layers[2]</c>).
/// </summary>
public sealed class ArchitectureReader
{
    internal ArchitectureReader(string filePath, Generator generator)
    {
        FilePath = filePath;
        Generator = generator;
    }

    /// <summary>The file being read.</summary>
    public string FilePath { get; }

    /// <summary>A private generator for constructors that draw random initial values (the saved weights replace them), so that
    /// loading never draws from TorchSharp's global generator. Valid only while the model is being built: do not keep it.</summary>
    public Generator Generator { get; }

    /// <summary>Builds the part described at <paramref name="node"/>[<paramref name="property"/>].</summary>
    /// <typeparam name="T">The kind of part expected there (e.g. <see cref="Bijector"/>).</typeparam>
    /// <param name="node">The description that holds the part.</param>
    /// <param name="property">The property whose value describes the part.</param>
    /// <exception cref="ModelFileException">The part is missing, of an unknown type, of another kind than <typeparamref name="T"/>, or invalid.</exception>
    public T Build<T>(JsonObject node, string property) where T : class
    {
        ArgumentNullException.ThrowIfNull(node);
        return Build<T>(Required(node, property));
    }

    /// <summary>Builds the part described by <paramref name="description"/> (an element of an array, for instance).</summary>
    /// <typeparam name="T">The kind of part expected.</typeparam>
    /// <param name="description">The part's description, <c>{"type": name, ...}</c>.</param>
    /// <exception cref="ModelFileException">The description is not an object, or its type is unknown, of another kind than <typeparamref name="T"/>, or invalid.</exception>
    public T Build<T>(JsonNode description) where T : class
    {
        ArgumentNullException.ThrowIfNull(description);
        if (description is not JsonObject obj) throw Error(description, $"expected an object describing a {typeof(T).Name}; found {description.ToJsonString()}.");
        if (obj["type"] is not JsonValue typeValue || !typeValue.TryGetValue<string>(out var typeName))
            throw Error(obj, "the description has no \"type\" string naming what it describes.");
        var entry = ModelRegistry.Find(typeName) ?? throw Error(obj,
            $"unknown type '{typeName}'. It is neither a NormalizingFlows type nor a registered one: a custom type must be registered " +
            "with ModelRegistry.Register before the model is loaded (or the file was written by a newer version of the library).");
        object built;
        try
        {
            built = entry.Build(obj, this);
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException or FormatException or OverflowException
            or IndexOutOfRangeException or System.Runtime.InteropServices.ExternalException)
        {
            throw Error(obj, $"cannot build the {typeName}: {e.Message}", e);
        }
        catch (OutOfMemoryException e)
        {
            throw Error(obj, $"cannot build the {typeName}: it does not fit in memory ({e.Message}).", e);
        }
        if (built is T part) return part;
        (built as IDisposable)?.Dispose();
        throw Error(obj, $"expected a {typeof(T).Name} here; found a {typeName}, which is not one.");
    }

    /// <summary>The value of <paramref name="node"/>[<paramref name="property"/>] as a <typeparamref name="T"/>
    /// (<see cref="int"/>, <see cref="long"/>, <see cref="double"/>, <see cref="bool"/> or <see cref="string"/>).</summary>
    /// <exception cref="ModelFileException">The property is missing or null, or holds another kind of value.</exception>
    public T Get<T>(JsonObject node, string property)
    {
        ArgumentNullException.ThrowIfNull(node);
        return Value<T>(Required(node, property));
    }

    /// <summary>The array <paramref name="node"/>[<paramref name="property"/>] as values of type <typeparamref name="T"/>.</summary>
    /// <exception cref="ModelFileException">The property is missing, not an array, or holds another kind of value.</exception>
    public T[] GetArray<T>(JsonObject node, string property)
    {
        ArgumentNullException.ThrowIfNull(node);
        Required(node, property);
        return GetArrayOrNull<T>(node, property) ?? throw Error(node, $"the property '{property}' is null; expected an array.");
    }

    /// <summary>The array <paramref name="node"/>[<paramref name="property"/>], or null when the property is null or absent.</summary>
    /// <exception cref="ModelFileException">The property is not an array, or holds another kind of value.</exception>
    public T[]? GetArrayOrNull<T>(JsonObject node, string property)
    {
        ArgumentNullException.ThrowIfNull(node);
        var value = node[property];
        if (value is null) return null;
        if (value is not JsonArray array) throw Error(value, $"expected an array; found {value.ToJsonString()}.");
        var result = new T[array.Count];
        for (int i = 0; i < result.Length; i++)
            result[i] = Value<T>(array[i] ?? throw Error(array, $"element {i} is null; expected a {typeof(T).Name}."));
        return result;
    }

    /// <summary>The enum value named by the string <paramref name="node"/>[<paramref name="property"/>] (case-insensitive).</summary>
    /// <exception cref="ModelFileException">The property is missing, or names no value of <typeparamref name="TEnum"/>.</exception>
    public TEnum GetEnum<TEnum>(JsonObject node, string property) where TEnum : struct, Enum
    {
        ArgumentNullException.ThrowIfNull(node);
        var value = Required(node, property);
        string name = Value<string>(value);
        if (int.TryParse(name, out _) || !Enum.TryParse<TEnum>(name, ignoreCase: true, out var result) || !Enum.IsDefined(result))
            throw Error(value, $"'{name}' is not a {typeof(TEnum).Name}; expected one of {string.Join(", ", Enum.GetNames<TEnum>())}.");
        return result;
    }

    /// <summary>The array of descriptions <paramref name="node"/>[<paramref name="property"/>] (the layers of a chain, for instance).</summary>
    /// <exception cref="ModelFileException">The property is missing or not an array.</exception>
    public JsonArray GetNodes(JsonObject node, string property)
    {
        ArgumentNullException.ThrowIfNull(node);
        var value = Required(node, property);
        return value as JsonArray ?? throw Error(value, $"expected an array; found {value.ToJsonString()}.");
    }

    /// <summary>An exception saying that the description at <paramref name="node"/> is invalid, naming the file and the place.</summary>
    /// <param name="node">Where in <c>architecture.json</c> the problem is.</param>
    /// <param name="problem">What is wrong.</param>
    /// <param name="innerException">The error that revealed it, if any.</param>
    public ModelFileException Error(JsonNode node, string problem, Exception? innerException = null)
    {
        ArgumentNullException.ThrowIfNull(node);
        return new ModelFileException(FilePath, $"{ModelArchive.ArchitectureEntry} at {node.GetPath()}: {problem}", innerException);
    }

    private JsonNode Required(JsonObject node, string property) =>
        node[property] ?? throw Error(node, node.ContainsKey(property)
            ? $"the property '{property}' is null."
            : $"the property '{property}' is missing.");

    private T Value<T>(JsonNode node)
    {
        if (node is JsonValue value && value.TryGetValue<T>(out var result) && result is not null) return result;
        throw Error(node, $"expected {Kind(typeof(T))}; found {node.ToJsonString()}.");
    }

    private static string Kind(Type type) =>
        type == typeof(int) ? "a 32-bit integer" :
        type == typeof(long) ? "a 64-bit integer" :
        type == typeof(double) ? "a number" :
        type == typeof(bool) ? "true or false" :
        type == typeof(string) ? "a string" : "a " + type.Name;
}
