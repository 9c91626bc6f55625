using System;

namespace NormalizingFlows.Tests.Training;

/// <summary>
/// The library's first exact assignment solver, kept as an independent reference for <see cref="NormalizingFlows.Training.LinearAssignment"/>:
/// the Hungarian method with potentials in its <c>O(n^3)</c> shortest-augmenting-path form, one row added at a time, with
/// every column's slack updated at every step (no initialisation heuristics).
/// </summary>
internal static class HungarianReference
{
    public static int[] Solve(ReadOnlySpan<double> cost, int n)
    {
        var u = new double[n + 1];
        var v = new double[n + 1];
        var matchedRow = new int[n + 1];
        var way = new int[n + 1];
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
