using static TorchSharp.torch;

namespace NormalizingFlows.Ode;

/// <summary>The right-hand side of an ODE <c>dy/dt = f(t, y)</c> on a batch of states: given the time and the state
/// <c>[batch, ...]</c>, returns the derivative of the same shape (a fresh tensor the solver owns).</summary>
/// <param name="time">The time <c>t</c>.</param>
/// <param name="state">The state <c>y(t)</c>; never modify it in place.</param>
public delegate Tensor OdeFunction(double time, Tensor state);
