// One test at a time in this assembly. TorchSharp 0.107 passes a temporary Scalar (e.g. the alpha of Tensor.add) to libtorch
// by its handle only, so a garbage collection triggered by another thread can finalize and free that Scalar during the
// native call (seen once: "Expected false to be true" from Scalar::toFloat inside THSTensor_add while a demo ran beside
// other test classes). Without parallel neighbours no other thread allocates during a call, which closes that window.
[assembly: Xunit.CollectionBehavior(DisableTestParallelization = true)]
