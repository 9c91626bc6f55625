using System;
using System.Linq;
using NormalizingFlows.Bijectors;
using NormalizingFlows.Distributions;
using NormalizingFlows.Kernels;
using TorchSharp;
using static TorchSharp.torch;

namespace NormalizingFlows.Tests.Kernels;

/// <summary>The base density as the last stage of a density chain: the standard normal's log-density row by row (every width
/// around a vector's lanes), its input passed through; a flow's fused log-density taken only where the bijector runs block by
/// block and the base is a standard normal on rows, and equal there to the operations' one.</summary>
public sealed class StandardNormalStageTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(7)]
    [InlineData(8)]
    [InlineData(9)]
    [InlineData(32)]
    public void Should_Give_The_Standard_Normal_Log_Density_Of_Every_Row(int features)
    {
        using var scope = torch.NewDisposeScope();
        using var generator = new Generator((ulong)features);
        var x = torch.randn(new long[] { 13, features }, dtype: ScalarType.Float64, generator: generator).mul(3.0);
        using var normal = new StandardNormal(features);
        normal.to(ScalarType.Float64);
        var expected = normal.LogProb(x).data<double>().ToArray();
        var description = (StandardNormalDescription)((IFusableDistribution)normal).DescribeForKernels()!;
        var stage = new StandardNormalStage<double>(description.Features, description.LogNormalizer);
        var input = x.contiguous().data<double>().ToArray();
        var output = new double[input.Length];
        var logDensity = new double[13];
        using var work = new RowStageWork<double>();
        stage.Run(input, output, logDensity, 13, work);
        Assert.Equal(input, output);
        for (int r = 0; r < 13; r++)
            Assert.True(Math.Abs(logDensity[r] - expected[r]) <= 1e-14 * Math.Abs(expected[r]), $"row {r}: {logDensity[r]:R} against {expected[r]:R}");
    }

    [Fact]
    public void Should_Score_A_Flow_Through_The_Base_Stage_Only_Where_Its_Chain_Runs_Block_By_Block()
    {
        // The kernels on for this test, so that it holds in a run with NFLOWS_FUSED=0 too.
        using var kernels = NormalizingFlows.Runtime.FusedKernels.Scoped(true);
        using var scope = torch.NewDisposeScope();
        using var generator = new Generator(5);
        using var flow = FlowCatalog.Get("real-nvp").Create(new PresetOptions(3, Layers: 4, Seed: 5));
        flow.to(ScalarType.Float64);
        using (torch.no_grad())
            foreach (var p in flow.parameters()) p.add_(torch.randn(p.shape, dtype: p.dtype, generator: generator).mul(0.1));
        flow.eval();
        var x = torch.randn(new long[] { 2500, 3 }, dtype: ScalarType.Float64, generator: generator);
        var description = ((IFusableDistribution)flow.Base).DescribeForKernels();
        using var noGrad = torch.no_grad();
        var plan = FusionPlanner.Plan(flow.Bijector, x);
        Assert.True(plan.BlockByBlock);
        var fused = FusedChain.TryLogProb(plan, x, description);
        Assert.NotNull(fused);
        Tensor reference;
        using (NormalizingFlows.Runtime.FusedKernels.Scoped(false)) reference = flow.LogProb(x);
        double difference = fused.sub(reference).abs().max().ToDouble();
        Assert.True(difference <= 1e-12 * Math.Max(1.0, reference.abs().max().ToDouble()), $"differ by {difference:E2}");
        Assert.Equal(fused.data<double>().ToArray(), flow.LogProb(x).data<double>().ToArray());

        // Not without a standard normal on rows, nor with gradients.
        Assert.Null(FusedChain.TryLogProb(plan, x, null));
        using var images = new StandardNormal(1, 2, 2);
        Assert.Null(((IFusableDistribution)images).DescribeForKernels());
        Assert.Null(FusedChain.TryLogProb(FusionPlanner.Plan(flow.Bijector, PlanKey.Cpu(ScalarType.Float64, gradients: true)), x, description));
    }
}
