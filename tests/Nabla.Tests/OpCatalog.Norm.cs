namespace Nabla.Tests;

// The op-catalog entries of the normalisation layers.
public static partial class OpCatalog
{
    private static IEnumerable<OpCase> NormCases() => [];
}
