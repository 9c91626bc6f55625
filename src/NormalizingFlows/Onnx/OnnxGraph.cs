using System;
using System.Collections.Generic;
using System.Linq;
using Google.Protobuf;
using Onnx;
using TorchSharp;
using static TorchSharp.torch;

namespace NormalizingFlows.Onnx;

/// <summary>
/// Builds one ONNX graph node by node for <see cref="OnnxExport"/>: every value is named by a string, weights become
/// initializers in the export's float type, and the helpers spell the few math idioms the layers share (row sums, stable
/// softplus, masked rows). Layers describe their own math through it (the <c>ExportOnnx</c> members of bijectors,
/// distributions and conditioners).
/// </summary>
internal sealed class OnnxGraph
{
    private readonly GraphProto graph;
    private readonly Dictionary<string, int> counters = new(StringComparer.Ordinal);
    private readonly Dictionary<(double, int), string> scalars = new();

    public OnnxGraph(GraphProto graph, bool float64)
    {
        this.graph = graph;
        Float64 = float64;
    }

    /// <summary>True for a float64 (double) graph, false for float32.</summary>
    public bool Float64 { get; }

    /// <summary>The ONNX element type of every real value in the graph.</summary>
    public TensorProto.Types.DataType ElementType => Float64 ? TensorProto.Types.DataType.Double : TensorProto.Types.DataType.Float;

    /// <summary>The layer being exported, for the names of its nodes (readable in Netron and in ONNX Runtime's errors).</summary>
    public string Scope { get; set; } = "flow";

    private string Fresh(string hint)
    {
        string key = Scope + "/" + hint;
        counters.TryGetValue(key, out int n);
        counters[key] = n + 1;
        return n == 0 ? key : key + "_" + n;
    }

    /// <summary>Adds a node with one output and returns the output's name.</summary>
    public string Op(string opType, params string[] inputs) => Op(opType, inputs, Array.Empty<AttributeProto>());

    /// <summary>Adds a node with one output and attributes and returns the output's name.</summary>
    public string Op(string opType, string[] inputs, params AttributeProto[] attributes) => Ops(opType, 1, inputs, attributes)[0];

    /// <summary>Adds a node with <paramref name="outputs"/> outputs.</summary>
    public string[] Ops(string opType, int outputs, string[] inputs, params AttributeProto[] attributes)
    {
        var names = Enumerable.Range(0, outputs).Select(_ => Fresh(opType)).ToArray();
        var node = new NodeProto { OpType = opType, Name = names[0] };
        node.Input.AddRange(inputs);
        node.Output.AddRange(names);
        node.Attribute.AddRange(attributes);
        graph.Node.Add(node);
        return names;
    }

    /// <summary>Renames a value: an Identity node whose output has the given name (graph outputs need fixed names).</summary>
    public void Name(string value, string name)
    {
        var node = new NodeProto { OpType = "Identity", Name = Scope + "/" + name };
        node.Input.Add(value);
        node.Output.Add(name);
        graph.Node.Add(node);
    }

    public static AttributeProto Int(string name, long value) =>
        new() { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = value };

    public static AttributeProto Float(string name, float value) =>
        new() { Name = name, Type = AttributeProto.Types.AttributeType.Float, F = value };

    public static AttributeProto Ints(string name, params long[] values)
    {
        var attribute = new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Ints };
        attribute.Ints.AddRange(values);
        return attribute;
    }

    // ---- constants ----

    /// <summary>A weight or buffer as an initializer in the graph's float type (values copied now, detached from autograd).</summary>
    public string Constant(Tensor value, string hint = "weight")
    {
        using var scope = torch.NewDisposeScope();
        var shape = value.shape;
        var flat = value.detach().cpu().to(ScalarType.Float64).contiguous().flatten();
        var values = flat.data<double>().ToArray();
        return Constant(values, shape, hint);
    }

    /// <summary>Real values with a shape as an initializer in the graph's float type.</summary>
    public string Constant(double[] values, long[] shape, string hint = "constant")
    {
        var tensor = new TensorProto { Name = Fresh(hint), DataType = (int)ElementType };
        tensor.Dims.AddRange(shape);
        if (Float64) tensor.DoubleData.AddRange(values);
        else tensor.FloatData.AddRange(values.Select(v => (float)v));
        graph.Initializer.Add(tensor);
        return tensor.Name;
    }

    /// <summary>Float64 values with a shape as an initializer, whatever the graph's float type (for values compared with a
    /// float64 input, such as a mixture's cumulative weights).</summary>
    public string DoubleConstant(double[] values, long[] shape, string hint = "constant")
    {
        var tensor = new TensorProto { Name = Fresh(hint), DataType = (int)TensorProto.Types.DataType.Double };
        tensor.Dims.AddRange(shape);
        tensor.DoubleData.AddRange(values);
        graph.Initializer.Add(tensor);
        return tensor.Name;
    }

    // ---- extra sample inputs and metadata ----

    /// <summary>The noise inputs of the sample graphs beyond <c>z</c> that the base declared (<see cref="SampleNoiseInput"/>),
    /// in order; <see cref="OnnxExport"/> adds them to the graph's inputs.</summary>
    public List<(string Name, long[] EventShape, TensorProto.Types.DataType Type)> SampleNoiseInputs { get; } = new();

    /// <summary>Model metadata entries that layers add (written by <see cref="OnnxExport"/>).</summary>
    public Dictionary<string, string> Metadata { get; } = new(StringComparer.Ordinal);

    /// <summary>Declares a further noise input of the sample graphs, <c>[sample_batch, ...eventShape]</c> of
    /// <paramref name="type"/>, and returns its name.</summary>
    public string SampleNoiseInput(string name, long[] eventShape, TensorProto.Types.DataType type)
    {
        SampleNoiseInputs.Add((name, eventShape, type));
        return name;
    }

    /// <summary>64-bit integers (indices, shapes, axes) as an initializer.</summary>
    public string Int64s(long[] values, long[]? shape = null, string hint = "indices")
    {
        var tensor = new TensorProto { Name = Fresh(hint), DataType = (int)TensorProto.Types.DataType.Int64 };
        tensor.Dims.AddRange(shape ?? new[] { (long)values.Length });
        tensor.Int64Data.AddRange(values);
        graph.Initializer.Add(tensor);
        return tensor.Name;
    }

    /// <summary>A real scalar constant (rank 0), shared by every use of the same value.</summary>
    public string Scalar(double value)
    {
        var key = (value, Float64 ? 64 : 32);
        if (scalars.TryGetValue(key, out var name)) return name;
        var saved = Scope;
        Scope = "constants";
        name = Constant(new[] { value }, Array.Empty<long>(), "scalar");
        Scope = saved;
        scalars[key] = name;
        return name;
    }

    // ---- arithmetic ----

    public string Add(string a, string b) => Op("Add", a, b);
    public string Sub(string a, string b) => Op("Sub", a, b);
    public string Mul(string a, string b) => Op("Mul", a, b);
    public string Div(string a, string b) => Op("Div", a, b);
    public string Neg(string a) => Op("Neg", a);
    public string Exp(string a) => Op("Exp", a);
    public string Log(string a) => Op("Log", a);
    public string Abs(string a) => Op("Abs", a);
    public string Tanh(string a) => Op("Tanh", a);
    public string Sigmoid(string a) => Op("Sigmoid", a);
    public string Relu(string a) => Op("Relu", a);
    public string Square(string a) => Op("Mul", a, a);
    public string Max(string a, string b) => Op("Max", a, b);
    public string Min(string a, string b) => Op("Min", a, b);
    public string Where(string condition, string whenTrue, string whenFalse) => Op("Where", condition, whenTrue, whenFalse);
    public string Greater(string a, string b) => Op("Greater", a, b);
    public string Less(string a, string b) => Op("Less", a, b);

    /// <summary><c>a * k</c> for a real constant <paramref name="k"/>.</summary>
    public string Scale(string a, double k) => Mul(a, Scalar(k));

    /// <summary><c>a + k</c> for a real constant <paramref name="k"/>.</summary>
    public string AddScalar(string a, double k) => Add(a, Scalar(k));

    /// <summary><c>x W^T + b</c> for a <c>[out, in]</c> weight (as <c>nn.Linear</c>).</summary>
    public string Linear(string x, Tensor weight, Tensor? bias)
    {
        using var scope = torch.NewDisposeScope();
        var product = Op("MatMul", x, Constant(weight.detach().t(), "weight"));
        return bias is null ? product : Add(product, Constant(bias, "bias"));
    }

    /// <summary><c>softplus(x) = max(x, 0) + log1p(exp(-|x|))</c>, finite for every finite x and accurate where it is tiny.</summary>
    public string Softplus(string x) =>
        Add(Relu(x), Log1p(Exp(Neg(Abs(x)))));

    /// <summary><c>log(1 + u)</c>, accurate for small u (ONNX has no Log1p): with <c>w = 1 + u</c> rounded,
    /// <c>log(w) u / (w - 1)</c>, or u itself where w rounds to 1 (Goldberg's correction).</summary>
    public string Log1p(string u)
    {
        string w = AddScalar(u, 1.0);
        string wMinusOne = Sub(w, Scalar(1.0));
        string corrected = Div(Mul(Log(w), u), wMinusOne);
        // Where w - 1 is 0 (|u| below half an ulp of 1) the ratio is 0/0: the answer is u. Where w is infinite, so is the log.
        string exact = Op("Equal", wMinusOne, Scalar(0.0));
        string infinite = Op("IsInf", w);
        return Where(exact, u, Where(infinite, Log(w), corrected));
    }

    /// <summary><c>exp(x) - 1</c>, accurate for small x (ONNX has no Expm1): with <c>u = exp(x)</c> rounded,
    /// <c>(u - 1) x / log(u)</c>, x itself where u rounds to 1, and -1 where u is 0.</summary>
    public string Expm1(string x)
    {
        string u = Exp(x);
        string uMinusOne = Sub(u, Scalar(1.0));
        string corrected = Div(Mul(uMinusOne, x), Log(u));
        string exact = Op("Equal", uMinusOne, Scalar(0.0));
        string large = Op("Or", Op("IsInf", u), Op("Equal", u, Scalar(0.0)));
        return Where(exact, x, Where(large, uMinusOne, corrected));
    }

    /// <summary><c>log(sigmoid(x)) = -softplus(-x)</c>.</summary>
    public string LogSigmoid(string x) => Neg(Softplus(Neg(x)));

    /// <summary>Columns <paramref name="indices"/> of a <c>[batch, features]</c> value.</summary>
    public string Columns(string x, IReadOnlyList<long> indices) =>
        Op("Gather", new[] { x, Int64s(indices.ToArray()) }, Int("axis", 1));

    /// <summary>Columns <c>[start, start + length)</c> of a <c>[batch, features]</c> value.</summary>
    public string Narrow(string x, long start, long length, long axis = 1) =>
        Op("Slice", x, Int64s(new[] { start }), Int64s(new[] { start + length }), Int64s(new[] { axis }));

    /// <summary>Entry <paramref name="index"/> of the last axis: <c>[..., k] -> [...]</c>.</summary>
    public string SelectLast(string x, long index) =>
        Op("Gather", new[] { x, Int64s(new[] { index }, Array.Empty<long>()) }, Int("axis", -1));

    /// <summary>Runs <paramref name="describe"/> with the node names under <c>Scope/name</c>, then restores the scope.</summary>
    public T Within<T>(string name, Func<T> describe)
    {
        var saved = Scope;
        Scope = saved + "/" + name;
        try { return describe(); }
        finally { Scope = saved; }
    }

    /// <summary>Adds two per-row log-dets, either of which may be null (zero) or rank 0 (the same for every row).</summary>
    public string? AddLogDets(string? a, string? b) => a is null ? b : b is null ? a : Add(a, b);

    /// <summary>Concatenation along <paramref name="axis"/>.</summary>
    public string Concat(long axis, params string[] values) => Op("Concat", values, Int("axis", axis));

    /// <summary>Reshape to <paramref name="shape"/> (0 keeps that dimension, -1 infers it).</summary>
    public string Reshape(string x, params long[] shape) => Op("Reshape", x, Int64s(shape, hint: "shape"));

    /// <summary>The sum over every axis but the batch: <c>[batch, ...] -> [batch]</c>.</summary>
    public string SumRows(string x) =>
        Op("ReduceSum", new[] { FlattenRows(x), Int64s(new[] { 1L }, hint: "axes") }, Int("keepdims", 0));

    /// <summary><c>[batch, ...] -> [batch, rest]</c> (Flatten, which unlike a Reshape to <c>[0, -1]</c> also takes an empty batch).</summary>
    public string FlattenRows(string x) => Op("Flatten", new[] { x }, Int("axis", 1));

    /// <summary>A new axis of size 1 at <paramref name="axis"/>.</summary>
    public string Unsqueeze(string x, long axis) => Op("Unsqueeze", x, Int64s(new[] { axis }, hint: "axes"));

    /// <summary>The sum of every element: a rank-0 value.</summary>
    public string SumAll(string x) => Op("ReduceSum", new[] { Reshape(x, -1), Int64s(new[] { 0L }, hint: "axes") }, Int("keepdims", 0));

    /// <summary>True per row where any element is NaN: <c>[batch, ...] -> [batch]</c> (bool).</summary>
    public string RowHasNan(string x) => RowAny(Op("IsNaN", x));

    /// <summary>True per row where every element is finite: <c>[batch, ...] -> [batch]</c> (bool).</summary>
    public string RowFinite(string x)
    {
        var bad = Op("Or", Op("IsNaN", x), Op("IsInf", x));
        return Op("Not", RowAny(bad));
    }

    private string RowAny(string flags)
    {
        var asNumbers = Op("Cast", new[] { FlattenRows(flags) }, Int("to", (long)TensorProto.Types.DataType.Float));
        var counts = Op("ReduceMax", new[] { asNumbers }, Ints("axes", 1), Int("keepdims", 0));
        return Op("Cast", new[] { counts }, Int("to", (long)TensorProto.Types.DataType.Bool));
    }

    /// <summary>A <c>[batch]</c> value of zeros shaped like the rows of <paramref name="x"/>.</summary>
    public string ZerosPerRow(string x)
    {
        var shape = Op("Shape", new[] { x }, Int("start", 0), Int("end", 1));
        return Op("ConstantOfShape", new[] { shape }, new AttributeProto
        {
            Name = "value",
            Type = AttributeProto.Types.AttributeType.Tensor,
            T = ScalarTensor(0.0),
        });
    }

    private TensorProto ScalarTensor(double value)
    {
        var tensor = new TensorProto { DataType = (int)ElementType };
        tensor.Dims.Add(1);
        if (Float64) tensor.DoubleData.Add(value);
        else tensor.FloatData.Add((float)value);
        return tensor;
    }
}
