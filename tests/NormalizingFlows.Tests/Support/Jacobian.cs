using System;
using TorchSharp;
using static TorchSharp.torch;

namespace NormalizingFlows.Tests.Support;

/// <summary>Autograd Jacobians of row-wise maps.</summary>
public static class Jacobian
{
    /// <summary>
    /// <c>log|det J|</c> per row of a map that acts on each row independently: <c>J[b, i, j] = d f(x)[b, i] / d x[b, j]</c>,
    /// built one output column at a time by reverse-mode autograd. Events of any shape (e.g. images
    /// <c>[batch, channels, height, width]</c>) are flattened to <c>[batch, features]</c> rows first.
    /// </summary>
    public static Tensor LogAbsDet(Func<Tensor, Tensor> map, Tensor x)
    {
        using var scope = torch.NewDisposeScope();
        var input = x.detach().clone().requires_grad_(true);
        long rows = x.shape[0];
        var y = map(input).reshape(rows, -1);
        long features = y.shape[1];
        var columns = new Tensor[features];
        for (long i = 0; i < features; i++)
        {
            var grads = torch.autograd.grad(new[] { y.select(1, i).sum() }, new[] { input }, retain_graph: true);
            columns[i] = grads[0].reshape(rows, -1);
        }
        var jacobian = torch.stack(columns, 1); // [rows, out, in]
        var (_, logAbs) = torch.linalg.slogdet(jacobian);
        return scope.MoveToOuter(logAbs.detach());
    }
}
