using System;
using System.Linq;
using NormalizingFlows.Targets;

namespace NormalizingFlows.Tests.Targets;

public sealed class TargetCatalogTests
{
    private static readonly string[] Expected =
        { "uniform-normal", "banana", "two-moons", "rings", "eight-gaussians", "checkerboard", "pinwheel", "spirals", "circle-mixture", "two-modes" };

    [Fact]
    public void Should_List_Every_Target_In_Kebab_Case()
    {
        Assert.Equal(Expected, TargetCatalog.Names);
        Assert.All(TargetCatalog.All, e => Assert.Matches("^[a-z0-9]+(-[a-z0-9]+)*$", e.Name));
        Assert.All(TargetCatalog.All, e => Assert.False(string.IsNullOrWhiteSpace(e.Description)));
    }

    [Fact]
    public void Should_Create_Target_Whose_Name_Matches_Its_Entry()
    {
        foreach (var entry in TargetCatalog.All)
        {
            var target = entry.Create();
            Assert.Equal(entry.Name, target.Name);
            Assert.Equal(2, target.Features);
            Assert.Equal(entry.Name != "two-modes", target.IsNormalized);
        }
    }

    [Fact]
    public void Should_Find_Names_Ignoring_Case_And_Surrounding_Spaces()
    {
        Assert.IsType<TwoMoons>(TargetCatalog.Create(" Two-Moons "));
        Assert.Equal("banana", TargetCatalog.Get("BANANA").Name);
    }

    [Fact]
    public void Should_List_Known_Names_When_Name_Is_Unknown()
    {
        var error = Assert.Throws<ArgumentException>(() => TargetCatalog.Get("moons"));
        Assert.Equal("name", error.ParamName);
        Assert.Contains("Unknown target 'moons'", error.Message);
        Assert.Contains(string.Join(", ", Expected), error.Message);
        Assert.Throws<ArgumentNullException>(() => TargetCatalog.Get(null!));
    }
}
