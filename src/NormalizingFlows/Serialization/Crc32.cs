using System;

namespace NormalizingFlows.Serialization;

/// <summary>The CRC-32 of zip archives (IEEE 802.3 polynomial, reflected), to check each entry against the checksum stored
/// with it, whatever the runtime's own zip reader verifies, and gzip content against its trailer.</summary>
internal static class Crc32
{
    private static readonly uint[] Table = CreateTable();

    /// <summary>The CRC-32 of <paramref name="data"/>.</summary>
    public static uint Compute(ReadOnlySpan<byte> data)
    {
        uint crc = 0xFFFFFFFFu;
        foreach (byte b in data) crc = Table[(crc ^ b) & 0xFF] ^ (crc >> 8);
        return ~crc;
    }

    /// <summary>The CRC-32 of <c>a || data</c> from the CRC-32 of <c>a</c> (0 for nothing before).</summary>
    public static uint Append(uint crc, ReadOnlySpan<byte> data)
    {
        crc = ~crc;
        foreach (byte b in data) crc = Table[(crc ^ b) & 0xFF] ^ (crc >> 8);
        return ~crc;
    }

    /// <summary>The CRC-32 of <c>b</c> from the CRC-32 of <c>a || b</c>, the CRC-32 of <c>a</c> and the length of <c>b</c>
    /// (zlib's <c>crc32_combine</c>, solved for the second part: the combination is linear in it).</summary>
    public static uint Suffix(uint whole, uint prefix, long suffixLength) => whole ^ Combine(prefix, 0, suffixLength);

    /// <summary>zlib's <c>crc32_combine</c>: the CRC-32 of <c>a || b</c> from those of <c>a</c> and <c>b</c> and the length
    /// of <c>b</c>, by squaring the operator that appends zero bits.</summary>
    private static uint Combine(uint crc1, uint crc2, long length2)
    {
        if (length2 <= 0) return crc1 ^ crc2;
        var even = new uint[32];
        var odd = new uint[32];
        odd[0] = 0xEDB88320u;
        uint row = 1;
        for (int n = 1; n < 32; n++)
        {
            odd[n] = row;
            row <<= 1;
        }
        Square(even, odd);
        Square(odd, even);
        do
        {
            Square(even, odd);
            if ((length2 & 1) != 0) crc1 = Times(even, crc1);
            length2 >>= 1;
            if (length2 == 0) break;
            Square(odd, even);
            if ((length2 & 1) != 0) crc1 = Times(odd, crc1);
            length2 >>= 1;
        }
        while (length2 != 0);
        return crc1 ^ crc2;
    }

    private static uint Times(uint[] matrix, uint vector)
    {
        uint sum = 0;
        for (int i = 0; vector != 0; i++, vector >>= 1)
            if ((vector & 1) != 0) sum ^= matrix[i];
        return sum;
    }

    private static void Square(uint[] square, uint[] matrix)
    {
        for (int n = 0; n < 32; n++) square[n] = Times(matrix, matrix[n]);
    }

    private static uint[] CreateTable()
    {
        var table = new uint[256];
        for (uint n = 0; n < 256; n++)
        {
            uint c = n;
            for (int k = 0; k < 8; k++) c = (c & 1) != 0 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
            table[n] = c;
        }
        return table;
    }
}
