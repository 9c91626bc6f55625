namespace NormalizingFlows.Onnx;

/// <summary>What a layer's ONNX description gives: its output value and its log|det J| per row (<c>[batch]</c>, or a rank-0
/// value that the same for every row; null for a volume-preserving layer).</summary>
internal readonly record struct OnnxStep(string Output, string? LogAbsDet);
