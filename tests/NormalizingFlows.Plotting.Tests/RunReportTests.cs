using System;
using System.IO;
using System.Linq;
using System.Text.RegularExpressions;
using NormalizingFlows.Plotting.Tests.Support;

namespace NormalizingFlows.Plotting.Tests;

public sealed class RunReportTests : IDisposable
{
    private readonly TempFolder folder = new();

    public RunReportTests()
    {
        Directory.CreateDirectory(folder.File("figures"));
        Plots.TrainingCurve(folder.File("figures/loss curve.png"), new[] { 3.0, 2.5, 2.2, 2.1 }, width: 300, height: 200);
        Plots.TrainingCurve(folder.File("other.png"), new[] { 1.0, 0.5 }, width: 200, height: 150);
    }

    public void Dispose() => folder.Dispose();

    private RunReport Report() => new RunReport("banana <RealNVP> & co")
        .WithCommand("nflows demo banana --note \"<script>alert('x')</script>\" && echo done")
        .AddConfiguration("layers", 8)
        .AddConfiguration("learning rate", 1e-3)
        .AddMetric("KL(p||q) [nats]", 0.0123456789)
        .AddMetric("status", "<ok>")
        .AddImage(folder.File("figures/loss curve.png"), "loss & <curve>")
        .AddImage(folder.File("other.png"), "other");

    [Fact]
    public void Should_Embed_Every_Image_As_A_Data_Uri_By_Default()
    {
        string path = Report().Write(folder.File("report.html"));
        string html = File.ReadAllText(path);
        var sources = Regex.Matches(html, "<img src=\"([^\"]*)\"").Select(m => m.Groups[1].Value).ToArray();
        Assert.Equal(2, sources.Length);
        Assert.All(sources, s => Assert.StartsWith("data:image/png;base64,", s));
        // The embedded bytes are the image file's bytes.
        var embedded = Convert.FromBase64String(sources[1]["data:image/png;base64,".Length..]);
        Assert.Equal(File.ReadAllBytes(folder.File("other.png")), embedded);
    }

    [Fact]
    public void Should_Reference_Only_Files_That_Exist_Relative_To_The_Page_When_Not_Embedding()
    {
        Directory.CreateDirectory(folder.File("pages"));
        string path = Report().Write(folder.File("pages/report.html"), embedImages: false);
        string html = File.ReadAllText(path);
        var sources = Regex.Matches(html, "<img src=\"([^\"]*)\"").Select(m => m.Groups[1].Value).ToArray();
        Assert.Equal(new[] { "../figures/loss%20curve.png", "../other.png" }, sources);
        Assert.All(sources, s => Assert.True(File.Exists(Path.Combine(folder.File("pages"), Uri.UnescapeDataString(s))), $"{s} does not exist."));
    }

    [Fact]
    public void Should_Html_Encode_The_Command_Title_Tables_And_Captions()
    {
        string html = Report().ToHtml(folder.Path);
        Assert.Contains("nflows demo banana --note &quot;&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&quot; &amp;&amp; echo done", html);
        Assert.DoesNotContain("<script>", html);
        Assert.Contains("<h1>banana &lt;RealNVP&gt; &amp; co</h1>", html);
        Assert.Contains("&lt;ok&gt;", html);
        Assert.Contains("<figcaption>loss &amp; &lt;curve&gt;</figcaption>", html);
        Assert.Contains("<td class=\"value\">0.0123457</td>", html);
        Assert.Contains("<td class=\"value\">0.001</td>", html);
    }

    [Fact]
    public void Should_Fail_Naming_The_Image_And_Write_Nothing_When_An_Image_Is_Missing()
    {
        var report = Report().AddImage(folder.File("missing.png"), "the missing one");
        var error = Assert.Throws<FileNotFoundException>(() => report.Write(folder.File("broken.html")));
        Assert.Contains("missing.png", error.Message);
        Assert.Contains("the missing one", error.Message);
        Assert.False(File.Exists(folder.File("broken.html")));
    }

    [Fact]
    public void Should_Throw_Naming_The_Argument_When_Inputs_Are_Wrong()
    {
        Assert.Throws<ArgumentException>("path", () => new RunReport("t").AddImage(folder.File("table.csv"), "no image"));
        Assert.Throws<ArgumentException>("path", () => new RunReport("t").AddImage(" ", "empty"));
        Assert.Throws<ArgumentException>("title", () => new RunReport(""));
        Assert.Throws<ArgumentException>("key", () => new RunReport("t").AddMetric("", 1));
    }
}
