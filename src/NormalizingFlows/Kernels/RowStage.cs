using System;
using System.Collections.Generic;
using System.Numerics;
using System.Runtime.CompilerServices;

namespace NormalizingFlows.Kernels;

/// <summary>
/// One layer's map in one direction, without gradients, as a kernel on a block of rows: its parameters were read once for the
/// call (<see cref="FusedLayers.Stage{T}"/>), so running it touches no tensor. <see cref="FusedChain"/> runs a chain's
/// stages one after another on each block of rows, so that a block stays in the processor's cache through the whole chain.
/// </summary>
/// <typeparam name="T">float or double.</typeparam>
internal abstract class RowStage<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>Maps the <paramref name="rows"/> rows of <paramref name="input"/> (row-major <c>[rows, features]</c>) into
    /// <paramref name="output"/> (the same shape, never the same memory) and writes each row's log-det into
    /// <paramref name="logAbsDet"/>; <paramref name="work"/> is the calling thread's scratch space.</summary>
    public abstract void Run(ReadOnlySpan<T> input, Span<T> output, Span<T> logAbsDet, int rows, RowStageWork<T> work);

    /// <summary><see cref="Run(ReadOnlySpan{T}, Span{T}, Span{T}, int, RowStageWork{T})"/> with each row's context in
    /// <paramref name="context"/> (row-major <c>[rows, width]</c>; empty without one), for a layer that reads one; the others
    /// ignore it.</summary>
    public virtual void Run(ReadOnlySpan<T> input, ReadOnlySpan<T> context, Span<T> output, Span<T> logAbsDet, int rows, RowStageWork<T> work) =>
        Run(input, output, logAbsDet, rows, work);
}

/// <summary>
/// One thread's scratch space for the stages of a <see cref="FusedChain"/> call: a coupling's work buffers, shared by every
/// coupling of the same network shape and block size (a chain of sixteen equal couplings keeps one set, not sixteen). Pooled
/// buffers go back to their pool on <see cref="Dispose"/>.
/// </summary>
internal sealed class RowStageWork<T> : IDisposable where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly List<(string Shape, CouplingWork<T> Work)> couplings = new();

    /// <summary>Work for <paramref name="plan"/> on <paramref name="rows"/> rows (contents undefined). A few shapes at most per
    /// chain, so a list searched by the interned shape's reference.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public CouplingWork<T> For(CouplingPlan plan, int rows)
    {
        foreach (var (shape, work) in couplings)
            if (ReferenceEquals(shape, plan.Shape) && work.Rows == rows) return work;
        var created = new CouplingWork<T>(plan, rows, pooled: true);
        couplings.Add((plan.Shape, created));
        return created;
    }

    /// <inheritdoc />
    public void Dispose()
    {
        foreach (var (_, work) in couplings) work.Dispose();
        couplings.Clear();
    }
}
