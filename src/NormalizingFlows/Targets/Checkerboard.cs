using System;
using System.Collections.Generic;
using NormalizingFlows.Internal;
using TorchSharp;
using static TorchSharp.torch;

namespace NormalizingFlows.Targets;

/// <summary>
/// A checkerboard (FFJORD's): uniform on the "black" squares of an <c>n x n</c> board of squares of side <c>a</c>
/// centred on the origin, i.e. on <c>[-L, L)^2</c> with <c>L = n a / 2</c>, the square with zero-based column <c>i</c>
/// and row <c>j</c> (counted from the lower left) being black when <c>i + j</c> is even. Defaults: <c>n = 4</c>,
/// <c>a = 2</c>: eight black squares on <c>[-4, 4)^2</c>, density <c>1/32</c>. Exact density
/// <c>p(x) = 1 / (B a^2)</c> on the <c>B = ceil(n^2 / 2)</c> black squares and 0 (<c>log p = -inf</c>) elsewhere;
/// samples pick a black square uniformly and a uniform point in it. A NaN coordinate gives a NaN log-density.
/// </summary>
public sealed class Checkerboard : ITarget
{
    private readonly double[] blackColumns;
    private readonly double[] blackRows;
    private readonly double half;

    /// <summary>Creates the board.</summary>
    /// <param name="squaresPerSide">Number of squares <c>n</c> along each side; at least 1.</param>
    /// <param name="squareSize">Side <c>a</c> of one square; positive.</param>
    public Checkerboard(int squaresPerSide = 4, double squareSize = 2.0)
    {
        if (squaresPerSide < 1)
            throw new ArgumentOutOfRangeException(nameof(squaresPerSide), squaresPerSide, $"squaresPerSide must be at least 1; got {squaresPerSide}.");
        Guard.Positive(squareSize, nameof(squareSize));
        SquaresPerSide = squaresPerSide;
        SquareSize = squareSize;
        var columns = new List<double>();
        var rows = new List<double>();
        for (int j = 0; j < squaresPerSide; j++)
            for (int i = 0; i < squaresPerSide; i++)
                if ((i + j) % 2 == 0)
                {
                    columns.Add(i);
                    rows.Add(j);
                }
        blackColumns = columns.ToArray();
        blackRows = rows.ToArray();
        half = squaresPerSide * squareSize / 2;
        LogDensityInside = -Math.Log(blackColumns.Length * squareSize * squareSize);
        Bounds = new Box(-half, half, -half, half);
    }

    /// <summary>Number of squares <c>n</c> along each side.</summary>
    public int SquaresPerSide { get; }

    /// <summary>Side <c>a</c> of one square.</summary>
    public double SquareSize { get; }

    /// <summary>Number of black squares, <c>ceil(n^2 / 2)</c>.</summary>
    public int BlackSquares => blackColumns.Length;

    /// <summary>The constant log-density on the black squares, <c>-log(B a^2)</c> (<c>-log 32</c> by default).</summary>
    public double LogDensityInside { get; }

    /// <inheritdoc />
    public string Name => "checkerboard";

    /// <inheritdoc />
    public int Features => 2;

    /// <inheritdoc />
    public bool IsNormalized => true;

    /// <summary>The board itself, <c>[-L, L]^2</c> (<c>[-4, 4]^2</c> by default): it holds all of the mass.</summary>
    public Box Bounds { get; }

    /// <inheritdoc />
    public Tensor LogDensity(Tensor x)
    {
        Guard.Batch(x, new long[] { 2 }, nameof(x));
        using var scope = torch.NewDisposeScope();
        using var halfScalar = half.ToScalar();
        using var side = (2 * half).ToScalar();
        using var squareSize = SquareSize.ToScalar();
        using var logDensityInside = LogDensityInside.ToScalar();
        var u = x.select(1, 0).add(halfScalar, Scalars.One);
        var v = x.select(1, 1).add(halfScalar, Scalars.One);
        var onBoard = u.ge(Scalars.Zero).logical_and(u.lt(side)).logical_and(v.ge(Scalars.Zero)).logical_and(v.lt(side));
        var parity = u.div(squareSize).floor().add(v.div(squareSize).floor(), Scalars.One).remainder(Scalars.Of(2.0));
        var black = onBoard.logical_and(parity.eq(Scalars.Of(0.0)));
        var logP = torch.where(black, torch.full_like(u, logDensityInside), torch.full_like(u, Scalars.Of(double.NegativeInfinity)));
        // A NaN coordinate gives NaN, as for the other targets, rather than "outside".
        return scope.MoveToOuter(torch.where(x.isnan().any(1), torch.full_like(u, Scalars.Of(double.NaN)), logP));
    }

    /// <inheritdoc />
    /// <remarks>Rounding to the output precision can move a point onto the edge of a neighbouring white square
    /// (a chance of about <c>1e-7</c> per point); such points are drawn again, so every sample has a finite log-density.</remarks>
    public Tensor Sample(long count, Generator? generator = null, ScalarType? dtype = null, Device? device = null)
    {
        Guard.Positive(count, nameof(count));
        using var scope = torch.NewDisposeScope();
        var type = dtype ?? Sampling.DefaultType;
        var accepted = new List<Tensor>();
        using var squareSize = SquareSize.ToScalar();
        using var halfScalar = half.ToScalar();
        long have = 0;
        while (have < count)
        {
            long rows = count - have;
            var k = Sampling.UniformIndex(rows, blackColumns.Length, generator, device);
            var column = torch.tensor(blackColumns, dtype: type, device: device).index_select(0, k);
            var row = torch.tensor(blackRows, dtype: type, device: device).index_select(0, k);
            var offset = Draw.Uniform(new[] { rows, 2L }, type, device, generator);
            var points = Sampling.Rows(column, row).add(offset, Scalars.One).mul(squareSize).sub(halfScalar);
            var black = LogDensity(points).isfinite();
            var kept = points.index_select(0, black.nonzero().squeeze(1));
            accepted.Add(kept);
            have += kept.size(0);
        }
        return scope.MoveToOuter(accepted.Count == 1 ? accepted[0] : torch.cat(accepted, 0));
    }
}
