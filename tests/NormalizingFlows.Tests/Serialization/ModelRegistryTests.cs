using System;
using System.Linq;
using System.Text.Json.Nodes;
using NormalizingFlows.Bijectors;
using NormalizingFlows.Distributions;
using NormalizingFlows.Serialization;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace NormalizingFlows.Tests.Serialization;

/// <summary>The type registry: every public library type is registered, and users can register their own.</summary>
public sealed class ModelRegistryTests
{
    [Fact]
    public void Should_Register_Every_Public_Bijector_Distribution_Conditioner_And_Transform_For_Model_Files()
    {
        var kinds = new[] { typeof(Bijector), typeof(Distribution), typeof(Conditioner), typeof(IElementwiseTransform) };
        var types = typeof(Bijector).Assembly.GetTypes()
            .Where(t => t.IsPublic && !t.IsAbstract && !t.IsInterface && kinds.Any(k => k.IsAssignableFrom(t)))
            .ToArray();
        Assert.True(types.Length > 30, $"Found only {types.Length} types; the reflection query is wrong.");
        var missing = types.Where(t => !ModelRegistry.IsRegistered(t)).Select(t => t.FullName).ToArray();
        Assert.True(missing.Length == 0, $"Types that cannot be saved (add them to Serialization/BuiltInTypes.*.cs): {string.Join(", ", missing)}.");
    }

    [Fact]
    public void Should_Round_Trip_A_User_Type_With_A_Registered_Part_When_Registered()
    {
        RegisterScaledWrapper();
        using var scope = torch.NewDisposeScope();
        using var directory = new TemporaryDirectory();
        using var generator = new Generator(2);
        using var flow = new Flow(new StandardNormal(3), new ScaledWrapper(LuLinear.WithRandomPermutation(3, generator), 2.5));
        ModelFiles.Perturb(flow);
        flow.eval();
        flow.Save(directory.File("custom.nflow"));

        var architecture = ModelFile.ReadArchitecture(directory.File("custom.nflow"));
        Assert.Equal("Tests.ScaledWrapper", (string?)architecture["model"]!["bijector"]!["type"]);
        Assert.Equal("LuLinear", (string?)architecture["model"]!["bijector"]!["inner"]!["type"]);
        using var loaded = Flow.Load(directory.File("custom.nflow"));
        var wrapper = Assert.IsType<ScaledWrapper>(loaded.Bijector);
        Assert.Equal(2.5, wrapper.Factor);
        var x = torch.randn(new long[] { 5, 3 }, generator: generator);
        Assert.True(ModelFiles.Identical(flow.LogProb(x), loaded.LogProb(x)));
    }

    [Fact]
    public void Should_Reject_A_Type_Name_That_Belongs_To_Another_Type()
    {
        var error = Assert.Throws<ArgumentException>(() => ModelRegistry.Register<ScaledWrapper>("Chain",
            (b, w) => new JsonObject(), (n, r) => throw new InvalidOperationException()));
        Assert.Contains("'Chain' is already registered", error.Message);
        var second = Assert.Throws<ArgumentException>(() => ModelRegistry.Register<Chain>("MyChain",
            (b, w) => new JsonObject(), (n, r) => throw new InvalidOperationException()));
        Assert.Contains("already registered as 'Chain'", second.Message);
    }

    [Fact]
    public void Should_List_The_Library_Type_Names()
    {
        var names = ModelRegistry.TypeNames;
        foreach (var name in new[] { "Flow", "Chain", "Coupling", "Mlp", "Made", "RationalQuadraticSpline", "StandardNormal" })
            Assert.Contains(name, names);
    }

    private static void RegisterScaledWrapper() =>
        ModelRegistry.Register<ScaledWrapper>("Tests.ScaledWrapper",
            (b, writer) => new JsonObject { ["factor"] = b.Factor, ["inner"] = writer.Describe(b.Inner) },
            (node, reader) => new ScaledWrapper(reader.Build<Bijector>(node, "inner"), reader.Get<double>(node, "factor")));

    /// <summary>A user bijector: an inner bijector followed by a fixed factor and a learnable shift.</summary>
    private sealed class ScaledWrapper : Bijector
    {
        private readonly Bijector inner;
        private readonly Parameter shift;

        public ScaledWrapper(Bijector inner, double factor) : base(nameof(ScaledWrapper), inner.EventShape)
        {
            this.inner = inner;
            Factor = factor;
            shift = new Parameter(torch.zeros(inner.EventShape.ToArray()).DetachFromDisposeScope());
            RegisterComponents();
        }

        public Bijector Inner => inner;

        public double Factor { get; }

        protected internal override (Tensor Output, Tensor LogAbsDet) ForwardCore(Tensor x, Tensor? context)
        {
            var (y, logAbsDet) = inner.ForwardCore(x, context);
            return (y.mul(Factor).add(shift), logAbsDet.add(EventShape[0] * Math.Log(Factor)));
        }

        protected internal override (Tensor Output, Tensor LogAbsDet) InverseCore(Tensor y, Tensor? context)
        {
            var (x, logAbsDet) = inner.InverseCore(y.sub(shift).div(Factor), context);
            return (x, logAbsDet.sub(EventShape[0] * Math.Log(Factor)));
        }
    }
}
