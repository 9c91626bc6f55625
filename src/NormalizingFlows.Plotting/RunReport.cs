using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Net;
using System.Text;
using NormalizingFlows.Plotting.Internal;

namespace NormalizingFlows.Plotting;

/// <summary>
/// Builds one HTML page per run: a title, the exact command that reproduces the run, a configuration table, a metrics
/// table and the run's images, each with a short caption. By default the images are embedded as base64 data URIs, so the
/// page is one self-contained file that can be mailed or archived; they can be referenced relative to the page instead.
/// All text is HTML-encoded.
/// </summary>
/// <example>
/// <code>
/// new RunReport("banana, RealNVP")
///     .WithCommand("nflows demo banana --iterations 2000")
///     .AddConfiguration("layers", 8)
///     .AddMetric("KL(p||q) [nats]", 0.012)
///     .AddImage(densitiesPng, "target, learned density and their difference")
///     .Write("runs/banana/report.html");
/// </code>
/// </example>
public sealed class RunReport
{
    private static readonly Dictionary<string, string> MediaTypes = new(StringComparer.OrdinalIgnoreCase)
    {
        [".png"] = "image/png",
        [".apng"] = "image/apng",
        [".gif"] = "image/gif",
        [".jpg"] = "image/jpeg",
        [".jpeg"] = "image/jpeg",
        [".webp"] = "image/webp",
        [".svg"] = "image/svg+xml",
    };

    private readonly List<(string Key, string Value)> configuration = new();
    private readonly List<(string Key, string Value)> metrics = new();
    private readonly List<(string Path, string Caption)> images = new();

    /// <summary>Starts a report.</summary>
    /// <param name="title">The page's title and heading.</param>
    /// <exception cref="ArgumentException">The title is empty.</exception>
    public RunReport(string title)
    {
        ArgumentNullException.ThrowIfNull(title);
        if (string.IsNullOrWhiteSpace(title)) throw new ArgumentException("Expected a title; got an empty string.", nameof(title));
        Title = title;
    }

    /// <summary>The page's title and heading.</summary>
    public string Title { get; }

    /// <summary>The command that reproduces the run (null until set).</summary>
    public string? Command { get; private set; }

    /// <summary>Configuration entries in the order added.</summary>
    public IReadOnlyList<(string Key, string Value)> Configuration => configuration.ToArray();

    /// <summary>Metric entries in the order added.</summary>
    public IReadOnlyList<(string Key, string Value)> Metrics => metrics.ToArray();

    /// <summary>Images (path as given and caption) in the order added.</summary>
    public IReadOnlyList<(string Path, string Caption)> Images => images.ToArray();

    /// <summary>Sets the command that reproduces the run, shown verbatim.</summary>
    /// <param name="command">The command line.</param>
    /// <returns>This report.</returns>
    public RunReport WithCommand(string command)
    {
        ArgumentNullException.ThrowIfNull(command);
        Command = command;
        return this;
    }

    /// <summary>Adds a configuration entry; numbers are written with the invariant culture.</summary>
    /// <param name="key">The setting's name.</param>
    /// <param name="value">Its value; null is written as an empty cell.</param>
    /// <returns>This report.</returns>
    public RunReport AddConfiguration(string key, object? value)
    {
        configuration.Add((CheckKey(key), Format(value)));
        return this;
    }

    /// <summary>Adds a metric; numbers are written with the invariant culture (doubles to six significant digits).</summary>
    /// <param name="key">The metric's name (with its unit).</param>
    /// <param name="value">Its value; null is written as an empty cell.</param>
    /// <returns>This report.</returns>
    public RunReport AddMetric(string key, object? value)
    {
        metrics.Add((CheckKey(key), Format(value)));
        return this;
    }

    /// <summary>Adds an image file with a caption. The file must exist when the report is written.</summary>
    /// <param name="path">The image file: .png (also animated), .apng, .gif, .jpg, .jpeg, .webp or .svg.</param>
    /// <param name="caption">A short caption under the image.</param>
    /// <returns>This report.</returns>
    /// <exception cref="ArgumentException">The path is empty or has another extension.</exception>
    public RunReport AddImage(string path, string caption)
    {
        Figure.CheckPath(path, nameof(path));
        ArgumentNullException.ThrowIfNull(caption);
        string extension = System.IO.Path.GetExtension(path);
        if (!MediaTypes.ContainsKey(extension))
            throw new ArgumentException(
                $"Expected an image path ending in {string.Join(", ", MediaTypes.Keys)}; got '{path}'.", nameof(path));
        images.Add((path, caption));
        return this;
    }

    /// <summary>
    /// Writes the page to <paramref name="path"/> (creating its folder) and returns its full path. Every image file must
    /// exist; nothing is written otherwise.
    /// </summary>
    /// <param name="path">The HTML file to write.</param>
    /// <param name="embedImages">True (the default) to embed the images as data URIs (one self-contained file); false to
    /// reference them by paths relative to the page's folder.</param>
    /// <returns>The full path of the written file.</returns>
    /// <exception cref="FileNotFoundException">An image file does not exist (the message names it and its caption).</exception>
    public string Write(string path, bool embedImages = true)
    {
        Figure.CheckPath(path, nameof(path));
        string full = System.IO.Path.GetFullPath(path);
        string html = ToHtml(System.IO.Path.GetDirectoryName(full) ?? ".", embedImages);
        return Figure.Write(full, Encoding.UTF8.GetBytes(html));
    }

    /// <summary>The page's HTML, with image references relative to <paramref name="pageFolder"/> when not embedded.</summary>
    /// <param name="pageFolder">The folder the page will be in.</param>
    /// <param name="embedImages">Whether to embed the images as data URIs.</param>
    /// <exception cref="FileNotFoundException">An image file does not exist.</exception>
    public string ToHtml(string pageFolder, bool embedImages = true)
    {
        ArgumentNullException.ThrowIfNull(pageFolder);
        foreach (var (imagePath, caption) in images)
        {
            string imageFull = System.IO.Path.GetFullPath(imagePath);
            if (!File.Exists(imageFull))
                throw new FileNotFoundException($"The report image \"{caption}\" refers to '{imageFull}', which does not exist.", imageFull);
        }

        var html = new StringBuilder();
        html.Append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n")
            .Append("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n")
            .Append("<title>").Append(Encode(Title)).Append("</title>\n")
            .Append("<style>\n")
            .Append("body{font-family:system-ui,-apple-system,'Segoe UI','DejaVu Sans',sans-serif;margin:2rem auto;max-width:1600px;padding:0 1rem;color:#222}\n")
            .Append("pre{background:#f4f4f4;border:1px solid #ddd;padding:.75rem;overflow-x:auto;white-space:pre-wrap}\n")
            .Append("table{border-collapse:collapse;margin-bottom:1.5rem}th,td{border:1px solid #ccc;padding:.3rem .7rem;text-align:left;vertical-align:top}\n")
            .Append("th{background:#f0f0f0}td.value{font-family:ui-monospace,'DejaVu Sans Mono',monospace}\n")
            .Append("figure{margin:0 0 2rem 0}img{max-width:100%;height:auto;border:1px solid #eee}figcaption{color:#555;margin-top:.3rem}\n")
            .Append("</style>\n</head>\n<body>\n");
        html.Append("<h1>").Append(Encode(Title)).Append("</h1>\n");
        if (Command is not null)
        {
            html.Append("<h2>Command</h2>\n<p>Reproduces this run:</p>\n<pre><code>").Append(Encode(Command)).Append("</code></pre>\n");
        }
        AppendTable(html, "Configuration", "setting", configuration);
        AppendTable(html, "Metrics", "metric", metrics);
        if (images.Count > 0)
        {
            html.Append("<h2>Figures</h2>\n");
            foreach (var (imagePath, caption) in images)
            {
                string source = embedImages ? DataUri(imagePath) : RelativeUri(pageFolder, imagePath);
                html.Append("<figure>\n<img src=\"").Append(Encode(source)).Append("\" alt=\"").Append(Encode(caption)).Append("\">\n")
                    .Append("<figcaption>").Append(Encode(caption)).Append("</figcaption>\n</figure>\n");
            }
        }
        html.Append("</body>\n</html>\n");
        return html.ToString();
    }

    private static void AppendTable(StringBuilder html, string heading, string keyHeader, List<(string Key, string Value)> rows)
    {
        if (rows.Count == 0) return;
        html.Append("<h2>").Append(heading).Append("</h2>\n<table>\n<thead><tr><th>").Append(keyHeader).Append("</th><th>value</th></tr></thead>\n<tbody>\n");
        foreach (var (key, value) in rows)
            html.Append("<tr><th scope=\"row\">").Append(Encode(key)).Append("</th><td class=\"value\">").Append(Encode(value)).Append("</td></tr>\n");
        html.Append("</tbody>\n</table>\n");
    }

    private static string DataUri(string imagePath)
    {
        string full = System.IO.Path.GetFullPath(imagePath);
        string type = MediaTypes[System.IO.Path.GetExtension(full)];
        return $"data:{type};base64,{Convert.ToBase64String(File.ReadAllBytes(full))}";
    }

    private static string RelativeUri(string pageFolder, string imagePath)
    {
        string relative = System.IO.Path.GetRelativePath(System.IO.Path.GetFullPath(pageFolder), System.IO.Path.GetFullPath(imagePath));
        if (System.IO.Path.IsPathRooted(relative)) return new Uri(relative).AbsoluteUri;
        return string.Join("/", relative.Split(System.IO.Path.DirectorySeparatorChar, System.IO.Path.AltDirectorySeparatorChar)
            .Select(segment => segment == ".." ? segment : Uri.EscapeDataString(segment)));
    }

    private static string Encode(string text) => WebUtility.HtmlEncode(text);

    private static string CheckKey(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        if (string.IsNullOrWhiteSpace(key)) throw new ArgumentException("Expected a key; got an empty string.", nameof(key));
        return key;
    }

    private static string Format(object? value) => value switch
    {
        null => "",
        double d => d.ToString("G6", CultureInfo.InvariantCulture),
        float f => f.ToString("G6", CultureInfo.InvariantCulture),
        IFormattable formattable => formattable.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? "",
    };
}
