using System;
using System.Collections.Generic;
using System.Linq;
using NormalizingFlows.Bijectors;
using NormalizingFlows.Distributions;
using TorchSharp;
using static TorchSharp.torch;

namespace NormalizingFlows.Tests;

/// <summary>Flow.EvaluationChunkRows: evaluation without gradients goes through the layers piece by piece, with the result of
/// one piece; with gradients or in training mode the batch stays whole.</summary>
public sealed class FlowChunkingTests
{
    [Fact]
    public void Should_Give_The_Same_LogProb_In_Pieces_As_In_One_When_Evaluating_Without_Gradients()
    {
        using var scope = torch.NewDisposeScope();
        using var flow = PerturbedRealNvp();
        flow.to(ScalarType.Float64); // float64, so that rounding (GEMM blocking differs with the rows) cannot hide a real difference
        var x = torch.randn(new long[] { 1000, 2 }, dtype: ScalarType.Float64, generator: new Generator(3));
        using var noGrad = torch.no_grad();
        flow.EvaluationChunkRows = long.MaxValue;
        var whole = flow.LogProb(x);
        flow.EvaluationChunkRows = 7;
        var pieces = flow.LogProb(x);
        Assert.Equal(new long[] { 1000 }, pieces.shape);
        double diff = pieces.sub(whole).abs().max().ToDouble();
        Assert.True(diff < 1e-9, $"log-prob in pieces differs from log-prob in one piece by {diff}; whole range {whole.min().ToDouble()}..{whole.max().ToDouble()}");
    }

    [Fact]
    public void Should_Draw_The_Same_Samples_In_Pieces_As_In_One()
    {
        using var scope = torch.NewDisposeScope();
        using var flow = PerturbedRealNvp();
        flow.EvaluationChunkRows = long.MaxValue;
        var whole = flow.Sample(500, generator: new Generator(11));
        Tensor wholeSamples, wholeLogProb;
        using (torch.no_grad()) (wholeSamples, wholeLogProb) = flow.SampleWithLogProb(500, generator: new Generator(12));
        flow.EvaluationChunkRows = 64;
        var pieces = flow.Sample(500, generator: new Generator(11));
        Assert.True(pieces.sub(whole).abs().max().ToDouble() < 1e-5, "samples in pieces differ from samples in one piece");
        using (torch.no_grad())
        {
            var (samples, logProb) = flow.SampleWithLogProb(500, generator: new Generator(12));
            Assert.True(samples.sub(wholeSamples).abs().max().ToDouble() < 1e-5);
            Assert.True(logProb.sub(wholeLogProb).abs().max().ToDouble() < 1e-5);
        }
    }

    [Fact]
    public void Should_Pass_Each_Piece_Its_Own_Context_Rows()
    {
        using var scope = torch.NewDisposeScope();
        var generator = new Generator(5);
        var layers = new List<Bijector>();
        for (int i = 0; i < 3; i++)
        {
            layers.Add(Coupling.WithMlp(Masks.Alternating(2, i % 2), new[] { 8 }, contextFeatures: 3, generator: generator));
            layers.Add(LuLinear.WithRandomPermutation(2, generator));
        }
        using var flow = new Flow(new ConditionalDiagonalGaussian(2, 3, new[] { 8 }, generator: generator), new Chain(layers));
        Perturb(flow);
        flow.eval();
        var x = torch.randn(100, 2, generator: generator);
        var context = torch.randn(100, 3, generator: generator);
        using var noGrad = torch.no_grad();
        flow.EvaluationChunkRows = long.MaxValue;
        var whole = flow.LogProb(x, context);
        var wholeSamples = flow.Sample(100, context, new Generator(8));
        flow.EvaluationChunkRows = 9;
        Assert.True(flow.LogProb(x, context).sub(whole).abs().max().ToDouble() < 1e-5);
        Assert.True(flow.Sample(100, context, new Generator(8)).sub(wholeSamples).abs().max().ToDouble() < 1e-5);
    }

    [Fact]
    public void Should_Split_Only_Without_Gradients_In_Evaluation_Mode()
    {
        using var scope = torch.NewDisposeScope();
        var recorder = new BatchRecorder();
        using var flow = new Flow(new StandardNormal(2), recorder) { EvaluationChunkRows = 7 };
        var x = torch.randn(20, 2);
        flow.eval();
        using (torch.no_grad()) flow.LogProb(x);
        Assert.Equal(new long[] { 7, 7, 6 }, recorder.TakeRows());
        using (torch.inference_mode()) flow.Sample(20);
        Assert.Equal(new long[] { 7, 7, 6 }, recorder.TakeRows());
        // Gradients on: one piece (the caller differentiates through the whole batch).
        flow.LogProb(x);
        Assert.Equal(new long[] { 20 }, recorder.TakeRows());
        // Training mode: one piece (batch statistics and data-dependent initialisation must see every row).
        flow.train();
        using (torch.no_grad()) flow.LogProb(x);
        Assert.Equal(new long[] { 20 }, recorder.TakeRows());
        // A submodule left in training mode counts too.
        flow.eval();
        recorder.train();
        using (torch.no_grad()) flow.Sample(20);
        Assert.Equal(new long[] { 20 }, recorder.TakeRows());
    }

    [Fact]
    public void Should_Keep_Small_Batches_Whole_With_The_Automatic_Size()
    {
        using var scope = torch.NewDisposeScope();
        var recorder = new BatchRecorder();
        using var flow = new Flow(new StandardNormal(2), recorder);
        flow.eval();
        using (torch.no_grad()) flow.LogProb(torch.randn(Flow.MinimumChunkRows, 2));
        Assert.Equal(new[] { Flow.MinimumChunkRows }, recorder.TakeRows());
        using (torch.no_grad()) flow.LogProb(torch.randn(flow.ChunkRows + 1, 2));
        Assert.Equal(new[] { flow.ChunkRows, 1L }, recorder.TakeRows());
    }

    [Fact]
    public void Should_Size_Automatic_Pieces_From_The_Widest_Layer()
    {
        // RealNVP computes its shift and log-scale networks side by side: a hidden layer of width h is 2h activations per row.
        using var wide = Flows.RealNvp(2, 2, new[] { 256 });
        Assert.Equal(Flow.MinimumChunkRows, wide.ChunkRows); // 1 048 576 / 512 = 2048, below the minimum
        using var medium = Flows.RealNvp(2, 2, new[] { 64, 64 });
        Assert.Equal(Flow.AutomaticChunkElements / 128, medium.ChunkRows);
        using var narrow = Flows.LuCoupling(2, 2, new[] { 4 });
        Assert.Equal(Flow.AutomaticChunkElements / 4, narrow.ChunkRows);
        narrow.EvaluationChunkRows = 100;
        Assert.Equal(100, narrow.ChunkRows);
    }

    [Fact]
    public void Should_Reject_A_Negative_Chunk_Size()
    {
        using var flow = Flows.RealNvp(2, 2, new[] { 4 });
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => flow.EvaluationChunkRows = -1);
        Assert.Equal(nameof(Flow.EvaluationChunkRows), error.ParamName);
        Assert.Contains("-1", error.Message);
    }

    private static Flow PerturbedRealNvp()
    {
        var flow = Flows.RealNvp(2, 4, new[] { 16, 16 }, seed: 2);
        Perturb(flow);
        flow.eval();
        return flow;
    }

    /// <summary>Moves every weight away from the identity start, so that each layer does something.</summary>
    private static void Perturb(Flow flow)
    {
        var generator = new Generator(21);
        using var noGrad = torch.no_grad();
        foreach (var p in flow.parameters()) p.add_(torch.randn(p.shape, generator: generator).mul(0.2));
    }

    /// <summary>The identity, recording the rows of every batch it sees.</summary>
    private sealed class BatchRecorder : Bijector
    {
        private readonly List<long> rows = new();

        public BatchRecorder() : base(nameof(BatchRecorder), new long[] { 2 })
        {
        }

        public long[] TakeRows()
        {
            var seen = rows.ToArray();
            rows.Clear();
            return seen;
        }

        protected internal override (Tensor Output, Tensor LogAbsDet) ForwardCore(Tensor x, Tensor? context)
        {
            rows.Add(x.shape[0]);
            return (x.alias(), torch.zeros(x.shape[0], dtype: x.dtype));
        }

        protected internal override (Tensor Output, Tensor LogAbsDet) InverseCore(Tensor y, Tensor? context) => ForwardCore(y, context);
    }
}
