using System.Linq;
using TorchSharp;
using static TorchSharp.torch;

namespace NormalizingFlows.Internal;

/// <summary>Reads the element type and device a module's tensors live on.</summary>
internal static class ModuleTensors
{
    /// <summary>The dtype and device of the module's first parameter or buffer (float32 on the CPU if it has none).</summary>
    public static (ScalarType DType, Device Device) Placement(nn.Module module)
    {
        var tensor = module.parameters().Cast<Tensor>().FirstOrDefault(t => t.is_floating_point())
            ?? module.buffers().FirstOrDefault(t => t.is_floating_point());
        return tensor is null ? (ScalarType.Float32, torch.CPU) : (tensor.dtype, tensor.device);
    }
}
