using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using NormalizingFlows.Images;
using TorchSharp;
using static TorchSharp.torch;

namespace NormalizingFlows.Cli.Inference;

/// <summary>
/// Training rows cut from photographs: grey patches of <c>size x size</c> pixels at seeded random positions, spread evenly over
/// the images of a folder (or one image), uniformly dequantised (<c>(level + u) / 256</c>, u ~ U[0, 1)) and flattened to rows of
/// <c>size * size</c> columns named <c>p&lt;row&gt;_&lt;column&gt;</c>.
/// </summary>
internal static class ImagePatchInput
{
    private static readonly string[] Extensions = { ".png", ".jpg", ".jpeg" };

    /// <summary>The PNG and JPEG files of <paramref name="path"/> (a folder, sorted by name) or <paramref name="path"/> itself.</summary>
    public static IReadOnlyList<string> Files(string path)
    {
        if (File.Exists(path)) return new[] { path };
        if (!Directory.Exists(path)) throw new FileNotFoundException($"No image file or folder at {path}.", path);
        var files = Directory.GetFiles(path).Where(f => Extensions.Contains(Path.GetExtension(f).ToLowerInvariant())).Order(StringComparer.Ordinal).ToArray();
        if (files.Length == 0) throw new FileNotFoundException($"The folder {path} holds no .png, .jpg or .jpeg file.", path);
        return files;
    }

    /// <summary>Reads the images and returns <paramref name="count"/> patch rows <c>[count, size * size]</c> in <paramref name="dtype"/>.</summary>
    public static (Tensor Rows, IReadOnlyList<string> Columns) Read(string path, int size, int count, long seed, ScalarType dtype)
    {
        var files = Files(path);
        using var scope = torch.NewDisposeScope();
        using var generator = new Generator((ulong)seed);
        var parts = new List<Tensor>();
        for (int i = 0; i < files.Count; i++)
        {
            int share = count / files.Count + (i < count % files.Count ? 1 : 0);
            if (share == 0) continue;
            var image = ImageFile.Read(files[i]);
            parts.Add(Patches.Extract(image, size, share, generator));
        }
        var levels = torch.cat(parts.ToArray(), 0);
        var rows = Dequantization.Uniform(levels.to(ScalarType.Int64), 256, generator).reshape(count, size * size).to(dtype);
        var names = Enumerable.Range(0, size * size).Select(k => $"p{k / size}_{k % size}").ToArray();
        return (scope.MoveToOuter(rows), names);
    }
}
