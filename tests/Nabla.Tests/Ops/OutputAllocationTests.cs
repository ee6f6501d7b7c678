using Nabla.Tests.Autograd;

namespace Nabla.Tests.Ops;

/// <summary>
/// Op outputs come from the one allocator (<see cref="Tensor.Uninitialized"/> / <see cref="Tensor.Empty"/>), the one
/// the suite's NaN poisoning and the storage pool see. The pool's recorder notes every array that allocator hands
/// out, so an output whose storage the recorder did not note came from somewhere the poisoning cannot reach.
/// (Runs in the storage pool's collection: it rents from the global pool.)
/// </summary>
[Collection(nameof(StoragePoolTests))]
public class OutputAllocationTests
{
    // 3·5·17·19 = 4845 elements: above StoragePool.MinLength and a length no other test uses
    private static readonly int[] Shape = [3, 5, 17, 19];

    public static TheoryData<string> NormOps => ["BatchNorm", "InstanceNorm", "GroupNorm", "LayerNorm", "RmsNorm"];

    private static Tensor Run(string op, Tensor x) => op switch
    {
        "BatchNorm" => Tensor.BatchNorm(x, null, null, training: true),
        "InstanceNorm" => Tensor.InstanceNorm(x),
        "GroupNorm" => Tensor.GroupNorm(x, 5),
        "LayerNorm" => Tensor.LayerNorm(x, [17, 19]),
        _ => Tensor.RmsNorm(x, [19]),
    };

    [Theory]
    [MemberData(nameof(NormOps))]
    public void NormOutputsComeFromThePoisonedAllocator(string op)
    {
        var x = Tensor.Randn(Shape, generator: new Generator(0));
        var previous = StoragePool.BeginRecording();
        Tensor y;
        try
        {
            y = Run(op, x);
            // hands y's array to the pool only when the recorder saw the allocator make it
            StoragePool.Recycle(y);
        }
        finally
        {
            StoragePool.EndRecording(previous);
        }
        Assert.Same(y._storage, StoragePool.Rent(DType.Float32, x.Numel));
    }
}
