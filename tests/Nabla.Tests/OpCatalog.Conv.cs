namespace Nabla.Tests;

// The op-catalog entries of the convolution, pooling, dropout.
public static partial class OpCatalog
{
    private static IEnumerable<OpCase> ConvCases() => [];
}
