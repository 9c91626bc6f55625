using System;
using System.Linq;

namespace NormalizingFlows.Bijectors;

/// <summary>
/// Coupling masks: <c>true</c> marks a feature the coupling transforms, <c>false</c> one it passes
/// through unchanged and conditions on.
/// </summary>
public static class Masks
{
    /// <summary>Transforms the second half (the first <c>features / 2</c> features condition), or the first half when <paramref name="second"/> is false.</summary>
    public static bool[] Halves(int features, bool second = true)
    {
        CheckFeatures(features);
        int split = features / 2;
        return Enumerable.Range(0, features).Select(i => (i >= split) == second).ToArray();
    }

    /// <summary>Transforms every other feature: the odd ones when <paramref name="parity"/> is 1, the even ones when it is 0.</summary>
    public static bool[] Alternating(int features, int parity)
    {
        CheckFeatures(features);
        if (parity is not (0 or 1)) throw new ArgumentOutOfRangeException(nameof(parity), parity, $"parity must be 0 or 1; got {parity}.");
        return Enumerable.Range(0, features).Select(i => i % 2 == parity).ToArray();
    }

    private static void CheckFeatures(int features)
    {
        if (features < 2)
            throw new ArgumentOutOfRangeException(nameof(features), features, $"A coupling needs at least 2 features (one to transform, one to condition on); got {features}.");
    }
}
