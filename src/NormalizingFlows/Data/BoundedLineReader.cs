using System;
using System.IO;
using System.Text;

namespace NormalizingFlows.Data;

/// <summary>
/// Reads lines from text like <see cref="TextReader.ReadLine"/> (a line ends at <c>\n</c>, <c>\r</c> or <c>\r\n</c>), but
/// never holds more than a set number of characters of one line: a longer line is a <see cref="DataFormatException"/> at its
/// line number, found after reading at most that many characters of it (a file of one multi-gigabyte line is rejected
/// without reading it into memory).
/// </summary>
internal sealed class BoundedLineReader
{
    private readonly TextReader reader;
    private readonly string source;
    private readonly int maxLength;
    private readonly char[] buffer = new char[1 << 15];
    private readonly StringBuilder line = new();
    private int position;
    private int filled;

    /// <summary>Reads from <paramref name="reader"/> (not disposed); errors name <paramref name="source"/>.</summary>
    public BoundedLineReader(TextReader reader, string source, int maxLength)
    {
        this.reader = reader;
        this.source = source;
        this.maxLength = maxLength;
    }

    /// <summary>The next line without its end, or null at the end of the text.</summary>
    /// <param name="lineNumber">The 1-based number of the line being read, for the error message.</param>
    /// <exception cref="DataFormatException">The line is longer than the limit.</exception>
    public string? ReadLine(long lineNumber)
    {
        line.Clear();
        bool any = false;
        while (true)
        {
            if (position == filled)
            {
                filled = reader.Read(buffer, 0, buffer.Length);
                position = 0;
                if (filled == 0) return any ? line.ToString() : null;
            }
            any = true;
            int start = position;
            while (position < filled && buffer[position] is not ('\n' or '\r')) position++;
            if (line.Length + (position - start) > maxLength)
                throw new DataFormatException(source, lineNumber, 1,
                    $"the line is longer than {maxLength} characters (TabularReadOptions.MaxLineLength; nflows --max-line-bytes); is this a text data file?");
            line.Append(buffer, start, position - start);
            if (position == filled) continue;
            if (buffer[position++] == '\r')
            {
                if (position == filled)
                {
                    filled = reader.Read(buffer, 0, buffer.Length);
                    position = 0;
                }
                if (position < filled && buffer[position] == '\n') position++;
            }
            return line.ToString();
        }
    }
}
