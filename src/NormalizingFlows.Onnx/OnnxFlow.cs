using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace NormalizingFlows.Onnx;

/// <summary>
/// A normalizing flow exported by NormalizingFlows (<c>Flow.ExportOnnx</c>), scored with ONNX Runtime only: log-densities of
/// rows and seeded samples, over plain arrays. Rows are events flattened in row-major order (<see cref="Features"/> values
/// each). One instance is safe for concurrent callers (ONNX Runtime's <c>InferenceSession.Run</c> is thread-safe and this
/// class keeps no other mutable state); dispose it to free the native session.
/// </summary>
public sealed class OnnxFlow : IDisposable
{
    private readonly InferenceSession session;
    private readonly HashSet<string> outputs;
    private readonly double[]? degreesOfFreedom;
    private readonly bool componentUniform;

    private OnnxFlow(InferenceSession session, string source)
    {
        this.session = session;
        try
        {
            var metadata = session.ModelMetadata.CustomMetadataMap;
            if (!metadata.TryGetValue("event_shape", out var shape) || !metadata.TryGetValue("float_type", out var floatType))
                throw new FormatException($"{source} is an ONNX model but not one that NormalizingFlows exported: its metadata has no event_shape or float_type.");
            EventShape = shape.Split(',').Select(s => long.Parse(s, NumberStyles.None, CultureInfo.InvariantCulture)).ToArray();
            if (EventShape.Count == 0 || EventShape.Any(d => d <= 0) || EventShape.Aggregate(1L, (a, b) => a * b) > int.MaxValue)
                throw new FormatException($"{source}: event_shape '{shape}' is not a list of positive sizes.");
            Features = (int)EventShape.Aggregate(1L, (a, b) => a * b);
            ContextFeatures = metadata.TryGetValue("context_features", out var context) ? int.Parse(context, NumberStyles.None, CultureInfo.InvariantCulture) : 0;
            IsFloat64 = floatType switch
            {
                "float64" => true,
                "float32" => false,
                _ => throw new FormatException($"{source}: float_type '{floatType}' is neither float32 nor float64."),
            };
            outputs = new HashSet<string>(session.OutputMetadata.Keys, StringComparer.Ordinal);
            // An input with a default (every input when the model has both kinds of graph) is listed among the overridable initializers.
            bool HasInput(string name) => session.InputMetadata.ContainsKey(name) || session.OverridableInitializerMetadata.ContainsKey(name);
            if (HasInput("chi_square"))
            {
                if (!metadata.TryGetValue("chi_square_degrees_of_freedom", out var dof))
                    throw new FormatException($"{source}: the sample graph takes chi_square noise but the metadata has no chi_square_degrees_of_freedom.");
                degreesOfFreedom = dof.Split(',').Select(v => double.Parse(v, NumberStyles.Float, CultureInfo.InvariantCulture)).ToArray();
                if (degreesOfFreedom.Length != Features || degreesOfFreedom.Any(v => !(v > 0) || double.IsInfinity(v)))
                    throw new FormatException($"{source}: chi_square_degrees_of_freedom '{dof}' is not {Features} positive finite values.");
            }
            componentUniform = HasInput("component_uniform");
        }
        catch (Exception e) when (e is FormatException or OverflowException)
        {
            session.Dispose();
            throw new FormatException(e is FormatException ? e.Message : $"{source}: a size in its metadata is out of range.", e);
        }
    }

    /// <summary>Loads an exported flow from a .onnx file.</summary>
    /// <param name="path">The file that <c>Flow.ExportOnnx</c> wrote.</param>
    /// <param name="options">ONNX Runtime session options (threads, execution providers); null for the defaults.</param>
    /// <exception cref="System.IO.FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="FormatException">The model was not exported by NormalizingFlows (no event shape in its metadata).</exception>
    /// <exception cref="OnnxRuntimeException">ONNX Runtime cannot read the file.</exception>
    public static OnnxFlow Load(string path, SessionOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        if (!System.IO.File.Exists(path)) throw new System.IO.FileNotFoundException($"No ONNX model at {path}.", path);
        if (options is not null) return new OnnxFlow(new InferenceSession(path, options), path);
        using var quiet = QuietOptions();
        return new OnnxFlow(new InferenceSession(path, quiet), path);
    }

    /// <summary>Loads an exported flow from the bytes of a .onnx file (e.g. <c>Flow.ToOnnx()</c>).</summary>
    /// <param name="model">The model's bytes.</param>
    /// <param name="options">ONNX Runtime session options; null for the defaults.</param>
    /// <exception cref="FormatException">The model was not exported by NormalizingFlows.</exception>
    public static OnnxFlow Load(byte[] model, SessionOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (options is not null) return new OnnxFlow(new InferenceSession(model, options), "the model");
        using var quiet = QuietOptions();
        return new OnnxFlow(new InferenceSession(model, quiet), "the model");
    }

    /// <summary>Default options, with ONNX Runtime's log at errors only: a model that holds both the density and the sampling graphs
    /// gives its inputs empty defaults (so a caller feeds only what it uses), which ONNX Runtime reports as a warning on every load.</summary>
    private static SessionOptions QuietOptions() => new() { LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR };

    /// <summary>The shape of one event (<c>[features]</c>, or <c>[channels, height, width]</c> for images).</summary>
    public IReadOnlyList<long> EventShape { get; }

    /// <summary>Values per row: the product of <see cref="EventShape"/>.</summary>
    public int Features { get; }

    /// <summary>Context values per row for a conditional flow; 0 for none.</summary>
    public int ContextFeatures { get; }

    /// <summary>True when the model computes in float64 (inputs are converted to it and results back).</summary>
    public bool IsFloat64 { get; }

    /// <summary>True when the model holds the <c>log_prob</c> graph.</summary>
    public bool HasLogProb => outputs.Contains("log_prob");

    /// <summary>True when the model holds the <c>sample</c> graph.</summary>
    public bool CanSample => outputs.Contains("sample");

    /// <summary>The log-density of each row of <paramref name="x"/> (<c>[rows, Features]</c>): -inf for a row outside the
    /// support or with an infinity, NaN for a row with a NaN.</summary>
    /// <param name="x">Rows of <see cref="Features"/> values.</param>
    /// <param name="context">For a conditional flow, one row of <see cref="ContextFeatures"/> values per row of x; else null.</param>
    /// <exception cref="ArgumentException">A shape does not match the model.</exception>
    /// <exception cref="InvalidOperationException">The model has no log_prob graph.</exception>
    public float[] LogProb(float[,] x, float[,]? context = null)
    {
        ArgumentNullException.ThrowIfNull(x);
        CheckWidth(x.GetLength(1), Features, nameof(x), "features");
        if (context is not null) CheckWidth(context.GetLength(1), ContextFeatures, nameof(context), "context features");
        return LogProb(Flat(x), context is null ? default : Flat(context));
    }

    /// <summary>The log-density of each row of <paramref name="x"/>, given as <c>rows * Features</c> values in row-major order
    /// (see <see cref="LogProb(float[,], float[,])"/>).</summary>
    /// <param name="x">The rows, flattened.</param>
    /// <param name="context">For a conditional flow the context rows flattened (<c>rows * ContextFeatures</c> values); else empty.</param>
    /// <exception cref="ArgumentException">A length is not a whole number of rows, or the rows of x and context differ.</exception>
    /// <exception cref="InvalidOperationException">The model has no log_prob graph.</exception>
    public float[] LogProb(ReadOnlySpan<float> x, ReadOnlySpan<float> context = default)
    {
        if (!HasLogProb) throw new InvalidOperationException("This model has no log_prob graph; export it with OnnxGraphs.LogProb.");
        int rows = Rows(x.Length, Features, nameof(x));
        var inputs = new List<NamedOnnxValue> { Input("x", x, rows, EventShape) };
        AddContext(inputs, "context", context, rows);
        using var results = session.Run(inputs, new[] { "log_prob" });
        return ToFloats(results.First());
    }

    /// <summary>The log-density of each row of <paramref name="x"/> in double precision (computed in the model's precision).</summary>
    /// <param name="x">Rows of <see cref="Features"/> values.</param>
    /// <param name="context">For a conditional flow, one context row per row of x; else null.</param>
    /// <exception cref="ArgumentException">A shape does not match the model.</exception>
    /// <exception cref="InvalidOperationException">The model has no log_prob graph.</exception>
    public double[] LogProb(double[,] x, double[,]? context = null)
    {
        ArgumentNullException.ThrowIfNull(x);
        CheckWidth(x.GetLength(1), Features, nameof(x), "features");
        if (context is not null) CheckWidth(context.GetLength(1), ContextFeatures, nameof(context), "context features");
        if (!HasLogProb) throw new InvalidOperationException("This model has no log_prob graph; export it with OnnxGraphs.LogProb.");
        int rows = x.GetLength(0);
        var inputs = new List<NamedOnnxValue> { Input("x", Flat(x), rows, EventShape) };
        AddContext(inputs, "context", context is null ? default : Flat(context), rows);
        using var results = session.Run(inputs, new[] { "log_prob" });
        return ToDoubles(results.First());
    }

    /// <summary>Draws <paramref name="count"/> samples: standard-normal base noise from <paramref name="seed"/> (Box-Muller over
    /// <see cref="Random"/>(seed), so the same seed gives the same samples on every machine and run), pushed through the
    /// model's sample graph. Returns <c>[count, Features]</c>. A Student-t base also gets chi-square draws
    /// (<see cref="ChiSquareNoise"/>) and a Gaussian-mixture base uniforms that choose the component (<see cref="UniformNoise"/>),
    /// both from a second stream of the same seed; the graph itself has no random op.</summary>
    /// <param name="count">How many samples (at least 1).</param>
    /// <param name="seed">The seed of the base noise.</param>
    /// <param name="context">For a conditional flow, one context row per sample; else null.</param>
    /// <exception cref="InvalidOperationException">The model has no sample graph.</exception>
    public float[,] Sample(int count, int seed, float[,]? context = null) => SampleWithLogProb(count, seed, context, withLogProb: false).Samples;

    /// <summary>Draws samples as <see cref="Sample"/> does, with the log-density of each from the same forward pass.</summary>
    /// <param name="count">How many samples (at least 1).</param>
    /// <param name="seed">The seed of the base noise.</param>
    /// <param name="context">For a conditional flow, one context row per sample; else null.</param>
    /// <exception cref="InvalidOperationException">The model has no sample_with_log_prob graph.</exception>
    public (float[,] Samples, float[] LogProb) SampleWithLogProb(int count, int seed, float[,]? context = null)
    {
        var (samples, logProb) = SampleWithLogProb(count, seed, context, withLogProb: true);
        return (samples, logProb!);
    }

    /// <summary>The standard-normal noise that <see cref="Sample"/> draws for <paramref name="seed"/>: <c>count * Features</c>
    /// values, row-major (exposed so that a caller can reproduce a sample elsewhere, e.g. with the library).</summary>
    /// <param name="count">Rows.</param>
    /// <param name="features">Values per row.</param>
    /// <param name="seed">The seed.</param>
    public static double[] StandardNormalNoise(int count, int features, int seed)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(count);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(features);
        long total = (long)count * features;
        if (total > Array.MaxLength) throw new ArgumentOutOfRangeException(nameof(count), count, $"count * features ({total}) is more values than one array holds.");
        var random = new Random(seed);
        var noise = new double[total];
        for (long i = 0; i < total; i += 2)
        {
            // Box-Muller: two independent standard normals from two uniforms in (0, 1].
            double u1 = 1.0 - random.NextDouble(), u2 = random.NextDouble();
            double radius = Math.Sqrt(-2.0 * Math.Log(u1)), angle = 2.0 * Math.PI * u2;
            noise[i] = radius * Math.Cos(angle);
            if (i + 1 < total) noise[i + 1] = radius * Math.Sin(angle);
        }
        return noise;
    }

    /// <summary>The chi-square draws that <see cref="Sample"/> feeds a Student-t base's sample graph (input <c>chi_square</c>) for
    /// <paramref name="seed"/>: <c>count * degreesOfFreedom.Length</c> values, row-major, the value of feature <c>d</c> drawn with
    /// <c>degreesOfFreedom[d]</c> degrees of freedom as <c>2 Gamma(nu / 2)</c> (Marsaglia and Tsang's method over
    /// <see cref="Random"/>(<see cref="SecondStream"/>(seed))).</summary>
    /// <param name="count">Rows.</param>
    /// <param name="degreesOfFreedom">Degrees of freedom per feature (positive); the model's metadata entry
    /// <c>chi_square_degrees_of_freedom</c>.</param>
    /// <param name="seed">The seed.</param>
    public static double[] ChiSquareNoise(int count, IReadOnlyList<double> degreesOfFreedom, int seed)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(count);
        ArgumentNullException.ThrowIfNull(degreesOfFreedom);
        int features = degreesOfFreedom.Count;
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(features, nameof(degreesOfFreedom));
        for (int d = 0; d < features; d++)
            if (!(degreesOfFreedom[d] > 0) || double.IsInfinity(degreesOfFreedom[d]))
                throw new ArgumentOutOfRangeException(nameof(degreesOfFreedom), degreesOfFreedom[d], $"Degrees of freedom must be positive and finite; feature {d} has {degreesOfFreedom[d]}.");
        long total = (long)count * features;
        if (total > Array.MaxLength) throw new ArgumentOutOfRangeException(nameof(count), count, $"count * features ({total}) is more values than one array holds.");
        var random = new Random(SecondStream(seed));
        var noise = new double[total];
        for (long i = 0; i < total; i++) noise[i] = 2.0 * Gamma(degreesOfFreedom[(int)(i % features)] / 2.0, random);
        return noise;
    }

    /// <summary>The uniforms in [0, 1) that <see cref="Sample"/> feeds a Gaussian-mixture base's sample graph (input
    /// <c>component_uniform</c>, float64) for <paramref name="seed"/>: <c>count</c> values of
    /// <see cref="Random"/>(<see cref="SecondStream"/>(seed)).NextDouble().</summary>
    /// <param name="count">Rows.</param>
    /// <param name="seed">The seed.</param>
    public static double[] UniformNoise(int count, int seed)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(count);
        var random = new Random(SecondStream(seed));
        var noise = new double[count];
        for (int i = 0; i < count; i++) noise[i] = random.NextDouble();
        return noise;
    }

    /// <summary>The seed of the second noise stream (chi-square draws or uniforms) for <paramref name="seed"/>, so that the
    /// standard-normal noise of a seed is the same whatever the base.</summary>
    /// <param name="seed">The seed of <see cref="Sample"/>.</param>
    public static int SecondStream(int seed) => unchecked((int)((uint)seed * 2654435761u) ^ 0x2545F491);

    /// <summary>A Gamma(shape, 1) draw: Marsaglia and Tsang (2000) for shape at least 1, boosted by <c>U^(1/shape)</c> below.</summary>
    private static double Gamma(double shape, Random random)
    {
        if (shape < 1.0) return Gamma(shape + 1.0, random) * Math.Pow(1.0 - random.NextDouble(), 1.0 / shape);
        double d = shape - 1.0 / 3.0, c = 1.0 / Math.Sqrt(9.0 * d);
        while (true)
        {
            double x, v;
            do
            {
                x = Math.Sqrt(-2.0 * Math.Log(1.0 - random.NextDouble())) * Math.Cos(2.0 * Math.PI * random.NextDouble());
                v = 1.0 + c * x;
            }
            while (v <= 0.0);
            v = v * v * v;
            double u = 1.0 - random.NextDouble();
            if (Math.Log(u) < 0.5 * x * x + d - d * v + d * Math.Log(v)) return d * v;
        }
    }

    /// <summary>Frees the native ONNX Runtime session.</summary>
    public void Dispose() => session.Dispose();

    private (float[,] Samples, float[]? LogProb) SampleWithLogProb(int count, int seed, float[,]? context, bool withLogProb)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(count);
        string needed = withLogProb ? "sample_log_prob" : "sample";
        if (!outputs.Contains(needed))
            throw new InvalidOperationException($"This model has no {needed} graph; export it with OnnxGraphs.{(withLogProb ? "SampleWithLogProb" : "Sample")}.");
        if (context is not null)
        {
            CheckWidth(context.GetLength(1), ContextFeatures, nameof(context), "context features");
            if (context.GetLength(0) != count)
                throw new ArgumentException($"Sampling draws one sample per context row: count ({count}) must equal the context's rows ({context.GetLength(0)}).", nameof(context));
        }
        var noise = StandardNormalNoise(count, Features, seed);
        var inputs = new List<NamedOnnxValue>
        {
            IsFloat64 ? NamedOnnxValue.CreateFromTensor("z", new DenseTensor<double>(noise, Dimensions(count, EventShape)))
                      : NamedOnnxValue.CreateFromTensor("z", new DenseTensor<float>(noise.Select(v => (float)v).ToArray(), Dimensions(count, EventShape))),
        };
        if (degreesOfFreedom is not null)
        {
            var chiSquare = ChiSquareNoise(count, degreesOfFreedom, seed);
            inputs.Add(IsFloat64 ? NamedOnnxValue.CreateFromTensor("chi_square", new DenseTensor<double>(chiSquare, Dimensions(count, EventShape)))
                                 : NamedOnnxValue.CreateFromTensor("chi_square", new DenseTensor<float>(chiSquare.Select(v => (float)v).ToArray(), Dimensions(count, EventShape))));
        }
        if (componentUniform)
            inputs.Add(NamedOnnxValue.CreateFromTensor("component_uniform", new DenseTensor<double>(UniformNoise(count, seed), new[] { count })));
        AddContext(inputs, "sample_context", context is null ? default : Flat(context), count);
        var names = withLogProb ? new[] { "sample", "sample_log_prob" } : new[] { "sample" };
        using var results = session.Run(inputs, names);
        var list = results.ToList();
        var flat = ToFloats(list[0]);
        var samples = new float[count, Features];
        Buffer.BlockCopy(flat, 0, samples, 0, flat.Length * sizeof(float));
        return (samples, withLogProb ? ToFloats(list[1]) : null);
    }

    private void AddContext(List<NamedOnnxValue> inputs, string name, ReadOnlySpan<float> context, int rows)
    {
        if (NeedsContext(context.Length, rows)) inputs.Add(Input(name, context, rows, new long[] { ContextFeatures }));
    }

    private void AddContext(List<NamedOnnxValue> inputs, string name, ReadOnlySpan<double> context, int rows)
    {
        if (NeedsContext(context.Length, rows)) inputs.Add(Input(name, context, rows, new long[] { ContextFeatures }));
    }

    private bool NeedsContext(int length, int rows)
    {
        if (ContextFeatures == 0)
        {
            if (length != 0) throw new ArgumentException("This flow takes no context; pass none.", "context");
            return false;
        }
        if (length == 0) throw new ArgumentException($"This flow is conditional: pass a context of {ContextFeatures} values per row.", "context");
        int contextRows = Rows(length, ContextFeatures, "context");
        if (contextRows != rows)
            throw new ArgumentException($"Expected one context row per row ({rows}); got {contextRows}.", "context");
        return true;
    }

    private NamedOnnxValue Input(string name, ReadOnlySpan<float> values, int rows, IReadOnlyList<long> eventShape) =>
        IsFloat64
            ? NamedOnnxValue.CreateFromTensor(name, new DenseTensor<double>(values.ToArray().Select(v => (double)v).ToArray(), Dimensions(rows, eventShape)))
            : NamedOnnxValue.CreateFromTensor(name, new DenseTensor<float>(values.ToArray(), Dimensions(rows, eventShape)));

    private NamedOnnxValue Input(string name, ReadOnlySpan<double> values, int rows, IReadOnlyList<long> eventShape) =>
        IsFloat64
            ? NamedOnnxValue.CreateFromTensor(name, new DenseTensor<double>(values.ToArray(), Dimensions(rows, eventShape)))
            : NamedOnnxValue.CreateFromTensor(name, new DenseTensor<float>(values.ToArray().Select(v => (float)v).ToArray(), Dimensions(rows, eventShape)));

    private float[] ToFloats(DisposableNamedOnnxValue value) =>
        IsFloat64 ? value.AsTensor<double>().ToArray().Select(v => (float)v).ToArray() : value.AsTensor<float>().ToArray();

    private double[] ToDoubles(DisposableNamedOnnxValue value) =>
        IsFloat64 ? value.AsTensor<double>().ToArray() : value.AsTensor<float>().ToArray().Select(v => (double)v).ToArray();

    private static int[] Dimensions(int rows, IReadOnlyList<long> eventShape) => new[] { rows }.Concat(eventShape.Select(d => (int)d)).ToArray();

    private static int Rows(int length, int width, string paramName)
    {
        if (length == 0 || length % width != 0)
            throw new ArgumentException($"Expected a whole number of rows of {width} values; got {length} values.", paramName);
        return length / width;
    }

    private static void CheckWidth(int actual, int expected, string paramName, string what)
    {
        if (actual != expected)
            throw new ArgumentException($"Expected {paramName} with shape [rows, {expected}] ({expected} {what} per row); got [rows, {actual}].", paramName);
    }

    private static T[] Flat<T>(T[,] values)
    {
        var flat = new T[values.Length];
        int i = 0;
        foreach (var v in values) flat[i++] = v;
        return flat;
    }
}
