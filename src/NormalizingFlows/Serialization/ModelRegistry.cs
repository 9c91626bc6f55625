using System;
using System.Collections.Generic;
using System.Linq;
using System.Text.Json.Nodes;

namespace NormalizingFlows.Serialization;

/// <summary>
/// The types a model file can hold, each under a type name, with a function that describes an instance as JSON and one
/// that builds an instance back from that description. Every public bijector, distribution, conditioner and elementwise
/// transform of the library is registered already; register your own types once (e.g. at start-up), before saving or
/// loading a model that contains them.
/// </summary>
/// <remarks>
/// <para>A description holds what the type's constructor needs (sizes, options, its parts); the weights are not part of it:
/// they are saved separately from the model's <c>state_dict()</c> (parameters and buffers) and copied into the rebuilt
/// model, so a build function may create its parameters with any initial values. Constructors that draw random initial
/// values should take <see cref="ArchitectureReader.Generator"/>, so that loading leaves the global generator alone.</para>
/// <para>Example, for a bijector with a size and a child conditioner:</para>
/// <code>
/// ModelRegistry.Register&lt;MyLayer&gt;("MyLayer",
///     (layer, writer) =&gt; new JsonObject { ["features"] = layer.Features, ["net"] = writer.Describe(layer.Net) },
///     (node, reader) =&gt; new MyLayer(reader.Get&lt;int&gt;(node, "features"), reader.Build&lt;Conditioner&gt;(node, "net")));
/// </code>
/// <para>Adding a type to the library is one registration in the <c>BuiltInTypes</c> file of its family
/// (<c>Serialization/BuiltInTypes.*.cs</c>); a convention test fails until it is there.</para>
/// <para>Registering is thread-safe. A type is looked up by its exact runtime type, so a subclass needs its own entry.</para>
/// </remarks>
public static class ModelRegistry
{
    private static readonly object Gate = new();
    private static readonly Dictionary<string, Entry> ByName = new(StringComparer.Ordinal);
    private static readonly Dictionary<Type, Entry> ByType = new();

    static ModelRegistry()
    {
        BuiltInTypes.RegisterAll();
    }

    /// <summary>Registers a type whose description may contain other registered parts.</summary>
    /// <typeparam name="T">The exact runtime type (a <see cref="TorchSharp.torch.nn.Module"/>, or any part such as an <see cref="IElementwiseTransform"/>).</typeparam>
    /// <param name="typeName">The name written as <c>"type"</c> in <c>architecture.json</c>; unique, and stable across versions (files refer to it).</param>
    /// <param name="describe">Returns the instance's description (without <c>"type"</c>, which is added); describe parts with <see cref="ArchitectureWriter.Describe"/>.</param>
    /// <param name="build">Builds an instance from a description; read values and parts with the <see cref="ArchitectureReader"/>.</param>
    /// <exception cref="ArgumentException">The name is empty, or already names another type, or the type is registered under another name.</exception>
    /// <remarks>Registering the same type under the same name again replaces its functions.</remarks>
    public static void Register<T>(string typeName, Func<T, ArchitectureWriter, JsonObject> describe, Func<JsonObject, ArchitectureReader, T> build)
        where T : class
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(typeName);
        ArgumentNullException.ThrowIfNull(describe);
        ArgumentNullException.ThrowIfNull(build);
        var entry = new Entry(typeName, typeof(T), (o, w) => describe((T)o, w), (n, r) => build(n, r));
        lock (Gate)
        {
            if (ByName.TryGetValue(typeName, out var named) && named.Type != typeof(T))
                throw new ArgumentException($"The type name '{typeName}' is already registered for {named.Type.FullName}; choose another name for {typeof(T).FullName}.", nameof(typeName));
            if (ByType.TryGetValue(typeof(T), out var typed) && typed.Name != typeName)
                throw new ArgumentException($"{typeof(T).FullName} is already registered as '{typed.Name}'; a type has one name.", nameof(typeName));
            ByName[typeName] = entry;
            ByType[typeof(T)] = entry;
        }
    }

    /// <summary>Registers a type whose description holds only values (no registered parts), read back with the reader's checked getters.</summary>
    /// <typeparam name="T">The exact runtime type.</typeparam>
    /// <param name="typeName">The name written as <c>"type"</c> in <c>architecture.json</c>.</param>
    /// <param name="describe">Returns the instance's description (without <c>"type"</c>).</param>
    /// <param name="build">Builds an instance from a description, e.g. with <see cref="ArchitectureReader.Get{T}"/>.</param>
    /// <exception cref="ArgumentException">See <see cref="Register{T}(string, Func{T, ArchitectureWriter, JsonObject}, Func{JsonObject, ArchitectureReader, T})"/>.</exception>
    public static void Register<T>(string typeName, Func<T, JsonObject> describe, Func<JsonObject, ArchitectureReader, T> build) where T : class
    {
        ArgumentNullException.ThrowIfNull(describe);
        Register<T>(typeName, (o, _) => describe(o), build);
    }

    /// <summary>Registers a type whose description holds only values (no registered parts).</summary>
    /// <typeparam name="T">The exact runtime type.</typeparam>
    /// <param name="typeName">The name written as <c>"type"</c> in <c>architecture.json</c>.</param>
    /// <param name="describe">Returns the instance's description (without <c>"type"</c>).</param>
    /// <param name="build">Builds an instance from a description.</param>
    /// <exception cref="ArgumentException">See <see cref="Register{T}(string, Func{T, ArchitectureWriter, JsonObject}, Func{JsonObject, ArchitectureReader, T})"/>.</exception>
    public static void Register<T>(string typeName, Func<T, JsonObject> describe, Func<JsonObject, T> build) where T : class
    {
        ArgumentNullException.ThrowIfNull(describe);
        ArgumentNullException.ThrowIfNull(build);
        Register<T>(typeName, (o, _) => describe(o), (n, _) => build(n));
    }

    /// <summary>Whether instances of exactly this type can be saved.</summary>
    /// <param name="type">The runtime type.</param>
    public static bool IsRegistered(Type type)
    {
        ArgumentNullException.ThrowIfNull(type);
        lock (Gate) return ByType.ContainsKey(type);
    }

    /// <summary>The registered type names, in ordinal order.</summary>
    public static IReadOnlyList<string> TypeNames
    {
        get
        {
            lock (Gate) return ByName.Keys.OrderBy(n => n, StringComparer.Ordinal).ToArray();
        }
    }

    internal static Entry? Find(Type type)
    {
        lock (Gate) return ByType.TryGetValue(type, out var entry) ? entry : null;
    }

    internal static Entry? Find(string typeName)
    {
        lock (Gate) return ByName.TryGetValue(typeName, out var entry) ? entry : null;
    }

    /// <summary>One registered type.</summary>
    internal sealed record Entry(string Name, Type Type, Func<object, ArchitectureWriter, JsonObject> Describe, Func<JsonObject, ArchitectureReader, object> Build);
}
