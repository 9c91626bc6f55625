using System;
using System.Threading;

namespace NormalizingFlows.Kernels;

/// <summary>
/// A module's plans (<see cref="FusionPlan"/>), one per <see cref="PlanKey"/>: a few entries (dtype x gradient mode), read without a
/// lock and replaced whole (a race only loses an entry, which is planned again). Entries of an older count of module moves are
/// dropped when a new one is stored.
/// </summary>
internal sealed class FusionCache
{
    private const int MaximumEntries = 8;
    private Entry[] entries = Array.Empty<Entry>();

    /// <summary>The plan for <paramref name="key"/>, or null when none is kept.</summary>
    public FusionPlan? Get(PlanKey key)
    {
        foreach (var entry in Volatile.Read(ref entries))
            if (entry.Key == key) return entry.Plan;
        return null;
    }

    /// <summary>Keeps <paramref name="plan"/> for its key.</summary>
    public void Store(FusionPlan plan)
    {
        var current = Volatile.Read(ref entries);
        var kept = new System.Collections.Generic.List<Entry>(current.Length + 1);
        foreach (var entry in current)
            if (entry.Key.Moves == plan.Key.Moves && entry.Key != plan.Key && kept.Count < MaximumEntries - 1) kept.Add(entry);
        kept.Add(new Entry(plan.Key, plan));
        Volatile.Write(ref entries, kept.ToArray());
    }

    private sealed record Entry(PlanKey Key, FusionPlan Plan);
}
