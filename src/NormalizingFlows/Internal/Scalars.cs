using System.Collections.Concurrent;
using TorchSharp;

namespace NormalizingFlows.Internal;

/// <summary>
/// Scalars that live as long as the process, for the numbers the library hands libtorch.
/// </summary>
/// <remarks>
/// TorchSharp 0.107 turns a bare number into a finalizable <see cref="Scalar"/> and passes only its handle to
/// libtorch; a garbage collection on another thread can free it during the native call ("Expected false to be
/// true" from <c>Scalar::toFloat</c>, or an uncatchable <c>std::terminate</c>). The build bans those conversions
/// and the TorchSharp members that make one inside (build/BannedSymbols.txt); code passes a held Scalar instead:
/// one of these for a constant or a value fixed for a model's life (a hyperparameter), or
/// <c>using var s = value.ToScalar();</c> for a value computed per call.
/// <para><see cref="One"/>, <see cref="Zero"/> and the other named integers are integer Scalars, so they keep integer
/// tensors integral (libtorch refuses a floating-point <c>alpha</c> for integer tensors); <see cref="Of(double)"/> is a
/// floating-point Scalar, like a C# <c>double</c> literal was.</para>
/// </remarks>
internal static class Scalars
{
    private static readonly ConcurrentDictionary<long, Scalar> Doubles = new();
    private static readonly ConcurrentDictionary<long, Scalar> Integers = new();

    /// <summary>The integer 0.</summary>
    public static readonly Scalar Zero = Of(0L);

    /// <summary>The integer 1: the <c>alpha</c> of <c>x.add(y, Scalars.One)</c>, which is <c>x + y</c>.</summary>
    public static readonly Scalar One = Of(1L);

    /// <summary>The integer -1.</summary>
    public static readonly Scalar MinusOne = Of(-1L);

    /// <summary>The integer 2: <c>x.pow(Scalars.Two)</c> is <c>x²</c> (TorchSharp's <c>square()</c> makes a temporary).</summary>
    public static readonly Scalar Two = Of(2L);

    /// <summary>A floating-point Scalar of <paramref name="constant"/>, made once per distinct value and kept for the
    /// process: for constants and hyperparameters only, never for values that change from call to call.</summary>
    public static Scalar Of(double constant) =>
        Doubles.GetOrAdd(System.BitConverter.DoubleToInt64Bits(constant), static bits => System.BitConverter.Int64BitsToDouble(bits).ToScalar());

    /// <summary>An integer Scalar of <paramref name="constant"/>, made once per distinct value and kept for the process.</summary>
    public static Scalar Of(long constant) =>
        Integers.GetOrAdd(constant, static value => value.ToScalar());
}
