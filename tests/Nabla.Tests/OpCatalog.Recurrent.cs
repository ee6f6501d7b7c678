namespace Nabla.Tests;

// The op-catalog entries of the recurrent layers, embedding, clipping.
public static partial class OpCatalog
{
    private static IEnumerable<OpCase> RecurrentCases() => [];
}
