using Nabla.Kernels;
using Nabla.NN;

namespace Nabla.Tests.Norm;

/// <summary>The fast normalisation kernels against their plain reference loops at every tail length, and determinism across thread counts.</summary>
public class NormKernelTests
{
    private static readonly int[] Lengths = [.. Enumerable.Range(0, 70), 127, 128, 129, 4095, 4097, 9001];

    private static float[] F(int n, ulong seed, double offset = 0) => Tensor.Randn([n], DType.Float32, new Generator(seed)).ToArray().Select(v => (float)(v + offset)).ToArray();

    private static double[] D(int n, ulong seed) => Tensor.Randn([n], DType.Float64, new Generator(seed)).ToDoubleArray();

    private static void Close(double expected, double actual, double tol, string what) =>
        Assert.True(Math.Abs(expected - actual) <= tol, $"{what}: expected {expected:G17}, got {actual:G17}");

    [Fact]
    public void ReductionKernelsMatchReferenceAtEveryLength()
    {
        foreach (int n in Lengths)
        {
            var x = F(n, 1);
            var g = F(n, 2);
            var xd = D(n, 3);
            double scale = Math.Sqrt(n + 1);
            Close(NormKernels.SumReference<float>(x), NormKernels.Sum<float>(x), 1e-5 * scale, $"Sum float n={n}");
            Close(NormKernels.SumReference<double>(xd), NormKernels.Sum<double>(xd), 1e-13 * scale, $"Sum double n={n}");
            Close(NormKernels.SumSqDevReference<float>(x, 0.25), NormKernels.SumSqDev<float>(x, 0.25f), 1e-5 * (n + 1), $"SumSqDev n={n}");
            Close(NormKernels.SumSqDevReference<double>(xd, -0.5), NormKernels.SumSqDev<double>(xd, -0.5), 1e-12 * (n + 1), $"SumSqDev double n={n}");
            var (q1, q2) = NormKernels.SumDevSqReference<float>(x, 0.25);
            var (p1, p2) = NormKernels.SumDevSq<float>(x, 0.25f);
            Close(q1, p1, 1e-5 * scale, $"SumDevSq Σ(x−m) n={n}");
            Close(q2, p2, 1e-5 * (n + 1), $"SumDevSq Σ(x−m)² n={n}");
            var (r1, r2) = NormKernels.SumGradDevReference<float>(g, x, 0.3);
            var (a1, a2) = NormKernels.SumGradDev<float>(g, x, 0.3f);
            Close(r1, a1, 1e-5 * scale, $"SumGradDev Σg n={n}");
            Close(r2, a2, 1e-5 * scale * 2, $"SumGradDev Σg(x−m) n={n}");
            if (n == 0) continue;
            var m = NormKernels.Moments<float>(x, 1, n, n);
            var mr = NormKernels.MomentsReference<float>(x, 1, n, n);
            Close(mr.Mean, m.Mean, 1e-6, $"Moments mean n={n}");
            Close(mr.M2, m.M2, 1e-5 * (n + 1) * 1e-1 + 1e-6, $"Moments M2 n={n}");
        }
    }

    [Fact]
    public void ElementwiseKernelsMatchReferenceAtEveryLength()
    {
        foreach (int n in Lengths)
        {
            var x = F(n, 4);
            var g = F(n, 5);
            var w = F(n, 6);
            var b = F(n, 7);
            var y = new float[n];
            var yr = new float[n];
            NormKernels.ScaleShift<float>(x, 1.5f, -0.25f, y);
            NormKernels.ScaleShiftReference<float>(x, 1.5f, -0.25f, yr);
            AssertAll(yr, y, 1e-6f, $"ScaleShift n={n}");
            NormKernels.LinComb<float>(g, x, 0.7f, -0.2f, 0.1f, y);
            NormKernels.LinCombReference<float>(g, x, 0.7f, -0.2f, 0.1f, yr);
            AssertAll(yr, y, 1e-6f, $"LinComb n={n}");
            NormKernels.RowAffine<float>(x, 1.2f, -0.3f, w, b, y);
            NormKernels.RowAffineReference<float>(x, 1.2f, -0.3f, w, b, yr);
            AssertAll(yr, y, 1e-6f, $"RowAffine n={n}");
            NormKernels.RowBackwardDx<float>(g, x, w, 1.1f, -0.4f, 0.05f, y);
            NormKernels.RowBackwardDxReference<float>(g, x, w, 1.1f, -0.4f, 0.05f, yr);
            AssertAll(yr, y, 1e-6f, $"RowBackwardDx n={n}");
            var dw = F(n, 8);
            var db = F(n, 9);
            var dwr = (float[])dw.Clone();
            var dbr = (float[])db.Clone();
            var (s1, s2) = NormKernels.RowBackwardSums<float>(g, x, w, 0.2f, 1.3f, dw, db);
            var (r1, r2) = NormKernels.RowBackwardSumsReference<float>(g, x, w, 0.2f, 1.3f, dwr, dbr);
            Close(r1, s1, 1e-5 * Math.Sqrt(n + 1), $"RowBackwardSums S1 n={n}");
            Close(r2, s2, 2e-5 * Math.Sqrt(n + 1), $"RowBackwardSums S2 n={n}");
            AssertAll(dwr, dw, 1e-6f, $"RowBackwardSums dw n={n}");
            AssertAll(dbr, db, 1e-6f, $"RowBackwardSums db n={n}");
        }
    }

    private static void AssertAll(float[] expected, float[] actual, float tol, string what)
    {
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - actual[i]) <= tol * (1 + Math.Abs(expected[i])), $"{what}: element {i}: expected {expected[i]:G9}, got {actual[i]:G9}");
    }

    [Fact]
    public void MomentsAreAccurateAcrossChunksAndSegmentsWithALargeMean()
    {
        // 3 segments of 5000 (two chunks each) strided by 6000, mean 1000, std 1: float32 data, float64 answer
        int segLen = 5000, stride = 6000;
        var x = F(2 * stride + segLen, 10, offset: 1000);
        var (mean, m2) = NormKernels.Moments<float>(x, 3, stride, segLen);
        var (rmean, rm2) = NormKernels.MomentsReference<float>(x, 3, stride, segLen);
        Close(rmean, mean, 1e-6, "mean");   // ~1e-6·σ, far below float32's 6e-5 resolution at 1000
        Assert.True(Math.Abs(m2 - rm2) <= 1e-5 * rm2, $"M2: expected {rm2:G17}, got {m2:G17}");
    }

    /// <summary>Forward and backward of every layer, float32, on sizes above the threading threshold.</summary>
    private static double[][] RunAll(DType dtype)
    {
        var results = new List<double[]>();
        void Run(Module m, int[] shape)
        {
            var x = Tensor.Randn(shape, dtype, new Generator(21)).RequireGrad();
            foreach (var p in m.Parameters()) p.Copy(Tensor.Uniform(p.Shape.ToArray(), 0.5, 1.5, dtype, new Generator(22)));
            var y = m.Forward(x);
            var seed = Tensor.Randn(shape, dtype, new Generator(23));
            y.Backward(seed);
            results.Add(y.ToDoubleArray());
            results.Add(x.Grad!.ToDoubleArray());
            foreach (var p in m.Parameters()) results.Add(p.Grad!.ToDoubleArray());
        }
        Run(new BatchNorm2d(5, dtype: dtype), [6, 5, 9, 11]);
        Run(new BatchNorm1d(40, dtype: dtype), [1000, 40]);
        Run(new GroupNorm(3, 6, dtype: dtype), [5, 6, 13, 17]);
        Run(new InstanceNorm2d(4, affine: true, dtype: dtype), [3, 4, 30, 31]);
        Run(new LayerNorm(300, dtype: dtype), [257, 300]);
        Run(new RMSNorm(300, dtype: dtype), [257, 300]);
        var eval = new BatchNorm2d(5, dtype: dtype);
        eval.Forward(Tensor.Randn([4, 5, 30, 30], dtype, new Generator(24)));
        eval.Eval();
        Run(eval, [6, 5, 30, 31]);
        return results.ToArray();
    }

    [Fact]
    public void ResultsAreBitIdenticalForAnyThreadCount()
    {
        int saved = Threading.MaxThreads;
        try
        {
            Threading.MaxThreads = 1;
            var one = RunAll(DType.Float32);
            Threading.MaxThreads = 2;
            var two = RunAll(DType.Float32);
            Threading.MaxThreads = 5;
            var five = RunAll(DType.Float32);
            for (int i = 0; i < one.Length; i++)
            {
                Assert.Equal(one[i], two[i]);
                Assert.Equal(one[i], five[i]);
            }
        }
        finally
        {
            Threading.MaxThreads = saved;
        }
    }

    [Fact]
    public void Float32BackwardMatchesFloat64OnLargeInputs()
    {
        // the vectorised float32 paths (gradcheck's small float64 inputs exercise mostly the double ones)
        var f32 = RunAll(DType.Float32);
        var f64 = RunAll(DType.Float64);
        for (int k = 0; k < f32.Length; k++)
        {
            double scale = f64[k].Max(Math.Abs);
            for (int i = 0; i < f32[k].Length; i++)
                Assert.True(Math.Abs(f32[k][i] - f64[k][i]) <= 1e-4 * scale + 1e-4 * Math.Abs(f64[k][i]),
                    $"result {k} element {i}: float32 {f32[k][i]:G9}, float64 {f64[k][i]:G17}");
        }
    }
}
