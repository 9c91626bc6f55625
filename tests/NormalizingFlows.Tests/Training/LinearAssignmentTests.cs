using System;
using System.Collections.Generic;
using System.Linq;
using NormalizingFlows.Training;

namespace NormalizingFlows.Tests.Training;

public sealed class LinearAssignmentTests
{
    private static double Total(double[] cost, int n, int[] assignment) => Enumerable.Range(0, n).Sum(i => cost[i * n + assignment[i]]);

    private static IEnumerable<int[]> Permutations(int n)
    {
        if (n == 0)
        {
            yield return Array.Empty<int>();
            yield break;
        }
        foreach (var rest in Permutations(n - 1))
            for (int position = 0; position <= rest.Length; position++)
            {
                var p = new List<int>(rest);
                p.Insert(position, n - 1);
                yield return p.ToArray();
            }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(5)]
    [InlineData(7)]
    public void Should_Match_Brute_Force_When_Batches_Are_Small(int n)
    {
        var random = new Random(n * 31 + 7);
        for (int trial = 0; trial < 40; trial++)
        {
            // Half the trials with integer costs in a small range (many ties), half with negative and positive reals.
            var cost = Enumerable.Range(0, n * n).Select(_ => trial % 2 == 0 ? random.Next(0, 4) : random.NextDouble() * 20 - 10).ToArray();
            var assignment = LinearAssignment.Solve(cost, n);
            Assert.Equal(Enumerable.Range(0, n), assignment.Order());
            double best = Permutations(n).Min(p => Total(cost, n, p));
            Assert.Equal(best, Total(cost, n, assignment), 9);
        }
    }

    [Fact]
    public void Should_Pair_Points_With_Their_Shifted_Copies_When_Cost_Is_Squared_Distance()
    {
        // Points on a line and the same points shifted by a little: the optimal pairing is the identity, whatever the order.
        int n = 60;
        var random = new Random(3);
        var a = Enumerable.Range(0, n).Select(i => i * 1.0).ToArray();
        var order = Enumerable.Range(0, n).OrderBy(_ => random.Next()).ToArray();
        var b = order.Select(i => a[i] + 0.1).ToArray();
        var cost = new double[n * n];
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++)
                cost[i * n + j] = (a[i] - b[j]) * (a[i] - b[j]);
        var assignment = LinearAssignment.Solve(cost, n);
        for (int i = 0; i < n; i++) Assert.Equal(i, order[assignment[i]]);
    }

    [Theory]
    [InlineData(64, 0)]
    [InlineData(64, 1)]
    [InlineData(64, 2)]
    [InlineData(200, 0)]
    [InlineData(200, 1)]
    [InlineData(200, 2)]
    public void Should_Match_The_Hungarian_Reference_When_Instances_Are_Large(int n, int kind)
    {
        // kind 0: squared distances between two clouds of 2-D points (as minibatch optimal transport builds them);
        // kind 1: integer costs in [0, 5) (many ties, where Jonker and Volgenant's reductions take their other branches);
        // kind 2: uniform reals in [-10, 10).
        var random = new Random(n * 100 + kind);
        for (int trial = 0; trial < 5; trial++)
        {
            var cost = new double[n * n];
            if (kind == 0)
            {
                var a = Enumerable.Range(0, 2 * n).Select(_ => random.NextDouble() * 4 - 2).ToArray();
                var b = Enumerable.Range(0, 2 * n).Select(_ => random.NextDouble() * 6 - 3).ToArray();
                for (int i = 0; i < n; i++)
                    for (int j = 0; j < n; j++)
                    {
                        double dx = a[2 * i] - b[2 * j], dy = a[2 * i + 1] - b[2 * j + 1];
                        cost[i * n + j] = dx * dx + dy * dy;
                    }
            }
            else
            {
                for (int k = 0; k < cost.Length; k++) cost[k] = kind == 1 ? random.Next(0, 5) : random.NextDouble() * 20 - 10;
            }
            var assignment = LinearAssignment.Solve(cost, n);
            Assert.Equal(Enumerable.Range(0, n), assignment.Order());
            var reference = HungarianReference.Solve(cost, n);
            Assert.Equal(Total(cost, n, reference), Total(cost, n, assignment), 9);
        }
    }

    [Fact]
    public void Should_Keep_The_Identity_When_The_Diagonal_Is_Cheapest_Everywhere()
    {
        // Column reduction alone solves it: every column's least cost is on the diagonal, each in its own row.
        int n = 50;
        var cost = new double[n * n];
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++)
                cost[i * n + j] = i == j ? 0 : 1 + Math.Abs(i - j);
        Assert.Equal(Enumerable.Range(0, n), LinearAssignment.Solve(cost, n));
    }

    [Fact]
    public void Should_Assign_Every_Row_When_All_Costs_Are_Equal()
    {
        // Every reduced cost ties: the reductions' tie branches and the shortest paths must still give a permutation.
        foreach (int n in new[] { 2, 3, 17, 100 })
        {
            var assignment = LinearAssignment.Solve(Enumerable.Repeat(1.5, n * n).ToArray(), n);
            Assert.Equal(Enumerable.Range(0, n), assignment.Order());
        }
    }

    [Fact]
    public void Should_Name_The_Cell_When_A_Cost_Is_Not_Finite()
    {
        var cost = new double[] { 1, 2, double.NaN, 4 };
        var error = Assert.Throws<ArgumentException>(() => LinearAssignment.Solve(cost, 2));
        Assert.Contains("cost[1, 0]", error.Message);
        Assert.Throws<ArgumentException>(() => LinearAssignment.Solve(new double[3], 2));
    }
}
