using System;
using System.Linq;
using NormalizingFlows.Bijectors;

namespace NormalizingFlows.Tests.Bijectors;

/// <summary>Coupling masks: halves, alternating, checkerboard and arbitrary arrays.</summary>
public sealed class MasksTests
{
    private static string Show(bool[] mask) => string.Concat(mask.Select(m => m ? '1' : '0'));

    [Fact]
    public void Should_Alternate_Along_Rows_And_Columns_When_Checkerboard()
    {
        // 3 x 4 image, row by row.
        Assert.Equal("1010" + "0101" + "1010", Show(Masks.Checkerboard(3, 4, parity: 0)));
        Assert.Equal("0101" + "1010" + "0101", Show(Masks.Checkerboard(3, 4, parity: 1)));
        // Odd width: the pattern still alternates between neighbouring rows.
        Assert.Equal("101" + "010", Show(Masks.Checkerboard(2, 3, parity: 0)));
    }

    [Fact]
    public void Should_Repeat_The_Checkerboard_In_Every_Channel()
    {
        var mask = Masks.Checkerboard(2, 2, parity: 1, channels: 3);
        Assert.Equal(string.Concat(Enumerable.Repeat("0110", 3)), Show(mask));
    }

    [Fact]
    public void Should_Make_Complementary_Checkerboards_For_The_Two_Parities()
    {
        var even = Masks.Checkerboard(5, 5, 0);
        var odd = Masks.Checkerboard(5, 5, 1);
        Assert.All(Enumerable.Range(0, 25), i => Assert.NotEqual(even[i], odd[i]));
    }

    [Fact]
    public void Should_Reject_Bad_Checkerboard_Arguments()
    {
        Assert.Equal("height", Assert.Throws<ArgumentOutOfRangeException>(() => Masks.Checkerboard(0, 4, 0)).ParamName);
        Assert.Equal("width", Assert.Throws<ArgumentOutOfRangeException>(() => Masks.Checkerboard(4, 0, 0)).ParamName);
        Assert.Equal("width", Assert.Throws<ArgumentOutOfRangeException>(() => Masks.Checkerboard(1, 1, 0)).ParamName);
        Assert.Equal("parity", Assert.Throws<ArgumentOutOfRangeException>(() => Masks.Checkerboard(2, 2, 2)).ParamName);
        Assert.Equal("channels", Assert.Throws<ArgumentOutOfRangeException>(() => Masks.Checkerboard(2, 2, 0, channels: 0)).ParamName);
    }

    [Fact]
    public void Should_Keep_Halves_Alternating_And_Arbitrary_Masks_Working()
    {
        Assert.Equal("0011", Show(Masks.Halves(4)));
        Assert.Equal("100", Show(Masks.Halves(3, second: false)));
        Assert.Equal("01010", Show(Masks.Alternating(5, 1)));
        Assert.Equal("10101", Show(Masks.Alternating(5, 0)));
        using var coupling = Coupling.WithMlp(new[] { false, true, true, false, true }, new[] { 8 });
        Assert.Equal("01101", Show(coupling.Mask.ToArray()));
    }
}
