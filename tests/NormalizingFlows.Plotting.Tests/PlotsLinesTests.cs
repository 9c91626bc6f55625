using System;
using NormalizingFlows.Plotting.Tests.Support;

namespace NormalizingFlows.Plotting.Tests;

public sealed class PlotsLinesTests : IDisposable
{
    private readonly TempFolder folder = new();

    public void Dispose() => folder.Dispose();

    private static LinePanel Panel(string title, bool log) => new(title, "batch", "seconds", new[]
    {
        new LineSeries("real-nvp", new double[] { 512, 2048, 8192 }, new[] { 0.01, 0.03, 0.11 }),
        new LineSeries("nsf", new double[] { 512, 2048, 8192 }, new[] { 0.02, 0.05, 0.2 }),
    }, LogX: log, LogY: log);

    [Fact]
    public void Should_Write_Panels_Side_By_Side_At_The_Requested_Size()
    {
        var picture = Picture.Load(Plots.Lines(folder.File("lines.png"), new[] { Panel("log", true), Panel("linear", false) }, 1000, 400));
        picture.AssertPlot(1000, 400);
    }

    [Fact]
    public void Should_Name_The_Panel_And_Line_When_Input_Is_Wrong()
    {
        var uneven = new LinePanel("p", "x", "y", new[] { new LineSeries("a", new double[] { 1, 2 }, new double[] { 1 }) });
        Assert.Contains("Line 'a' of panel 'p'", Assert.Throws<ArgumentException>(() => Plots.Lines(folder.File("x.png"), new[] { uneven })).Message);
        var zero = new LinePanel("q", "x", "y", new[] { new LineSeries("b", new double[] { 0, 2 }, new double[] { 1, 2 }) }, LogX: true);
        Assert.Contains("logarithmic", Assert.Throws<ArgumentException>(() => Plots.Lines(folder.File("y.png"), new[] { zero })).Message);
        Assert.Equal("panels", Assert.Throws<ArgumentException>(() => Plots.Lines(folder.File("z.png"), Array.Empty<LinePanel>())).ParamName);
    }
}
