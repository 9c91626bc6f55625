using System;
using NormalizingFlows.Training;

namespace NormalizingFlows.Tests.Training;

/// <summary>Learning-rate schedules, warm-up and option validation.</summary>
public sealed class FitOptionsTests
{
    [Fact]
    public void Should_Ramp_Linearly_During_Warmup_Then_Follow_The_Schedule()
    {
        var options = new FitOptions { LearningRate = 1e-2, WarmupIterations = 4, Schedule = LearningRateSchedule.Step(every: 3, gamma: 0.5) };
        double[] expected = { 2.5e-3, 5e-3, 7.5e-3, 1e-2, 1e-2, 1e-2, 1e-2, 5e-3, 5e-3, 5e-3, 2.5e-3 };
        for (int i = 0; i < expected.Length; i++)
            Assert.Equal(expected[i], options.LearningRateAt(i, 100), 15);
    }

    [Fact]
    public void Should_Anneal_From_Full_To_Final_Rate_When_Cosine()
    {
        var schedule = LearningRateSchedule.Cosine(finalFactor: 0.1);
        Assert.Equal(1.0, schedule.Factor(0, 101), 15);
        Assert.Equal(0.55, schedule.Factor(50, 101), 12);
        Assert.Equal(0.1, schedule.Factor(100, 101), 15);
        Assert.True(schedule.Factor(30, 101) > schedule.Factor(31, 101));
    }

    [Fact]
    public void Should_Describe_Each_Schedule_In_Words_When_Reported()
    {
        Assert.Equal("constant", LearningRateSchedule.Constant.ToString());
        Assert.Equal("cosine to 1 % of the rate", LearningRateSchedule.Cosine(0.01).ToString());
        Assert.Equal("x 0.5 every 3 steps", LearningRateSchedule.Step(3, 0.5).ToString());
    }

    [Fact]
    public void Should_Keep_The_Rate_When_Constant()
    {
        var options = new FitOptions { LearningRate = 3e-4 };
        Assert.Equal(3e-4, options.LearningRateAt(0, 10));
        Assert.Equal(3e-4, options.LearningRateAt(9, 10));
    }

    [Theory]
    [InlineData(0, 0.5)]
    [InlineData(3, 0.0)]
    [InlineData(3, 1.5)]
    public void Should_Reject_Bad_Step_Schedules(int every, double gamma)
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => LearningRateSchedule.Step(every, gamma));
        Assert.Contains(every <= 0 ? "every" : "gamma", error.ParamName);
    }

    [Fact]
    public void Should_Name_The_Option_When_Invalid()
    {
        Assert.Equal("ValidationFraction", Assert.Throws<ArgumentOutOfRangeException>(() => new FitOptions { ValidationFraction = 1.0 }.Validate()).ParamName);
        Assert.Equal("ClipGradientNorm", Assert.Throws<ArgumentOutOfRangeException>(() => new FitOptions { ClipGradientNorm = 0 }.Validate()).ParamName);
        Assert.Equal("Patience", Assert.Throws<ArgumentOutOfRangeException>(() => new FitOptions { Patience = 0 }.Validate()).ParamName);
        Assert.Equal("Epochs", Assert.Throws<ArgumentOutOfRangeException>(() => new FitOptions { Epochs = 0 }.Validate()).ParamName);
        Assert.Equal("MaxConsecutiveSkippedSteps", Assert.Throws<ArgumentOutOfRangeException>(() => new FitOptions { MaxConsecutiveSkippedSteps = 0 }.Validate()).ParamName);
        Assert.Equal("InitialBeta", Assert.Throws<ArgumentOutOfRangeException>(() => new VariationalOptions { InitialBeta = 0 }.Validate()).ParamName);
    }
}
