namespace NormalizingFlows.Transforms;

/// <summary>
/// How <see cref="AffineTransform"/> turns its raw scale parameter <c>u</c> into the log-scale <c>s</c> it applies
/// (<c>y = x * exp(s) + shift</c>).
/// </summary>
public enum ScaleMap
{
    /// <summary><c>s = u</c>, so the scale is <c>exp(u)</c> (RealNVP; the default). Zero parameters give the identity.</summary>
    Exp,

    /// <summary><c>s = log sigmoid(u + 2)</c>, so the scale is <c>sigmoid(u + 2)</c>, in (0, 1) (Glow's affine coupling,
    /// Kingma and Dhariwal, 2018). Zero parameters are <em>not</em> the identity: the scale starts at <c>sigmoid(2)</c>, about 0.88.</summary>
    Sigmoid,

    /// <summary><c>s = c * tanh(u / c)</c> with a fixed bound <c>c</c>: close to <c>u</c> for small <c>u</c>, never beyond
    /// <c>+-c</c>, so one bad step cannot blow the scale up. Zero parameters give the identity.</summary>
    SoftClamp,
}
