using System.IO;
using NormalizingFlows.Data;
using TorchSharp;
using static TorchSharp.torch;

namespace NormalizingFlows.Cli.Tests.Commands;

/// <summary>Untrained residual flows (power-series log-dets, as the preset builds them) saved as model files, and data files,
/// for the commands' exact-or-estimate tests.</summary>
internal static class ResidualModels
{
    /// <summary>Saves a residual flow of <paramref name="features"/> features to <c>residual-{features}.nflow</c>.</summary>
    public static string Save(TempFolder folder, int features)
    {
        Directory.CreateDirectory(folder.Path);
        using var flow = Flows.ResidualFlow(features, layers: 3, hiddenFeatures: new[] { 16 }, seed: 2);
        flow.eval();
        string path = folder.Combine($"residual-{features}.nflow");
        flow.Save(path);
        return path;
    }

    /// <summary>Writes <paramref name="rows"/> copies of one random point (<c>repeated = true</c>) or random points.</summary>
    public static string WriteData(TempFolder folder, int features, int rows, bool repeated, long seed = 4)
    {
        Directory.CreateDirectory(folder.Path);
        using var scope = torch.NewDisposeScope();
        using var generator = new Generator((ulong)seed);
        var data = repeated
            ? torch.randn(new long[] { 1, features }, dtype: ScalarType.Float64, generator: generator).expand(rows, features).contiguous()
            : torch.randn(new long[] { rows, features }, dtype: ScalarType.Float64, generator: generator);
        var names = new string[features];
        for (int i = 0; i < features; i++) names[i] = "x" + i;
        string path = folder.Combine($"points-{features}-{rows}-{(repeated ? "repeated" : "random")}.csv");
        TabularFile.Write(path, data, names);
        return path;
    }
}
