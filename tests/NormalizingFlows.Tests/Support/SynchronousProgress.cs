using System;
using NormalizingFlows.Training;

namespace NormalizingFlows.Tests.Support;

/// <summary>An <see cref="IProgress{T}"/> that runs its handler at once on the reporting thread (unlike <see cref="Progress{T}"/>).</summary>
internal sealed class SynchronousProgress(Action<TrainingProgress> handler) : IProgress<TrainingProgress>
{
    public void Report(TrainingProgress value) => handler(value);
}
