using System;
using System.Security.Cryptography;

namespace NormalizingFlows.Benchmarks;

/// <summary>
/// The synthetic data set of the zuko comparison, bit for bit what ../zuko/zuko_bench.py generates: a counter-based splitmix64
/// stream per part (training rows, test rows), normals as the sum of 12 uniforms minus 6 (additions only, so no libm can differ
/// between .NET and numpy), features in pairs <c>(a, b) -> (a, (a^2 - 1)/2 + b/2)</c> (a banana per pair; an odd last feature
/// stays Gaussian), rounded to float32.
/// </summary>
internal static class ZukoData
{
    private const ulong Golden = 0x9E3779B97F4A7C15UL;

    /// <summary><c>[rows, features]</c> row-major float32; <paramref name="part"/> 0 = training rows, 1 = test rows.</summary>
    public static float[] Generate(int rows, int features, long dataSeed, int part)
    {
        ulong stream = unchecked((ulong)(dataSeed * 2 + part + 1) * 0xD1B54A32D192ED03UL);
        var normals = new double[checked(rows * features)];
        for (long cell = 0; cell < normals.Length; cell++)
        {
            double sum = 0.0;
            for (int j = 0; j < 12; j++)
                sum += Uniform(stream, (ulong)cell * 12 + (ulong)j);
            normals[cell] = sum - 6.0;
        }
        var data = new float[normals.Length];
        for (int r = 0; r < rows; r++)
        {
            int row = r * features;
            for (int c = 0; c < features; c++)
                data[row + c] = (float)normals[row + c];
            for (int k = 0; k < features / 2; k++)
            {
                double a = normals[row + 2 * k], b = normals[row + 2 * k + 1];
                data[row + 2 * k + 1] = (float)(0.5 * (a * a - 1.0) + 0.5 * b);
            }
        }
        return data;
    }

    /// <summary>The first 16 hex digits of the SHA-256 of the float32 bytes of the training rows followed by the test rows
    /// (zuko_bench.py prints the same digest).</summary>
    public static string Digest(float[] train, float[] test)
    {
        var bytes = new byte[(train.Length + test.Length) * sizeof(float)];
        Buffer.BlockCopy(train, 0, bytes, 0, train.Length * sizeof(float));
        Buffer.BlockCopy(test, 0, bytes, train.Length * sizeof(float), test.Length * sizeof(float));
        return Convert.ToHexStringLower(SHA256.HashData(bytes))[..16];
    }

    private static double Uniform(ulong stream, ulong index)
    {
        unchecked
        {
            ulong z = stream + (index + 1) * Golden;
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
            z ^= z >> 31;
            return (z >> 11) * (1.0 / 9007199254740992.0);
        }
    }
}
