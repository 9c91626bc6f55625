using System.Collections.Generic;
using Spectre.Console;

namespace NormalizingFlows.Cli.Rendering;

/// <summary>A two-column summary table (name, value), as printed after every command that computes something.</summary>
internal static class KeyValueTable
{
    /// <summary>Writes <paramref name="rows"/> to <paramref name="console"/>.</summary>
    public static void Write(IAnsiConsole console, IEnumerable<(string Name, string Value)> rows)
    {
        var table = new Table().Border(TableBorder.Rounded).AddColumn("metric").AddColumn(new TableColumn("value").RightAligned());
        foreach (var (name, value) in rows) table.AddRow(Markup.Escape(name), Markup.Escape(value));
        console.Write(table);
    }
}
