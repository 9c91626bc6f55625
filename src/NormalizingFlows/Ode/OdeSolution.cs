using static TorchSharp.torch;

namespace NormalizingFlows.Ode;

/// <summary>What <see cref="OdeSolver.Solve"/> returns: the state at the end time and what the solve cost.</summary>
/// <param name="State">The state at the end time, <c>[batch, ...]</c> like the initial state; the caller owns it. It keeps the
/// autograd graph of every accepted step, so gradients flow through the solver (discretise-then-optimise).</param>
/// <param name="Evaluations">How many times the right-hand side was evaluated (rejected steps and the initial step-size guess included).</param>
/// <param name="AcceptedSteps">Steps that were kept.</param>
/// <param name="RejectedSteps">Steps that an adaptive solver tried and rejected (always 0 for fixed-step solvers).</param>
public sealed record OdeSolution(Tensor State, int Evaluations, int AcceptedSteps, int RejectedSteps);
