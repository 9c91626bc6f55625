using System;

namespace NormalizingFlows.Training;

/// <summary>
/// The linear assignment problem: given an <c>n x n</c> cost matrix, the permutation <c>p</c> that minimises
/// <c>sum_i cost[i, p[i]]</c>, exactly, by the Hungarian method with potentials and shortest augmenting paths (Kuhn-Munkres
/// in the form of Jonker and Volgenant's, <c>O(n^3)</c> time, <c>O(n)</c> extra memory). Flow matching with minibatch
/// optimal transport pairs noise and data with it (<see cref="FlowMatchingOptions.OptimalTransport"/>).
/// Kuhn, "The Hungarian method for the assignment problem" (1955); Jonker and Volgenant, "A shortest augmenting path algorithm
/// for dense and sparse linear assignment problems" (1987).
/// </summary>
public static class LinearAssignment
{
    /// <summary>The assignment of least total cost.</summary>
    /// <param name="cost">Row-major costs <c>cost[i * n + j]</c> of assigning row <c>i</c> to column <c>j</c>; every value finite.</param>
    /// <param name="n">Rows and columns.</param>
    /// <returns><c>p</c> with row <c>i</c> assigned to column <c>p[i]</c>; a permutation of <c>0 .. n-1</c>.</returns>
    /// <exception cref="ArgumentException">The length is not <c>n * n</c>, or a cost is not finite.</exception>
    public static int[] Solve(ReadOnlySpan<double> cost, int n)
    {
        if (n < 0) throw new ArgumentOutOfRangeException(nameof(n), n, $"n must be 0 or more; got {n}.");
        if (cost.Length != (long)n * n)
            throw new ArgumentException($"Expected {n} x {n} = {(long)n * n} costs; got {cost.Length}.", nameof(cost));
        for (int k = 0; k < cost.Length; k++)
            if (!double.IsFinite(cost[k]))
                throw new ArgumentException($"Expected finite costs; cost[{k / n}, {k % n}] is {cost[k]}.", nameof(cost));
        // 1-based arrays: index 0 is the virtual row/column the augmenting path starts from.
        var u = new double[n + 1];       // row potentials
        var v = new double[n + 1];       // column potentials
        var matchedRow = new int[n + 1]; // matchedRow[j]: the row matched to column j (0 = none)
        var way = new int[n + 1];        // the previous column on the shortest path
        var minimum = new double[n + 1];
        var used = new bool[n + 1];
        for (int i = 1; i <= n; i++)
        {
            matchedRow[0] = i;
            int column = 0;
            Array.Fill(minimum, double.PositiveInfinity);
            Array.Clear(used);
            do
            {
                used[column] = true;
                int row = matchedRow[column], next = 0;
                double delta = double.PositiveInfinity;
                int offset = (row - 1) * n - 1;
                for (int j = 1; j <= n; j++)
                {
                    if (used[j]) continue;
                    double reduced = cost[offset + j] - u[row] - v[j];
                    if (reduced < minimum[j])
                    {
                        minimum[j] = reduced;
                        way[j] = column;
                    }
                    if (minimum[j] < delta)
                    {
                        delta = minimum[j];
                        next = j;
                    }
                }
                for (int j = 0; j <= n; j++)
                {
                    if (used[j])
                    {
                        u[matchedRow[j]] += delta;
                        v[j] -= delta;
                    }
                    else
                    {
                        minimum[j] -= delta;
                    }
                }
                column = next;
            }
            while (matchedRow[column] != 0);
            do
            {
                int previous = way[column];
                matchedRow[column] = matchedRow[previous];
                column = previous;
            }
            while (column != 0);
        }
        var assignment = new int[n];
        for (int j = 1; j <= n; j++) assignment[matchedRow[j] - 1] = j - 1;
        return assignment;
    }
}
