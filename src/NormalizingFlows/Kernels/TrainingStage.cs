using System;
using System.Collections.Generic;
using System.Numerics;
using static TorchSharp.torch;

namespace NormalizingFlows.Kernels;

/// <summary>
/// One layer's map in one direction with its backward pass, on rows (row-major <c>[rows, features]</c>): a stage of a chain that
/// trains as one autograd node (<see cref="FusedChainTraining"/>). Its parameters were read once for the call, so neither pass
/// touches a tensor; a call's rows may be split into parts, each run on its own thread with its own gradients
/// (<see cref="NewGradients"/>), which add up part by part.
/// </summary>
/// <typeparam name="T">float or double.</typeparam>
internal abstract class TrainingStage<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>Maps the <paramref name="rows"/> rows of <paramref name="input"/> into <paramref name="output"/> (never the same
    /// memory) and each row's log-det into <paramref name="logAbsDet"/>; returns what the backward pass reads besides the input
    /// (null: nothing), owned by the caller.</summary>
    public abstract IDisposable? Forward(ReadOnlySpan<T> input, Span<T> output, Span<T> logAbsDet, int rows);

    /// <summary>The backward pass of a <see cref="Forward"/> call on <paramref name="input"/>: from the output's and log-det's
    /// gradients (either may be empty: zero) to the input's (<paramref name="inputGradient"/>, skipped when empty), the
    /// parameters' gradients into <paramref name="gradients"/> (from <see cref="NewGradients"/>, one per part of a call).</summary>
    public abstract void Backward(IDisposable? kept, ReadOnlySpan<T> input, ReadOnlySpan<T> outputGradient, ReadOnlySpan<T> logAbsDetGradient,
        Span<T> inputGradient, StageGradients<T> gradients);

    /// <summary>Zero gradients of the stage's parameters.</summary>
    public abstract StageGradients<T> NewGradients();
}

/// <summary>The gradients of one stage's parameters (<see cref="TrainingStage{T}"/>), weight by weight in the order of the
/// layer's weights.</summary>
internal abstract class StageGradients<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>Adds another part's gradients of the same stage into these.</summary>
    public abstract void Add(StageGradients<T> other);

    /// <summary>The gradient of weight number <paramref name="weight"/> as a tensor of its shape.</summary>
    public abstract Tensor ToTensor(int weight);

    /// <summary>Adds the gradient of weight number <paramref name="weight"/> into <paramref name="target"/> (its elements in
    /// row-major order), as autograd adds a gradient into a parameter's.</summary>
    public abstract void AddTo(int weight, Span<T> target);
}
