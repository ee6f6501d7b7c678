using System.Runtime.CompilerServices;

namespace Nabla.Tests;

internal static class TestSetup
{
    // Every test runs with uninitialised tensor storage poisoned with NaN: a kernel that skips an output element
    // then fails the reference or gradcheck comparison instead of passing on memory that happened to be zero.
    [ModuleInitializer]
    internal static void PoisonUninitializedStorage() => Tensor.PoisonUninitialized = true;
}

public class PoisonedStorageTests
{
    [Fact]
    public void UninitializedStorageIsPoisonedDuringTests()
    {
        Assert.True(Tensor.PoisonUninitialized);
        Assert.All(Tensor.Uninitialized(DType.Float32, [5]).ToArray(), v => Assert.True(float.IsNaN(v)));
        Assert.All(Tensor.Uninitialized(DType.Float64, [2, 3]).ToDoubleArray(), v => Assert.True(double.IsNaN(v)));
    }
}
