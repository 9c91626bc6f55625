using System;

namespace NormalizingFlows.Targets;

/// <summary>Gauss-Legendre nodes and weights on <c>[-1, 1]</c> (Newton's method on the Legendre polynomial).</summary>
internal static class GaussLegendre
{
    /// <summary>The <paramref name="order"/> nodes (ascending) and weights; exact for polynomials of degree below <c>2 order</c>.</summary>
    public static (double[] Nodes, double[] Weights) Rule(int order)
    {
        if (order < 1) throw new ArgumentOutOfRangeException(nameof(order), order, $"order must be at least 1; got {order}.");
        var nodes = new double[order];
        var weights = new double[order];
        for (int i = 0; i < (order + 1) / 2; i++)
        {
            // Start from the Chebyshev-like guess for the i-th largest root, then polish with Newton.
            double z = Math.Cos(Math.PI * (i + 0.75) / (order + 0.5));
            double derivative = 0;
            for (int iteration = 0; iteration < 100; iteration++)
            {
                var (value, slope) = Legendre(order, z);
                derivative = slope;
                double step = value / slope;
                z -= step;
                if (Math.Abs(step) < 1e-16) break;
            }
            derivative = Legendre(order, z).Derivative;
            double weight = 2.0 / ((1 - z * z) * derivative * derivative);
            nodes[i] = -z;
            nodes[order - 1 - i] = z;
            weights[i] = weight;
            weights[order - 1 - i] = weight;
        }
        return (nodes, weights);
    }

    /// <summary><c>P_n(z)</c> and <c>P_n'(z)</c> by the three-term recurrence.</summary>
    private static (double Value, double Derivative) Legendre(int n, double z)
    {
        double current = 1, previous = 0;
        for (int j = 1; j <= n; j++)
        {
            double older = previous;
            previous = current;
            current = ((2 * j - 1) * z * previous - (j - 1) * older) / j;
        }
        double derivative = n * (z * current - previous) / (z * z - 1);
        return (current, derivative);
    }
}
