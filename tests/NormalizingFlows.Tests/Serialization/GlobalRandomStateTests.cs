using NormalizingFlows.Bijectors;
using NormalizingFlows.Conditioners;
using NormalizingFlows.Distributions;
using NormalizingFlows.Serialization;
using TorchSharp;
using static TorchSharp.torch;

namespace NormalizingFlows.Tests.Serialization;

/// <summary>Tests that read TorchSharp's global generator run alone, so that no other test draws from it meanwhile.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class GlobalRandomStateCollection
{
    public const string Name = "Global random state";
}

/// <summary>Loading a model leaves TorchSharp's global random generator where it was.</summary>
[Collection(GlobalRandomStateCollection.Name)]
public sealed class GlobalRandomStateTests
{
    [Fact]
    public void Should_Not_Change_The_Global_Generator_When_Loading_A_Model()
    {
        using var scope = torch.NewDisposeScope();
        using var directory = new TemporaryDirectory();
        using var generator = new Generator(4);
        // Parts whose constructors draw random initial values: MLPs (nn.Linear draws from the global generator), MADE,
        // a mixture with random means, planar layers, a residual block, an invertible 1x1 convolution.
        using (var flow = new Flow(new GaussianMixture(3, 4, generator: generator), new Chain(
                   Coupling.WithMlp(Masks.Halves(4), new[] { 8 }, generator: generator),
                   MaskedAutoregressive.WithMade(4, new[] { 8 }, generator: generator),
                   new Planar(4, generator),
                   new ResidualBlock(4, new[] { 8 }, generator: generator))))
        {
            flow.Save(directory.File("model.nflow"));
        }
        using (var image = new InvertibleConv1x1(2, 2, 1, generator: generator))
            ModelFile.Save(image, directory.File("image.nflow"));

        var state = torch.random.get_rng_state();
        var expected = torch.rand(16);
        torch.random.set_rng_state(state);
        using (var loaded = Flow.Load(directory.File("model.nflow")))
        using (var image = ModelFile.LoadModule<Bijector>(directory.File("image.nflow")))
        {
        }
        var actual = torch.rand(16);

        Assert.True(expected.eq(actual).all().item<bool>(), "Loading a model drew from TorchSharp's global random generator.");
    }
}
