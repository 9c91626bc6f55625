using NormalizingFlows.Bijectors;
using NormalizingFlows.Conditioners;
using NormalizingFlows.Transforms;
using TorchSharp;
using static TorchSharp.torch;

namespace NormalizingFlows.Tests.Support;

public static partial class BijectorRegistry
{
    private static readonly RationalQuadraticSpline SmallSpline = new(bins: 4, bound: 3.0);
    private static readonly AffineTransform SoftClamped = new(ScaleMap.SoftClamp);

    /// <summary>A small image coupling: a conv net with 8 hidden channels and one residual block.</summary>
    private static ImageCoupling SmallImageCoupling(int c, int h, int w, ImageMask mask, Generator g, IElementwiseTransform? transform = null, int context = 0) =>
        ImageCoupling.WithConvNet(c, h, w, mask, hiddenChannels: 8, residualBlocks: 1, contextFeatures: context, transform: transform, generator: g);

    private static Tensor IntoUnitInterval(Tensor draws) => draws.sigmoid();

    private static readonly BijectorCase[] ImagesCases =
    {
        // Squeeze: Forward is depth-to-space [4C, H/2, W/2] -> [C, H, W]; its inversion goes the other way.
        new("squeeze", _ => new Squeeze(2, 4, 4), 32) { EventShape = new long[] { 8, 2, 2 }, OutputShape = new long[] { 2, 4, 4 } },
        new("squeeze-inverted", _ => new Invert(new Squeeze(1, 4, 6)), 24) { EventShape = new long[] { 1, 4, 6 }, OutputShape = new long[] { 4, 2, 3 } },
        new("squeeze-chain-round-trip", g => new Chain(new Invert(new Squeeze(1, 4, 4)), SmallImageCoupling(4, 2, 2, ImageMask.LastChannels, g), new Squeeze(1, 4, 4)), 16)
            { EventShape = new long[] { 1, 4, 4 } },
        new("image-coupling-checkerboard-even-affine", g => SmallImageCoupling(2, 4, 4, ImageMask.CheckerboardEven, g), 32) { EventShape = new long[] { 2, 4, 4 } },
        new("image-coupling-checkerboard-odd-affine", g => SmallImageCoupling(1, 4, 4, ImageMask.CheckerboardOdd, g), 16) { EventShape = new long[] { 1, 4, 4 } },
        new("image-coupling-checkerboard-odd-sizes", g => SmallImageCoupling(2, 3, 3, ImageMask.CheckerboardOdd, g, AdditiveTransform.Instance), 18)
            { EventShape = new long[] { 2, 3, 3 } },
        new("image-coupling-last-channels-affine", g => SmallImageCoupling(3, 2, 2, ImageMask.LastChannels, g), 12) { EventShape = new long[] { 3, 2, 2 } },
        new("image-coupling-first-channels-affine", g => SmallImageCoupling(3, 2, 2, ImageMask.FirstChannels, g), 12) { EventShape = new long[] { 3, 2, 2 } },
        new("image-coupling-channels-glow-sigmoid", g => SmallImageCoupling(4, 2, 2, ImageMask.FirstChannels, g, new AffineTransform(ScaleMap.Sigmoid)), 16)
            { EventShape = new long[] { 4, 2, 2 } },
        new("image-coupling-checkerboard-spline", g => SmallImageCoupling(1, 4, 4, ImageMask.CheckerboardEven, g, SmallSpline), 16) { EventShape = new long[] { 1, 4, 4 } },
        new("image-coupling-channels-spline", g => SmallImageCoupling(2, 2, 2, ImageMask.LastChannels, g, SmallSpline), 8) { EventShape = new long[] { 2, 2, 2 } },
        new("image-coupling-checkerboard-tanh-bounded", g => SmallImageCoupling(1, 2, 4, ImageMask.CheckerboardOdd, g, new TanhBoundedAffineTransform(4)), 8)
            { EventShape = new long[] { 1, 2, 4 } },
        new("image-coupling-checkerboard-context", g => SmallImageCoupling(1, 4, 4, ImageMask.CheckerboardEven, g, context: 3), 16, 3) { EventShape = new long[] { 1, 4, 4 } },
        new("image-coupling-channels-context", g => SmallImageCoupling(2, 2, 2, ImageMask.FirstChannels, g, context: 2), 8, 2) { EventShape = new long[] { 2, 2, 2 } },
        new("image-coupling-conv-net-no-blocks", g => new ImageCoupling(2, 2, 2, ImageMask.LastChannels,
            new ConvNet(1, 2, hiddenChannels: 6, residualBlocks: 0, activation: Activation.Elu, generator: g), AffineTransform.Instance), 8) { EventShape = new long[] { 2, 2, 2 } },
        new("factor-out", g => new FactorOut(SmallImageCoupling(2, 2, 2, ImageMask.LastChannels, g), 4), 16) { EventShape = new long[] { 4, 2, 2 } },
        new("factor-out-squeezing-inner", g => new FactorOut(new Chain(new Invert(new Squeeze(1, 4, 4)), SmallImageCoupling(4, 2, 2, ImageMask.FirstChannels, g, SoftClamped),
            new Squeeze(1, 4, 4), SmallImageCoupling(1, 4, 4, ImageMask.CheckerboardOdd, g, SoftClamped)), 2), 32) { EventShape = new long[] { 2, 4, 4 } },
        new("factor-out-context", g => new FactorOut(SmallImageCoupling(1, 2, 2, ImageMask.CheckerboardEven, g, context: 2), 3), 12, 2) { EventShape = new long[] { 3, 2, 2 } },
        new("logit-preprocessing", _ => new LogitPreprocessing(2, 2, 2), 8) { EventShape = new long[] { 2, 2, 2 }, DataDomain = IntoUnitInterval },
        new("logit-preprocessing-alpha-zero-flat", _ => new LogitPreprocessing(new long[] { 5 }, alpha: 0.0), 5) { DataDomain = IntoUnitInterval },
        // Without the logit end: perturbed weights push base points so far out that sigmoid rounds to 1 and Forward cannot be undone
        // (a float limit, not a bug); glow-image-chain keeps the logit end and logit-preprocessing covers it alone.
        new("multiscale-real-nvp-chain", _ => Flows.MultiscaleRealNvp(1, 4, 4, scales: 2, stepsPerScale: 2, hiddenChannels: 6, seed: 3, logitPreprocessing: false).Bijector, 16)
            { EventShape = new long[] { 1, 4, 4 } },
        new("multiscale-real-nvp-chain-context", _ => Flows.MultiscaleRealNvp(1, 4, 4, scales: 2, stepsPerScale: 1, hiddenChannels: 6, seed: 4,
            logitPreprocessing: false, contextFeatures: 2).Bijector, 16, 2) { EventShape = new long[] { 1, 4, 4 } },
        new("glow-image-chain", _ => Flows.GlowImage(1, 4, 4, scales: 2, stepsPerScale: 1, hiddenChannels: 6, seed: 5).Bijector, 16)
            { EventShape = new long[] { 1, 4, 4 }, DataDomain = IntoUnitInterval },
    };
}
