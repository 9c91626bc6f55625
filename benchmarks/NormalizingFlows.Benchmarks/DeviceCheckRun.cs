using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.Json;
using System.Text.Json.Serialization;
using NormalizingFlows.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace NormalizingFlows.Benchmarks;

/// <summary>One catalogue flow checked on an accelerator against the same flow on the CPU (one JSON line of
/// <c>nflows-bench device-check</c>).</summary>
internal sealed record DeviceCheckResult(
    [property: JsonPropertyName("flow")] string Flow,
    [property: JsonPropertyName("dtype")] string Dtype,
    [property: JsonPropertyName("device")] string Device,
    [property: JsonPropertyName("logprob_max_abs_diff")] double LogProbMaxAbsDiff,
    [property: JsonPropertyName("forward_max_abs_diff")] double ForwardMaxAbsDiff,
    [property: JsonPropertyName("forward_logdet_max_abs_diff")] double ForwardLogDetMaxAbsDiff,
    [property: JsonPropertyName("round_trip_max_abs")] double RoundTripMaxAbs,
    [property: JsonPropertyName("cpu_round_trip_max_abs")] double CpuRoundTripMaxAbs,
    [property: JsonPropertyName("round_trip_logdet_max_abs")] double RoundTripLogDetMaxAbs,
    [property: JsonPropertyName("samples_on_device_finite")] bool SamplesOnDeviceFinite,
    [property: JsonPropertyName("loss_before")] double LossBefore,
    [property: JsonPropertyName("loss_after")] double LossAfter,
    [property: JsonPropertyName("reloaded_on_cpu_max_abs_diff")] double ReloadedOnCpuMaxAbsDiff,
    [property: JsonPropertyName("pass")] bool Pass,
    [property: JsonPropertyName("error")] string? Error);

/// <summary>
/// Every catalogue flow on a device (CUDA) held to the same flow on the CPU, in float64 and float32: the flow is fitted briefly
/// on the CPU (so its weights are not at their near-identity start), saved, put on the device (float64: loaded there; float32:
/// loaded on the CPU and moved with <c>to</c>), and then its log-densities of the same rows and its bijector's forward pass are
/// compared (the CPU side runs the fused kernels where they apply, the device side libtorch's operations), its bijector
/// round-tripped on the device (where it has an inverse), samples drawn there, a short fit run there (the loss must fall), and the
/// device-trained model saved and loaded back onto the CPU (its log-densities must match the device's). NaN in a field: not
/// measured for that flow (no density, no inverse, a stochastic log-determinant, not trained by maximum likelihood). Rows: 512
/// points of a correlated Gaussian in 3 features (odd, so that masks split unevenly). With <c>--device cpu</c> it is a dry run
/// of the command itself (a CPU copy held to the CPU).
/// </summary>
internal static class DeviceCheckRun
{
    private const int Features = 3;
    private const int Rows = 512;

    /// <summary>Log-density agreement asked of each dtype (absolute, on log-densities of order 1-10).</summary>
    private static double Tolerance(ScalarType dtype) => dtype == ScalarType.Float64 ? 1e-8 : 2e-3;

    public static IEnumerable<DeviceCheckResult> Execute(Device device, IReadOnlyList<string>? only, int trainSteps)
    {
        string folder = Directory.CreateTempSubdirectory("nflows-device-check-").FullName;
        try
        {
            foreach (var preset in FlowCatalog.All.Where(p => only is null || only.Contains(p.Name)))
                foreach (var dtype in new[] { ScalarType.Float64, ScalarType.Float32 })
                    yield return CheckOne(preset, dtype, device, trainSteps, folder);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    private static DeviceCheckResult CheckOne(FlowPreset preset, ScalarType dtype, Device device, int trainSteps, string folder)
    {
        string dtypeName = dtype.ToString().ToLowerInvariant();
        try
        {
            using var scope = torch.NewDisposeScope();
            var data = Data(dtype);
            var deviceData = data.to(device);
            using var cpuFlow = preset.Create(new PresetOptions(Features, Seed: 7));
            cpuFlow.to(dtype);
            bool fits = preset.Training == FlowTraining.MaximumLikelihood && preset.HasDensity;
            if (fits) Fit.ToData(cpuFlow, data, new FitOptions { Iterations = 30, BatchSize = 128, LearningRate = 3e-3, Seed = 1 });
            string first = Path.Combine(folder, $"{preset.Name}-{dtypeName}-cpu.nflow");
            cpuFlow.Save(first);
            // Both ways onto the device: float64 loads there directly, float32 loads on the CPU and is moved with to().
            using var deviceFlow = dtype == ScalarType.Float64 ? Flow.Load(first, device) : Flow.Load(first);
            if (dtype != ScalarType.Float64) deviceFlow.to(device);
            // A stochastic log-determinant (residual flows' estimator) differs from draw to draw: its values are not compared.
            bool exact = !cpuFlow.LogProbIsEstimate;

            double logProbDiff = double.NaN, forwardDiff, forwardLogDetDiff = double.NaN, roundTrip = double.NaN, roundTripLogDet = double.NaN, cpuRoundTrip = double.NaN,
                cpuRoundTripLogDet = double.NaN;
            using (torch.no_grad())
            {
                if (preset.HasDensity && exact)
                    logProbDiff = MaxAbsDiff(cpuFlow.LogProb(data), deviceFlow.LogProb(deviceData).cpu());
                var (cpuY, cpuLogDet) = cpuFlow.Bijector.Forward(data);
                var (y, logDet) = deviceFlow.Bijector.Forward(deviceData);
                forwardDiff = MaxAbsDiff(cpuY, y.cpu());
                if (exact) forwardLogDetDiff = MaxAbsDiff(cpuLogDet, logDet.cpu());
                if (preset.HasDensity)
                {
                    var (back, inverseLogDet) = deviceFlow.Bijector.Inverse(y);
                    roundTrip = MaxAbsDiff(back.cpu(), data);
                    if (exact) roundTripLogDet = logDet.add(inverseLogDet).abs().max().cpu().ToDouble();
                    var (cpuBack, cpuInverseLogDet) = cpuFlow.Bijector.Inverse(cpuY);
                    cpuRoundTrip = MaxAbsDiff(cpuBack, data);
                    if (exact) cpuRoundTripLogDet = cpuLogDet.add(cpuInverseLogDet).abs().max().ToDouble();
                }
            }

            using var generator = new Generator(11);
            var samples = deviceFlow.Sample(1000, generator: generator);
            bool samplesOk = samples.device.type == device.type && samples.isfinite().all().cpu().ToBoolean();

            double before = double.NaN, after = double.NaN, reloadDiff = double.NaN;
            if (fits)
            {
                using (torch.no_grad()) before = -deviceFlow.LogProb(deviceData).mean().cpu().ToDouble();
                Fit.ToData(deviceFlow, deviceData, new FitOptions { Iterations = trainSteps, BatchSize = 128, LearningRate = 3e-3, Seed = 2 });
                using (torch.no_grad()) after = -deviceFlow.LogProb(deviceData).mean().cpu().ToDouble();
                string second = Path.Combine(folder, $"{preset.Name}-{dtypeName}-device.nflow");
                deviceFlow.Save(second);
                using var reloaded = Flow.Load(second);
                if (exact)
                    using (torch.no_grad())
                        reloadDiff = MaxAbsDiff(reloaded.LogProb(data), deviceFlow.LogProb(deviceData).cpu());
            }

            // Where the flow's own inverse is inexact on the CPU (an ODE solver's tolerance, a fixed-point iteration's), that error
            // sets the scale: adaptive steps may be chosen differently on the device.
            double solverError = Math.Max(Finite(cpuRoundTrip), Finite(cpuRoundTripLogDet));
            double tolerance = Math.Max(Tolerance(dtype), 10 * solverError);
            double roundTripAllowed = Math.Max(1e3 * Tolerance(dtype), 10 * solverError);
            bool pass = Within(logProbDiff, tolerance) && Within(forwardDiff, tolerance) && Within(forwardLogDetDiff, tolerance)
                && Within(roundTrip, roundTripAllowed) && Within(roundTripLogDet, roundTripAllowed) && samplesOk
                && (!exact || double.IsNaN(before) || after < before) && Within(reloadDiff, Tolerance(dtype));
            return new DeviceCheckResult(preset.Name, dtypeName, device.ToString(), logProbDiff, forwardDiff, forwardLogDetDiff, roundTrip,
                cpuRoundTrip, roundTripLogDet, samplesOk, before, after, reloadDiff, pass, null);
        }
        catch (Exception e)
        {
            return new DeviceCheckResult(preset.Name, dtypeName, device.ToString(), double.NaN, double.NaN, double.NaN, double.NaN, double.NaN,
                double.NaN, false, double.NaN, double.NaN, double.NaN, false, $"{e.GetType().Name}: {e.Message}");
        }
    }

    private static double Finite(double value) => double.IsNaN(value) ? 0 : value;

    /// <summary>A measured difference within its allowance; NaN means "not measured for this flow" and passes.</summary>
    private static bool Within(double value, double allowed) => double.IsNaN(value) || value <= allowed;

    /// <summary>[Rows, Features] of a correlated Gaussian (each feature leans on the one before), seeded.</summary>
    private static Tensor Data(ScalarType dtype)
    {
        using var generator = new Generator(3);
        var z = torch.randn(new long[] { Rows, Features }, ScalarType.Float64, generator: generator);
        var columns = new Tensor[Features];
        columns[0] = z[.., 0];
        for (int j = 1; j < Features; j++) columns[j] = z[.., j].mul(0.5).add(columns[j - 1].mul(0.8));
        return torch.stack(columns, dim: 1).to(dtype);
    }

    private static double MaxAbsDiff(Tensor a, Tensor b) => a.to(ScalarType.Float64).sub(b.to(ScalarType.Float64)).abs().max().ToDouble();

    public static string ToJson(DeviceCheckResult result) =>
        JsonSerializer.Serialize(result, new JsonSerializerOptions { NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals });
}
