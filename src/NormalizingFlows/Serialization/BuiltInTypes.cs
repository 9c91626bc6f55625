using System;
using System.Collections.Generic;
using System.Linq;
using System.Text.Json.Nodes;

namespace NormalizingFlows.Serialization;

/// <summary>
/// The library's own entries in <see cref="ModelRegistry"/>, one partial file per family (bijectors, distributions,
/// conditioners, elementwise transforms). Each entry writes what the type's constructor needs and builds the type from
/// it; parameters and buffers come from the saved weights, so initial values do not matter.
/// To make a new library type savable, add one <c>ModelRegistry.Register</c> call to the file of its family.
/// </summary>
internal static partial class BuiltInTypes
{
    /// <summary>Registers every library type (called once, by <see cref="ModelRegistry"/>'s static constructor).</summary>
    public static void RegisterAll()
    {
        RegisterBijectors();
        RegisterDistributions();
        RegisterConditioners();
        RegisterTransforms();
    }

    private static JsonArray Array<T>(IEnumerable<T> values) => ArchitectureWriter.Array(values);

    private static JsonArray Describe(ArchitectureWriter writer, IEnumerable<object> parts) =>
        new(parts.Select(p => (JsonNode?)writer.Describe(p)).ToArray());

    private static int Int32(long value, ArchitectureReader reader, JsonNode node) =>
        value is >= 1 and <= int.MaxValue ? (int)value : throw reader.Error(node, $"expected sizes from 1 to {int.MaxValue}; found {value}.");

    /// <summary>Builds several parts from the array <paramref name="node"/>[<paramref name="property"/>]; if one fails,
    /// the ones already built are disposed.</summary>
    private static T[] BuildAll<T>(ArchitectureReader reader, JsonObject node, string property) where T : class
    {
        var nodes = reader.GetNodes(node, property);
        return Parts.Build(parts =>
        {
            var result = new T[nodes.Count];
            for (int i = 0; i < result.Length; i++)
                result[i] = parts.Add(reader.Build<T>(nodes[i] ?? throw reader.Error(nodes, $"element {i} is null; expected a {typeof(T).Name}.")));
            return result;
        });
    }

    /// <summary>The parts built so far for one composite; disposed if building the composite fails.</summary>
    private sealed class Parts
    {
        private readonly List<object> built = new();

        public static TResult Build<TResult>(Func<Parts, TResult> build)
        {
            var parts = new Parts();
            try
            {
                return build(parts);
            }
            catch
            {
                foreach (var part in parts.built) (part as IDisposable)?.Dispose();
                throw;
            }
        }

        public T Add<T>(T part) where T : class
        {
            built.Add(part);
            return part;
        }
    }
}
