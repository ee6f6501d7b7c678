using Nabla.Kernels;

namespace Nabla.Tests.Kernels.Attention;

/// <summary>
/// The tiled attention kernel against its plain reference loops (the whole L×S matrix) on sizes that are not
/// multiples of the blocks or the vector width, L ≠ S, every mask kind; bit-identical results for any thread count;
/// and the tensor op's fused path against the composed one.
/// </summary>
public class FlashAttentionTests
{
    // (L, S, E, Ev): single elements, odd sizes, exactly one block, one past a block, several blocks each way
    public static TheoryData<int, int, int, int> Sizes => new()
    {
        { 1, 1, 1, 1 }, { 5, 7, 3, 5 }, { 64, 64, 8, 8 }, { 65, 129, 33, 3 }, { 130, 70, 16, 17 }, { 3, 200, 5, 2 },
    };

    private static double[] Randn(int n, ulong seed) => Tensor.Randn([n], DType.Float64, new Generator(seed)).ToDoubleArray();

    private static IEnumerable<(string Name, AttentionMask<double> Mask)> Masks(int batch, int l, int s)
    {
        yield return ("none", new(null, null, null, 0, false));
        yield return ("causal", new(null, null, null, 0, true));
        // a bool (L, S) mask shared by the batch; key 0 always takes part so no row is fully masked
        var keep = new bool[l * s];
        for (int i = 0; i < keep.Length; i++) keep[i] = i % s == 0 || (i * 7 + 3) % 5 != 0;
        yield return ("bool", new(keep, null, new int[batch], s, false));
        yield return ("bool_causal", new(keep, null, new int[batch], s, true));
        // a float (batch, 1, S) key-padding style mask: row stride 0, one row per batch
        var add = Randn(batch * s, 9);
        yield return ("float_rows", new(null, add, Enumerable.Range(0, batch).Select(b => b * s).ToArray(), 0, false));
    }

    private static void Close(double[] expected, double[] actual, double tol, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        double scale = expected.Select(Math.Abs).DefaultIfEmpty(0).Max() + 1e-30;
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - actual[i]) <= tol * scale, $"{what}[{i}]: expected {expected[i]:G17}, got {actual[i]:G17}");
    }

    [Theory]
    [MemberData(nameof(Sizes))]
    public void KernelMatchesReferenceLoops(int l, int s, int e, int ev)
    {
        // batch 2: the backward's two passes (query blocks, then key blocks); OnePassBatch: one part per batch entry
        foreach (int batch in new[] { 2, FlashAttention.OnePassBatch }) CompareWithReference(batch, l, s, e, ev);
    }

    private static void CompareWithReference(int batch, int l, int s, int e, int ev)
    {
        double scale = 1 / Math.Sqrt(e);
        var (q, k, v, dO) = (Randn(batch * l * e, 1), Randn(batch * s * e, 2), Randn(batch * s * ev, 3), Randn(batch * l * ev, 4));
        foreach (var (name, mask) in Masks(batch, l, s))
        {
            string what = $"B={batch} L={l} S={s} E={e} Ev={ev} {name}";
            var (o, lse) = (new double[batch * l * ev], new double[batch * l]);
            var (oRef, lseRef) = (new double[batch * l * ev], new double[batch * l]);
            FlashAttention.Forward(batch, l, s, e, ev, scale, q, k, v, mask, o, lse);
            FlashAttentionReference.Forward(batch, l, s, e, ev, scale, q, k, v, mask, oRef, lseRef);
            Close(oRef, o, 1e-12, what + " o");
            Close(lseRef, lse, 1e-12, what + " lse");

            var (dq, dk, dv, d) = (new double[q.Length], new double[k.Length], new double[v.Length], new double[batch * l]);
            var (dqRef, dkRef, dvRef) = (new double[q.Length], new double[k.Length], new double[v.Length]);
            FlashAttention.Backward(batch, l, s, e, ev, scale, q, k, v, mask, o, lse, dO, d, dq, dk, dv);
            FlashAttentionReference.Backward(batch, l, s, e, ev, scale, q, k, v, mask, dO, dqRef, dkRef, dvRef);
            Close(dqRef, dq, 1e-11, what + " dq");
            Close(dkRef, dk, 1e-11, what + " dk");
            Close(dvRef, dv, 1e-11, what + " dv");

            // float32 runs the same code at twice the vector width
            float[] F(double[] x) => x.Select(t => (float)t).ToArray();
            var fmask = new AttentionMask<float>(mask.Keep, mask.Add is null ? null : F(mask.Add), mask.BatchOffsets, mask.RowStride, mask.Causal);
            var (of, lsef) = (new float[o.Length], new float[lse.Length]);
            FlashAttention.Forward(batch, l, s, e, ev, (float)scale, F(q), F(k), F(v), fmask, of, lsef);
            Close(oRef, of.Select(t => (double)t).ToArray(), 2e-5, what + " float32 o");
            var (dqf, dkf, dvf) = (new float[q.Length], new float[k.Length], new float[v.Length]);
            FlashAttention.Backward(batch, l, s, e, ev, (float)scale, F(q), F(k), F(v), fmask, of, lsef, F(dO), new float[batch * l], dqf, dkf, dvf);
            Close(dqRef, dqf.Select(t => (double)t).ToArray(), 1e-4, what + " float32 dq");
            Close(dkRef, dkf.Select(t => (double)t).ToArray(), 1e-4, what + " float32 dk");
            Close(dvRef, dvf.Select(t => (double)t).ToArray(), 1e-4, what + " float32 dv");
        }
    }

    [Theory]
    [InlineData(3)]
    [InlineData(FlashAttention.OnePassBatch)]
    public void BitIdenticalForAnyThreadCount(int batch)
    {
        const int l = 150, s = 140, e = 24, ev = 20;
        var (q, k, v, dO) = (Randn(batch * l * e, 1).Select(x => (float)x).ToArray(), Randn(batch * s * e, 2).Select(x => (float)x).ToArray(),
            Randn(batch * s * ev, 3).Select(x => (float)x).ToArray(), Randn(batch * l * ev, 4).Select(x => (float)x).ToArray());
        var mask = new AttentionMask<float>(null, null, null, 0, true);
        float[][] Run()
        {
            var (o, lse) = (new float[batch * l * ev], new float[batch * l]);
            var (dq, dk, dv) = (new float[q.Length], new float[k.Length], new float[v.Length]);
            FlashAttention.Forward(batch, l, s, e, ev, 0.2f, q, k, v, mask, o, lse);
            FlashAttention.Backward(batch, l, s, e, ev, 0.2f, q, k, v, mask, o, lse, dO, new float[batch * l], dq, dk, dv);
            return [o, lse, dq, dk, dv];
        }
        int saved = Threading.MaxThreads;
        try
        {
            Threading.MaxThreads = 1;
            var one = Run();
            Threading.MaxThreads = 4;
            var four = Run();
            for (int i = 0; i < one.Length; i++) Assert.Equal(one[i], four[i]);
        }
        finally
        {
            Threading.MaxThreads = saved;
        }
    }

    public static TheoryData<string> OpCases => new("plain", "bool_mask", "float_mask", "causal", "causal_long_query", "broadcast", "mha_masks");

    [Theory]
    [MemberData(nameof(OpCases))]
    public void FusedOpMatchesComposedValuesAndGradients(string name)
    {
        var g = new Generator(7);
        Tensor R(params int[] shape) => Tensor.Randn(shape, DType.Float64, g);
        var (q, k, v) = name switch
        {
            "causal_long_query" => (R(2, 90, 5), R(2, 67, 5), R(2, 67, 3)),
            "broadcast" => (R(2, 3, 70, 6), R(3, 80, 6), R(1, 3, 80, 4)),
            _ => (R(2, 2, 70, 6), R(2, 2, 100, 6), R(2, 2, 100, 7)),
        };
        int l = q.Shape[^2], s = k.Shape[^2];
        Tensor? mask = name switch
        {
            "bool_mask" => Tensor.FromArray(Enumerable.Range(0, l * s).Select(i => i % s == 0 || i % 3 != 1).ToArray(), l, s),
            "float_mask" => R(2, 1, l, s),
            "mha_masks" => R(2, 1, 1, s) + R(l, s),   // key padding (N, 1, 1, S) plus an (L, S) mask, as MultiheadAttention merges them
            _ => null,
        };
        bool causal = name.StartsWith("causal", StringComparison.Ordinal);
        var inputs = new[] { q, k, v };
        foreach (var t in inputs) t.RequiresGrad = true;
        var fused = Tensor.AttentionFused(q, k, v, mask, causal, 0.45);
        var gout = R(fused.Shape.ToArray());
        (fused * gout).Sum().Backward();
        var fusedGrads = inputs.Select(t => t.Grad!.ToDoubleArray()).ToArray();
        foreach (var t in inputs) t.Grad = null;
        var composed = Tensor.AttentionComposed(q, k, v, mask, 0, causal, 0.45, null).Output;
        (composed * gout).Sum().Backward();

        Close(composed.ToDoubleArray(), fused.ToDoubleArray(), 1e-12, name + " output");
        for (int i = 0; i < 3; i++) Close(inputs[i].Grad!.ToDoubleArray(), fusedGrads[i], 1e-11, name + " grad " + "qkv"[i]);
    }

    [Fact]
    public void FusedPathKeepsNoSquareMatrix()
    {
        // L = S = 1024, E = 16: one L×S float32 matrix is 4 MiB; q, k, v, y and the gradients are 64 KiB each.
        // (Tensors are allocated on the calling thread; the kernel's per-thread tiles were allocated by the warm-up.)
        var g = new Generator(3);
        var (q, k, v) = (Tensor.Randn([1024, 16], generator: g), Tensor.Randn([1024, 16], generator: g), Tensor.Randn([1024, 16], generator: g));
        foreach (var t in new[] { q, k, v }) t.RequiresGrad = true;
        Tensor.ScaledDotProductAttention(q, k, v, isCausal: true).Sum().Backward();   // warm up
        long before = GC.GetAllocatedBytesForCurrentThread();
        Tensor.ScaledDotProductAttention(q, k, v, isCausal: true).Sum().Backward();
        long fused = GC.GetAllocatedBytesForCurrentThread() - before;
        before = GC.GetAllocatedBytesForCurrentThread();
        Tensor.AttentionComposed(q, k, v, null, 0, true, null, null).Output.Sum().Backward();
        long composed = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.True(fused < 2 << 20, $"fused attention allocated {fused} bytes");
        Assert.True(composed > 8 << 20, $"composed attention allocated {composed} bytes");
    }
}
