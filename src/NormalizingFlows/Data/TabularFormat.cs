namespace NormalizingFlows.Data;

/// <summary>How the fields of a text data file are separated.</summary>
public enum TabularFormat
{
    /// <summary>From the name: <c>.csv</c> (or <c>.csv.gz</c>) is CSV; otherwise CSV when the first line that is not blank or
    /// a comment holds a comma, whitespace-separated when it does not.</summary>
    Auto,

    /// <summary>Comma-separated values; a field may be quoted with <c>"</c> (a doubled <c>""</c> inside is one quote).
    /// Spaces around a field are ignored.</summary>
    Csv,

    /// <summary>Fields separated by any run of spaces and tabs; leading and trailing whitespace is ignored.</summary>
    Whitespace,
}
