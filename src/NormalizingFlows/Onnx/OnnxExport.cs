using System;
using System.Linq;
using Onnx;
using TorchSharp;

namespace NormalizingFlows.Onnx;

/// <summary>Builds the ONNX model of a flow from its layers' own descriptions (see <see cref="FlowOnnxExtensions.ExportOnnx"/>).</summary>
internal static class OnnxExport
{
    public const string BatchDimension = "batch";
    public const string SampleBatchDimension = "sample_batch";

    /// <summary>The exception of a layer that has no ONNX description: it names the layer and why.</summary>
    public static NotSupportedException NotSupported(object layer, string why) =>
        new($"{layer.GetType().Name} cannot be exported to ONNX: {why}.");

    public static ModelProto Build(Flow flow, OnnxExportOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var graphs = options.Graphs;
        if ((graphs & OnnxGraphs.All) == OnnxGraphs.None || (graphs & ~OnnxGraphs.All) != OnnxGraphs.None)
            throw new ArgumentException($"Expected a combination of LogProb, Sample and SampleWithLogProb in Graphs; got {graphs}.", nameof(options));
        bool density = graphs.HasFlag(OnnxGraphs.LogProb);
        bool sampling = graphs.HasFlag(OnnxGraphs.Sample) || graphs.HasFlag(OnnxGraphs.SampleWithLogProb);
        var proto = new GraphProto { Name = "normalizing_flow" };
        var graph = new OnnxGraph(proto, options.Float64);
        var eventShape = flow.EventShape.ToArray();
        int contextFeatures = flow.ContextFeatures;
        bool defaults = density && sampling;
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        if (density)
        {
            string x = Input(proto, graph, "x", BatchDimension, eventShape, defaults);
            string? context = contextFeatures == 0 ? null : Input(proto, graph, "context", BatchDimension, new long[] { contextFeatures }, defaults);
            graph.Scope = "log_prob";
            var logProb = LogProb(graph, flow, x, context);
            graph.Name(logProb, "log_prob");
            Output(proto, graph, "log_prob", BatchDimension, Array.Empty<long>());
        }
        if (sampling)
        {
            string z = Input(proto, graph, "z", SampleBatchDimension, eventShape, defaults);
            string? context = contextFeatures == 0 ? null : Input(proto, graph, "sample_context", SampleBatchDimension, new long[] { contextFeatures }, defaults);
            graph.Scope = "sample";
            string? baseContext = flow.Base.ContextFeatures == 0 ? null : context;
            string? layerContext = flow.Bijector.ContextFeatures == 0 ? null : context;
            string baseDraw = flow.Base.ExportOnnxFromNoise(graph, z, baseContext);
            foreach (var (name, shape, type) in graph.SampleNoiseInputs)
                Input(proto, graph, name, SampleBatchDimension, shape, defaults, type);
            var (x, logAbsDet) = flow.Bijector.ExportOnnx(graph, baseDraw, layerContext, inverse: false);
            graph.Name(x, "sample");
            Output(proto, graph, "sample", SampleBatchDimension, eventShape);
            if (graphs.HasFlag(OnnxGraphs.SampleWithLogProb))
            {
                string logProb = flow.Base.ExportOnnxLogProb(graph, baseDraw, baseContext);
                if (logAbsDet is not null) logProb = graph.Sub(logProb, logAbsDet);
                graph.Name(logProb, "sample_log_prob");
                Output(proto, graph, "sample_log_prob", SampleBatchDimension, Array.Empty<long>());
            }
        }
        var model = new ModelProto
        {
            IrVersion = 8,
            ProducerName = "NormalizingFlows",
            ProducerVersion = typeof(OnnxExport).Assembly.GetName().Version?.ToString() ?? "0",
            Domain = "org.normalizingflows",
            DocString = "A normalizing flow exported by NormalizingFlows for .NET. Inputs: x [batch, event] (and context) for log_prob; " +
                        "z [sample_batch, event], standard-normal base noise (and sample_context), for sample and sample_log_prob; a Student-t " +
                        "base also takes chi_square [sample_batch, event] (chi-square draws with the degrees of freedom in the metadata " +
                        "entry chi_square_degrees_of_freedom), a Gaussian-mixture base component_uniform [sample_batch] (float64 " +
                        "uniforms in [0, 1) that choose the component by the inverse of the cumulative weights). No random op.",
            Graph = proto,
        };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = OnnxExportOptions.Opset });
        Metadata(model, "event_shape", string.Join(",", eventShape));
        Metadata(model, "context_features", contextFeatures.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Metadata(model, "graphs", graphs.ToString());
        Metadata(model, "float_type", options.Float64 ? "float64" : "float32");
        foreach (var (key, value) in graph.Metadata) Metadata(model, key, value);
        return model;
    }

    /// <summary><c>log q(x)</c> with the library's treatment of rows: a row with a NaN gives NaN, a row with an infinity -inf,
    /// and an overflow inside the flow (NaN) -inf (see <c>Distribution.LogProbOfRows</c> and <c>Flow.LogProbWhole</c>).</summary>
    private static string LogProb(OnnxGraph graph, Flow flow, string x, string? context)
    {
        string? baseContext = flow.Base.ContextFeatures == 0 ? null : context;
        string? layerContext = flow.Bijector.ContextFeatures == 0 ? null : context;
        var (z, logAbsDet) = flow.Bijector.ExportOnnx(graph, x, layerContext, inverse: true);
        string logProb = flow.Base.ExportOnnxLogProb(graph, z, baseContext);
        if (logAbsDet is not null) logProb = graph.Add(logProb, logAbsDet);
        graph.Scope = "log_prob";
        string minusInfinity = graph.Scalar(double.NegativeInfinity);
        logProb = graph.Where(graph.Op("IsNaN", logProb), minusInfinity, logProb);
        logProb = graph.Where(graph.RowFinite(x), logProb, minusInfinity);
        return graph.Where(graph.RowHasNan(x), graph.Scalar(double.NaN), logProb);
    }

    private static string Input(GraphProto proto, OnnxGraph graph, string name, string batch, long[] eventShape, bool withDefault,
        TensorProto.Types.DataType? type = null)
    {
        var elementType = type ?? graph.ElementType;
        proto.Input.Add(ValueInfo(elementType, name, batch, eventShape));
        if (withDefault)
        {
            // An empty batch as the default: a caller that wants only the other outputs need not feed this input.
            var tensor = new TensorProto { Name = name, DataType = (int)elementType };
            tensor.Dims.Add(0);
            tensor.Dims.AddRange(eventShape);
            proto.Initializer.Add(tensor);
        }
        return name;
    }

    private static void Output(GraphProto proto, OnnxGraph graph, string name, string batch, long[] eventShape) =>
        proto.Output.Add(ValueInfo(graph.ElementType, name, batch, eventShape));

    private static ValueInfoProto ValueInfo(TensorProto.Types.DataType elementType, string name, string batch, long[] eventShape)
    {
        var shape = new TensorShapeProto();
        shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimParam = batch });
        foreach (long d in eventShape) shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimValue = d });
        return new ValueInfoProto
        {
            Name = name,
            Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)elementType, Shape = shape } },
        };
    }

    private static void Metadata(ModelProto model, string key, string value) =>
        model.MetadataProps.Add(new StringStringEntryProto { Key = key, Value = value });
}
