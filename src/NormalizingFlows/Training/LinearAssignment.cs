using System;

namespace NormalizingFlows.Training;

/// <summary>
/// The linear assignment problem: given an <c>n x n</c> cost matrix, the permutation <c>p</c> that minimises
/// <c>sum_i cost[i, p[i]]</c>, exactly, by Jonker and Volgenant's LAPJV: column reduction, reduction transfer and two passes
/// of augmenting row reduction find most of the assignment in <c>O(n^2)</c> steps, then a Dijkstra-like shortest augmenting
/// path from each row left free completes it (<c>O(n^3)</c> in the worst case, <c>O(n)</c> extra memory). The result is
/// optimal like that of the Hungarian method; only the work differs. Flow matching with minibatch optimal transport pairs
/// noise and data with it (<see cref="FlowMatchingOptions.OptimalTransport"/>).
/// Jonker and Volgenant, "A shortest augmenting path algorithm for dense and sparse linear assignment problems" (1987);
/// Crouse, "On implementing 2D rectangular assignment algorithms" (2016); Kuhn, "The Hungarian method for the assignment
/// problem" (1955).
/// </summary>
/// <remarks>
/// On squared distances between 512 standard-normal points and 512 points of the rings target (the pairing of one flow-matching
/// step) it took about half the time of the Hungarian method with potentials it replaced (which the tests keep as their
/// reference), measured in one process, alternating the two on the same matrices; most of the time goes to the shortest paths,
/// since the reductions leave about a third of the rows free on such matrices.
/// </remarks>
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
        var rowSolution = new int[n];
        if (n <= 1) return rowSolution;
        // Invariant of every phase: v holds column prices, and each assigned row's column has the least reduced cost
        // cost[i, j] - v[j] of its row (dual feasibility with complementary slackness); rows left free are in the free list.
        var columnSolution = new int[n];
        var v = new double[n];
        var free = new int[n];
        int freeCount = Initialise(cost, n, v, rowSolution, columnSolution, free);
        for (int pass = 0; pass < 2 && freeCount > 0; pass++)
            freeCount = AugmentingRowReduction(cost, n, v, rowSolution, columnSolution, free, freeCount);
        if (freeCount > 0) AugmentShortestPaths(cost, n, v, rowSolution, columnSolution, free.AsSpan(0, freeCount));
        return rowSolution;
    }

    /// <summary>Column reduction (each column's price is its least cost, the column goes to that row if the row has none yet),
    /// then reduction transfer (a row that won one column lowers its price to its second-best reduced cost). Returns how
    /// many rows are free, listed at the start of <paramref name="free"/>.</summary>
    private static int Initialise(ReadOnlySpan<double> cost, int n, Span<double> v, Span<int> rowSolution, Span<int> columnSolution, Span<int> free)
    {
        var matches = new int[n];
        // Columns in reverse order, as in Jonker and Volgenant's code.
        for (int j = n - 1; j >= 0; j--)
        {
            double min = cost[j];
            int iMin = 0;
            for (int i = 1, index = n + j; i < n; i++, index += n)
            {
                if (cost[index] < min)
                {
                    min = cost[index];
                    iMin = i;
                }
            }
            v[j] = min;
            if (++matches[iMin] == 1)
            {
                rowSolution[iMin] = j;
                columnSolution[j] = iMin;
            }
            else
            {
                columnSolution[j] = -1;
            }
        }
        int freeCount = 0;
        for (int i = 0; i < n; i++)
        {
            if (matches[i] == 0)
            {
                free[freeCount++] = i;
                rowSolution[i] = -1;
            }
            else if (matches[i] == 1)
            {
                int assigned = rowSolution[i];
                var row = cost.Slice(i * n, n);
                double min = double.PositiveInfinity;
                for (int j = 0; j < n; j++)
                {
                    if (j == assigned) continue;
                    double reduced = row[j] - v[j];
                    if (reduced < min) min = reduced;
                }
                v[assigned] -= min;
            }
        }
        return freeCount;
    }

    /// <summary>One pass of augmenting row reduction over the free rows: each takes the column of its least reduced cost and
    /// lowers that column's price until its second-least ties with it, freeing the column's previous row, which continues
    /// at once while the price strictly fell. Returns the rows still free, listed at the start of <paramref name="free"/>.</summary>
    private static int AugmentingRowReduction(ReadOnlySpan<double> cost, int n, Span<double> v, Span<int> rowSolution, Span<int> columnSolution,
        Span<int> free, int freeCount)
    {
        int previousFree = freeCount, k = 0;
        freeCount = 0;
        // A price can fall by amounts as small as rounding allows; a cap on the steps keeps a near-tie from cycling for long.
        // Stopping early is safe: the invariant holds after every step, and the shortest paths finish the job exactly.
        long budget = 16L * n + 64;
        while (k < previousFree)
        {
            if (--budget < 0)
            {
                while (k < previousFree) free[freeCount++] = free[k++];
                break;
            }
            int i = free[k++];
            var row = cost.Slice(i * n, n);
            double uMin = row[0] - v[0], uSubMin = double.PositiveInfinity;
            int j1 = 0, j2 = -1;
            for (int j = 1; j < n; j++)
            {
                double h = row[j] - v[j];
                if (h < uSubMin)
                {
                    if (h >= uMin)
                    {
                        uSubMin = h;
                        j2 = j;
                    }
                    else
                    {
                        uSubMin = uMin;
                        uMin = h;
                        j2 = j1;
                        j1 = j;
                    }
                }
            }
            int i0 = columnSolution[j1];
            bool lowered = uMin < uSubMin;
            if (lowered)
            {
                v[j1] -= uSubMin - uMin;
            }
            else if (i0 >= 0)
            {
                // Least and second-least tie and the least column is taken: take the other one, which may be free.
                j1 = j2;
                i0 = columnSolution[j2];
            }
            rowSolution[i] = j1;
            columnSolution[j1] = i;
            if (i0 >= 0)
            {
                rowSolution[i0] = -1;
                if (lowered) free[--k] = i0;       // continue the path with the row just displaced
                else free[freeCount++] = i0;       // no further reduction possible: leave it to the next phase
            }
        }
        return freeCount;
    }

    /// <summary>For each free row, Dijkstra's shortest path on reduced costs to the nearest unassigned column, then the prices
    /// of the columns settled on the way are updated and the assignment is flipped along the path. Each step settles the
    /// closest column and, in one pass over the columns not yet settled, relaxes them through its row and finds the next
    /// closest (an unassigned column first among equals), as in Crouse's form of the method (2016).</summary>
    private static void AugmentShortestPaths(ReadOnlySpan<double> cost, int n, Span<double> v, Span<int> rowSolution, Span<int> columnSolution,
        ReadOnlySpan<int> freeRows)
    {
        // Columns in search order, with their distances and (fixed during one search) prices beside them, so that the hot loop
        // reads all but the cost row contiguously.
        var columns = new int[n];
        var distance = new double[n];
        var price = new double[n];
        var predecessor = new int[n];
        foreach (int freeRow in freeRows)
        {
            var start = cost.Slice(freeRow * n, n);
            int next = 0;
            double best = double.PositiveInfinity;
            for (int j = 0; j < n; j++)
            {
                double d = start[j] - v[j];
                columns[j] = j;
                distance[j] = d;
                price[j] = v[j];
                predecessor[j] = freeRow;
                if (d < best || (d == best && columnSolution[j] < 0))
                {
                    best = d;
                    next = j;
                }
            }
            // Positions [0 .. settled): settled, at distances up to min; [settled ..): not yet; next: the closest of those.
            int settled = 0, endOfPath;
            double min;
            while (true)
            {
                int j1 = columns[next];
                min = distance[next];
                if (columnSolution[j1] < 0)
                {
                    endOfPath = j1;
                    break;
                }
                (columns[next], columns[settled]) = (columns[settled], j1);
                (distance[next], distance[settled]) = (distance[settled], min);
                (price[next], price[settled]) = (price[settled], price[next]);
                settled++;
                int i = columnSolution[j1];
                var row = cost.Slice(i * n, n);
                double h = row[j1] - v[j1] - min;
                best = double.PositiveInfinity;
                for (int k = settled; k < n; k++)
                {
                    int j = columns[k];
                    double reduced = row[j] - price[k] - h;
                    double d = distance[k];
                    if (reduced < d)
                    {
                        predecessor[j] = i;
                        distance[k] = d = reduced;
                    }
                    if (d < best || (d == best && columnSolution[j] < 0))
                    {
                        best = d;
                        next = k;
                        // Nothing left can be closer than the column just settled: an unassigned column at its distance ends the path.
                        if (d <= min && columnSolution[j] < 0) break;
                    }
                }
            }
            for (int k = 0; k < settled; k++) v[columns[k]] += distance[k] - min;
            int rowOnPath;
            do
            {
                rowOnPath = predecessor[endOfPath];
                columnSolution[endOfPath] = rowOnPath;
                int following = rowSolution[rowOnPath];
                rowSolution[rowOnPath] = endOfPath;
                endOfPath = following;
            }
            while (rowOnPath != freeRow);
        }
    }
}
