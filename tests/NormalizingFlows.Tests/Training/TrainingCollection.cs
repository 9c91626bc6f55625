namespace NormalizingFlows.Tests.Training;

/// <summary>Training tests run one at a time so that they do not compete for the two cores.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class TrainingCollection
{
    public const string Name = "Training";
}
