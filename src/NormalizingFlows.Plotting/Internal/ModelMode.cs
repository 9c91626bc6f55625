using System;
using System.Collections.Generic;
using System.Linq;
using TorchSharp;
using static TorchSharp.torch;

namespace NormalizingFlows.Plotting.Internal;

/// <summary>
/// Puts a model in evaluation mode for the lifetime of the value and restores every module's own training flag when
/// disposed. Evaluating a density must not change the model: in training mode BatchNorm would update its running
/// statistics, ActNorm would initialise itself from the grid, and residual blocks would advance their power iteration.
/// </summary>
internal readonly struct ModelMode : IDisposable
{
    private readonly nn.Module root;
    private readonly bool rootTraining;
    private readonly (nn.Module Module, bool Training, int Depth)[] children;

    private ModelMode(nn.Module model)
    {
        root = model;
        rootTraining = model.training;
        children = model.named_modules()
            .Select(entry => (entry.module, entry.module.training, Depth: entry.name.Count(c => c == '.')))
            .OrderBy(entry => entry.Depth)
            .ToArray();
        model.eval();
    }

    /// <summary>Switches <paramref name="model"/> (and every submodule) to evaluation mode until the result is disposed.</summary>
    public static ModelMode Evaluation(nn.Module model) => new(model);

    /// <summary>Restores the recorded flags, parents before children (each call to train() also sets the children).</summary>
    public void Dispose()
    {
        if (root is null) return;
        root.train(rootTraining);
        foreach (var (module, training, _) in children) module.train(training);
    }
}
