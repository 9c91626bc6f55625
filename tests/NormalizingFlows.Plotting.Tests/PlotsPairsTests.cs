using System;
using System.Linq;
using NormalizingFlows.Plotting.Tests.Support;
using TorchSharp;

namespace NormalizingFlows.Plotting.Tests;

public sealed class PlotsPairsTests : IDisposable
{
    private readonly TempFolder folder = new();

    public void Dispose() => folder.Dispose();

    [Fact]
    public void Should_Draw_One_Panel_Per_Pair_Of_The_First_Columns_With_Their_Names()
    {
        using var data = torch.randn(300, 5, generator: new torch.Generator(1));
        using var learned = torch.randn(200, 5, generator: new torch.Generator(2));
        string[] names = { "age", "income", "visits", "cost", "score" };
        var panels = Plots.PairPanels(learned, data, names, 4);
        try
        {
            // Pairs of the first four columns: (0,1) (0,2) (0,3) (1,2) (1,3) (2,3).
            Assert.Equal(6, panels.Length);
            Assert.Equal(("age", "income"), (panels[0].Axes.Bottom.Label.Text, panels[0].Axes.Left.Label.Text));
            Assert.Equal(("visits", "cost"), (panels[5].Axes.Bottom.Label.Text, panels[5].Axes.Left.Label.Text));
            Assert.DoesNotContain(panels, p => p.Axes.Bottom.Label.Text == "score" || p.Axes.Left.Label.Text == "score");
        }
        finally
        {
            foreach (var panel in panels) panel.Dispose();
        }
        Picture.Load(Plots.Pairs(folder.File("pairs.png"), learned, data, names, width: 900)).AssertPlot(900, 600);
    }

    [Fact]
    public void Should_Throw_Naming_The_Argument_When_Inputs_Do_Not_Match()
    {
        using var data = torch.randn(30, 3);
        using var wide = torch.randn(30, 4);
        using var oneColumn = torch.randn(30, 1);
        Assert.Throws<ArgumentException>("learned", () => Plots.Pairs(folder.File("x.png"), wide, data));
        Assert.Throws<ArgumentException>("data", () => Plots.Pairs(folder.File("x.png"), oneColumn, oneColumn));
        Assert.Throws<ArgumentException>("names", () => Plots.Pairs(folder.File("x.png"), data, data, new[] { "a", "b" }));
        Assert.Throws<ArgumentOutOfRangeException>("maxColumns", () => Plots.Pairs(folder.File("x.png"), data, data, maxColumns: 1));
        Assert.False(System.IO.File.Exists(folder.File("x.png")));
    }
}
