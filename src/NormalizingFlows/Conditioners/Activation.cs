namespace NormalizingFlows.Conditioners;

/// <summary>Hidden-layer nonlinearity of a conditioner network.</summary>
public enum Activation
{
    /// <summary><c>max(0, x)</c>.</summary>
    Relu,
    /// <summary><c>tanh(x)</c>.</summary>
    Tanh,
    /// <summary><c>x</c> for positive inputs, <c>0.01 x</c> otherwise.</summary>
    LeakyRelu,
    /// <summary>Exponential linear unit.</summary>
    Elu,
    /// <summary><c>x * sigmoid(x)</c>.</summary>
    Silu,
    /// <summary>Gaussian error linear unit.</summary>
    Gelu,
}
