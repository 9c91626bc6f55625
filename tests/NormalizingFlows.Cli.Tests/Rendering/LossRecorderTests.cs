using System;
using System.Collections.Generic;
using System.Linq;
using NormalizingFlows.Cli.Rendering;
using NormalizingFlows.Training;

namespace NormalizingFlows.Cli.Tests.Rendering;

/// <summary>The recorder keeps every step's loss for a run that fails unexpectedly, and shows only every interval-th report.</summary>
public sealed class LossRecorderTests
{
    [Fact]
    public void Should_Keep_Every_Loss_With_NaN_For_Skipped_Steps_And_Pass_On_Every_Interval_When_Steps_Are_Reported()
    {
        var shown = new List<int>();
        var recorder = new LossRecorder(new Sink(p => shown.Add(p.Iteration)), interval: 3);
        int skipped = 0;
        for (int i = 1; i <= 7; i++)
        {
            if (i == 5) skipped++;
            recorder.Report(new TrainingProgress(i, 10, 10.0 - i, skipped, TimeSpan.Zero));
        }
        recorder.Flush();

        Assert.Equal(new[] { 1, 2, 3, 4, 5, 6, 7 }, recorder.Losses.Select(l => l.Iteration).ToArray());
        Assert.True(double.IsNaN(recorder.Losses[4].Loss), "step 5 was skipped");
        Assert.Equal(9.0, recorder.Losses[0].Loss);
        Assert.Equal(new[] { 3, 6, 7 }, shown.ToArray());
    }

    private sealed class Sink(Action<TrainingProgress> report) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress value) => report(value);
    }
}
