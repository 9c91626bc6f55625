namespace NormalizingFlows.Cli.Tests.Commands;

/// <summary>Tests that train run one at a time so that they do not compete for the two cores.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class TrainingCollection
{
    public const string Name = "CLI training";
}
