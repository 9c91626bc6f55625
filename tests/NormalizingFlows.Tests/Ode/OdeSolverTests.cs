using System;
using NormalizingFlows.Ode;
using TorchSharp;
using static TorchSharp.torch;

namespace NormalizingFlows.Tests.Ode;

public sealed class OdeSolverTests
{
    // A damped rotation dy/dt = A y with A = [[-0.5, 1], [-1, -0.5]]: y(t) = exp(-t/2) R(t) y0, R(t) = [[cos t, sin t], [-sin t, cos t]].
    private static readonly double[,] Damped = { { -0.5, 1 }, { -1, -0.5 } };

    private static Tensor InitialStates() =>
        torch.tensor(new double[] { 1, 0, 0.3, -2, -1.5, 0.7, 4, 4, 0, 0 }, new long[] { 5, 2 }, ScalarType.Float64);

    private static OdeFunction Linear(double[,] a)
    {
        var matrix = torch.tensor(new[] { a[0, 0], a[0, 1], a[1, 0], a[1, 1] }, new long[] { 2, 2 }, ScalarType.Float64);
        return (_, y) => y.matmul(matrix.t());
    }

    private static Tensor DampedExact(Tensor y0, double t)
    {
        double decay = Math.Exp(-t / 2), c = Math.Cos(t), s = Math.Sin(t);
        var transition = torch.tensor(new[] { decay * c, decay * s, -decay * s, decay * c }, new long[] { 2, 2 }, ScalarType.Float64);
        return y0.matmul(transition.t());
    }

    // The harmonic oscillator x'' = -w^2 x as the state [x, v]: x(t) = x0 cos(wt) + v0 sin(wt) / w, v(t) = -x0 w sin(wt) + v0 cos(wt).
    private const double Omega = 2.0;

    private static OdeFunction Oscillator() => (_, y) =>
    {
        using var w2 = (-Omega * Omega).ToScalar();
        return torch.stack(new[] { y.select(1, 1), y.select(1, 0).mul(w2) }, 1);
    };

    private static Tensor OscillatorExact(Tensor y0, double t)
    {
        double c = Math.Cos(Omega * t), s = Math.Sin(Omega * t);
        var transition = torch.tensor(new[] { c, s / Omega, -Omega * s, c }, new long[] { 2, 2 }, ScalarType.Float64);
        return y0.matmul(transition.t());
    }

    private static double MaxError(Tensor expected, Tensor actual) => expected.sub(actual).abs().max().item<double>();

    [Theory]
    [InlineData(1e-6)]
    [InlineData(1e-9)]
    public void Should_Match_Linear_System_Closed_Form_When_Solved_Adaptively(double tolerance)
    {
        using var scope = torch.NewDisposeScope();
        var y0 = InitialStates();
        var solution = new DormandPrince(tolerance, tolerance).Solve(Linear(Damped), y0, 0, 2);
        double error = MaxError(DampedExact(y0, 2), solution.State);
        // The per-step tolerance bounds the local error; over the whole interval the global error stays within 10x of it here.
        Assert.True(error <= 10 * tolerance * (1 + DampedExact(y0, 2).abs().max().item<double>()), $"max error {error:E3} at tolerance {tolerance:E0}");
        Assert.Equal(2 + 6 * (solution.AcceptedSteps + solution.RejectedSteps), solution.Evaluations);
    }

    [Fact]
    public void Should_Match_Harmonic_Oscillator_Forward_And_Backward_In_Time()
    {
        using var scope = torch.NewDisposeScope();
        var y0 = InitialStates();
        var solver = new DormandPrince(1e-8, 1e-8);
        var forward = solver.Solve(Oscillator(), y0, 0, 3);
        var exact = OscillatorExact(y0, 3);
        Assert.True(MaxError(exact, forward.State) <= 1e-6, $"forward error {MaxError(exact, forward.State):E3}");
        var back = solver.Solve(Oscillator(), exact, 3, 0);
        Assert.True(MaxError(y0, back.State) <= 1e-6, $"backward error {MaxError(y0, back.State):E3}");
    }

    [Fact]
    public void Should_Spend_More_Evaluations_For_Smaller_Error_When_Tolerance_Is_Tighter()
    {
        using var scope = torch.NewDisposeScope();
        var y0 = InitialStates();
        var exact = OscillatorExact(y0, 3);
        var loose = new DormandPrince(1e-4, 1e-4).Solve(Oscillator(), y0, 0, 3);
        var tight = new DormandPrince(1e-10, 1e-10).Solve(Oscillator(), y0, 0, 3);
        Assert.True(tight.Evaluations > loose.Evaluations, $"{tight.Evaluations} evaluations at 1e-10 vs {loose.Evaluations} at 1e-4");
        Assert.True(MaxError(exact, tight.State) < MaxError(exact, loose.State) / 100);
    }

    [Fact]
    public void Should_Converge_At_Fourth_Order_When_Using_RungeKutta4()
    {
        using var scope = torch.NewDisposeScope();
        var y0 = InitialStates();
        var exact = OscillatorExact(y0, 3);
        var coarse = new RungeKutta4(20).Solve(Oscillator(), y0, 0, 3);
        var fine = new RungeKutta4(40).Solve(Oscillator(), y0, 0, 3);
        double ratio = MaxError(exact, coarse.State) / MaxError(exact, fine.State);
        Assert.InRange(ratio, 12, 20); // 2^4 = 16
        Assert.Equal(80, coarse.Evaluations);
        Assert.Equal(20, coarse.AcceptedSteps);
    }

    [Fact]
    public void Should_Converge_At_First_Order_When_Using_Euler()
    {
        using var scope = torch.NewDisposeScope();
        var y0 = InitialStates();
        var exact = DampedExact(y0, 1);
        var coarse = new Euler(200).Solve(Linear(Damped), y0, 0, 1);
        var fine = new Euler(400).Solve(Linear(Damped), y0, 0, 1);
        double ratio = MaxError(exact, coarse.State) / MaxError(exact, fine.State);
        Assert.InRange(ratio, 1.8, 2.2);
        Assert.Equal(200, coarse.Evaluations);
    }

    [Fact]
    public void Should_Throw_Naming_The_Cap_When_Steps_Run_Out()
    {
        using var scope = torch.NewDisposeScope();
        var error = Assert.Throws<OdeStepLimitException>(() => new DormandPrince(1e-12, 1e-12, maxSteps: 3).Solve(Oscillator(), InitialStates(), 0, 3));
        Assert.Contains("3 steps (MaxSteps)", error.Message);
        Assert.InRange(error.ReachedTime, 0, 3);
    }

    [Fact]
    public void Should_Differentiate_Through_The_Steps_When_The_Initial_State_Requires_Grad()
    {
        using var scope = torch.NewDisposeScope();
        var y0 = InitialStates().requires_grad_(true);
        var solution = new DormandPrince(1e-10, 1e-10).Solve(Linear(Damped), y0, 0, 2);
        // d sum(y(T)[:, 0]) / d y0 = first row of exp(AT), for every row.
        solution.State.select(1, 0).sum().backward();
        double decay = Math.Exp(-1), c = Math.Cos(2), s = Math.Sin(2);
        var expected = torch.tensor(new[] { decay * c, decay * s }, ScalarType.Float64).expand(5, 2);
        Assert.True(MaxError(expected, y0.grad!) <= 1e-8, $"gradient error {MaxError(expected, y0.grad!):E3}");
    }

    [Fact]
    public void Should_Name_Both_Shapes_When_The_Derivative_Has_The_Wrong_Shape()
    {
        using var scope = torch.NewDisposeScope();
        var error = Assert.Throws<ArgumentException>(() => new RungeKutta4(2).Solve((_, y) => y.sum(1), InitialStates(), 0, 1));
        Assert.Contains("[5, 2]", error.Message);
        Assert.Contains("[5]", error.Message);
    }

    [Fact]
    public void Should_Return_A_Copy_Without_Evaluations_When_The_Interval_Is_Empty()
    {
        using var scope = torch.NewDisposeScope();
        var y0 = InitialStates();
        var solution = new DormandPrince().Solve((_, _) => throw new InvalidOperationException("not called"), y0, 0.5, 0.5);
        Assert.Equal(0, solution.Evaluations);
        Assert.False(ReferenceEquals(y0, solution.State));
        Assert.Equal(0, MaxError(y0, solution.State));
    }
}
