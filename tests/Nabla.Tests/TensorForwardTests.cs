namespace Nabla.Tests;

/// <summary>
/// Forward values against independent references: hand-computed examples and plain loops written here over
/// row-major arrays (never the library's kernels), as llm.c checks each kernel against a CPU reference.
/// </summary>
public class TensorForwardTests
{
    // ---- reference helpers: row-major index arithmetic on plain arrays ----

    private static int Numel(int[] shape) => shape.Aggregate(1, (a, b) => a * b);

    private static int[] Unravel(int flat, int[] shape)
    {
        var idx = new int[shape.Length];
        for (int d = shape.Length - 1; d >= 0; d--)
        {
            idx[d] = flat % shape[d];
            flat /= shape[d];
        }
        return idx;
    }

    private static int Ravel(int[] idx, int[] shape)
    {
        int flat = 0;
        for (int d = 0; d < shape.Length; d++) flat = flat * shape[d] + idx[d];
        return flat;
    }

    // the element of a (shape sa) that broadcasting maps to output index outIdx
    private static double At(double[] a, int[] sa, int[] outIdx)
    {
        int lead = outIdx.Length - sa.Length;
        var idx = new int[sa.Length];
        for (int d = 0; d < sa.Length; d++) idx[d] = sa[d] == 1 ? 0 : outIdx[d + lead];
        return a[Ravel(idx, sa)];
    }

    private static double[] Data(Tensor t) => t.ToDoubleArray();

    private static Tensor Randn(ulong seed, params int[] shape) => Tensor.Randn(shape, DType.Float64, new Generator(seed));

    private static void Close(double[] expected, double[] actual, double rel = 1e-12, double abs = 1e-14)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            double err = Math.Abs(expected[i] - actual[i]);
            Assert.True(err <= abs + rel * Math.Abs(expected[i]) || (double.IsNaN(expected[i]) && double.IsNaN(actual[i])),
                $"element {i}: expected {expected[i]:G17}, got {actual[i]:G17} (|diff| {err:G3})");
        }
    }

    // ---- broadcasting arithmetic ----

    public static TheoryData<string> BinaryOps => new() { "add", "sub", "mul", "div", "maximum", "minimum", "pow" };

    [Theory]
    [MemberData(nameof(BinaryOps))]
    public void BroadcastBinaryMatchesLoop(string op)
    {
        Func<double, double, double> f = op switch
        {
            "add" => (x, y) => x + y,
            "sub" => (x, y) => x - y,
            "mul" => (x, y) => x * y,
            "div" => (x, y) => x / y,
            "maximum" => Math.Max,
            "minimum" => Math.Min,
            _ => Math.Pow,
        };
        Func<Tensor, Tensor, Tensor> t = op switch
        {
            "add" => (x, y) => x + y,
            "sub" => (x, y) => x - y,
            "mul" => (x, y) => x * y,
            "div" => (x, y) => x / y,
            "maximum" => Tensor.Maximum,
            "minimum" => Tensor.Minimum,
            _ => Tensor.Pow,
        };
        // [3,1,4] with [2,4], and a transposed (non-contiguous) left operand against a row
        var cases = new (Tensor A, Tensor B)[]
        {
            (Randn(1, 3, 1, 4).Abs() + 0.5, Randn(2, 2, 4)),
            (Randn(3, 5, 3).T.Abs() + 0.5, Randn(4, 5)),
            (Randn(5, 2, 3).Abs() + 0.5, Randn(6)),
        };
        foreach (var (a, b) in cases)
        {
            var y = t(a, b);
            var outShape = y.Shape.ToArray();
            var ad = Data(a);
            var bd = Data(b);
            var expected = new double[Numel(outShape)];
            for (int i = 0; i < expected.Length; i++)
            {
                var idx = Unravel(i, outShape);
                expected[i] = f(At(ad, a.Shape.ToArray(), idx), At(bd, b.Shape.ToArray(), idx));
            }
            Close(expected, Data(y), rel: 1e-14);
        }
    }

    [Fact]
    public void BroadcastShapesAndScalarOperators()
    {
        Assert.Equal([3, 2, 4], (Tensor.Zeros(3, 1, 4) + Tensor.Zeros(2, 4)).Shape.ToArray());
        Assert.Equal([2, 3], (Tensor.Zeros(2, 3) * Tensor.Scalar(1)).Shape.ToArray());
        Assert.Equal([], (Tensor.Scalar(2) + Tensor.Scalar(3)).Shape.ToArray());
        var x = Tensor.FromArray([1.0, 2.0, 4.0]);
        Assert.Equal([3.0, 4.0, 6.0], Data(x + 2));
        Assert.Equal([1.0, 0.0, -2.0], Data(2 - x));
        Assert.Equal([-1.0, 0.0, 2.0], Data(x - 2));
        Assert.Equal([3.0, 6.0, 12.0], Data(3 * x));
        Assert.Equal([2.0, 1.0, 0.5], Data(2 / x));
        Assert.Equal([0.5, 1.0, 2.0], Data(x / 2));
        Assert.Equal([-1.0, -2.0, -4.0], Data(-x));
        Assert.Equal([1.0, 4.0, 16.0], Data(x.Pow(2)));
        Assert.Equal([1.0, 4.0, 16.0], Data(x.Square()));
        Assert.Equal([0.0, 1.0, 1.0], Data(x.Gt(1.5)));
        Assert.Equal([1.0, 1.0, 0.0], Data(x.Le(2)));
        Assert.Equal([0.0, 1.0, 0.0], Data(x.Eq(2)));
        Assert.Equal(5.0, (Tensor.Scalar(2, DType.Float64) + 3).Item());
    }

    [Fact]
    public void MaximumPropagatesNaNAndFloat32Works()
    {
        var a = Tensor.FromArray([1f, float.NaN, 3f]);
        var b = Tensor.FromArray([2f, 0f, float.NaN]);
        var m = Data(Tensor.Maximum(a, b));
        Assert.Equal(2.0, m[0]);
        Assert.True(double.IsNaN(m[1]) && double.IsNaN(m[2]));
        Assert.Equal(DType.Float32, (a + b).DType);
    }

    // ---- element-wise math vs Math.* (every SIMD tail length 0..40, and a non-contiguous input) ----

    public static TheoryData<string> UnaryOps => new() { "exp", "log", "sqrt", "tanh", "sigmoid", "abs", "sin", "cos", "relu", "leaky_relu", "silu", "clamp", "sign", "neg" };

    private static (Func<Tensor, Tensor> Op, Func<double, double> Ref) Unary(string name) => name switch
    {
        "exp" => (t => t.Exp(), Math.Exp),
        "log" => (t => t.Log(), Math.Log),
        "sqrt" => (t => t.Sqrt(), Math.Sqrt),
        "tanh" => (t => t.Tanh(), Math.Tanh),
        "sigmoid" => (t => t.Sigmoid(), v => 1 / (1 + Math.Exp(-v))),
        "abs" => (t => t.Abs(), Math.Abs),
        "sin" => (t => t.Sin(), Math.Sin),
        "cos" => (t => t.Cos(), Math.Cos),
        "relu" => (t => t.Relu(), v => v > 0 ? v : 0),
        "leaky_relu" => (t => t.LeakyRelu(0.2), v => v > 0 ? v : 0.2 * v),
        "silu" => (t => t.Silu(), v => v / (1 + Math.Exp(-v))),
        "clamp" => (t => t.Clamp(-0.3, 0.7), v => Math.Min(Math.Max(v, -0.3), 0.7)),
        "sign" => (t => t.Sign(), v => Math.Sign(v)),
        _ => (t => -t, v => -v),
    };

    [Theory]
    [MemberData(nameof(UnaryOps))]
    public void UnaryMatchesMath(string name)
    {
        var (op, reference) = Unary(name);
        bool positiveOnly = name is "log" or "sqrt";
        for (int n = 0; n <= 40; n++)
        {
            foreach (var dtype in new[] { DType.Float64, DType.Float32 })
            {
                var x = Tensor.Randn([n], DType.Float64, new Generator((ulong)n)) * 2;
                if (positiveOnly) x = x.Abs() + 0.01;
                var xd = Data(x.To(dtype));
                var y = op(x.To(dtype));
                Assert.Equal(dtype, y.DType);
                var expected = xd.Select(reference).ToArray();
                if (dtype == DType.Float64) Close(expected, Data(y), rel: 1e-14, abs: 1e-15);
                else Close(expected, Data(y), rel: 1e-6, abs: 1e-7);
            }
        }
        var strided = Randn(99, 6, 8).Abs().Slice(1, 1, 8, 3).T + 0.01;
        Close(Data(strided).Select(reference).ToArray(), Data(op(strided)), rel: 1e-14, abs: 1e-15);
    }

    [Fact]
    public void ErfMatchesKnownValues()
    {
        var x = Tensor.FromArray([0.0, 0.5, 1.0, 2.0, -3.0, 6.0, -0.5, 1e-10, 4.9, 5.1]);
        var y = Data(x.Erf());
        double[] expected = [0.0, 0.5204998778130465, 0.8427007929497149, 0.9953222650189527, -0.9999779095030014,
            1 - 2.15e-17, -0.5204998778130465, 1.1283791670955126e-10, 1 - 4.218936524005766e-12, 1 - 5.493820217555321e-13];
        Close(expected, y, rel: 1e-15, abs: 1e-16);
        Assert.Equal(1.0, y[5]); // 1 − 2.15e-17 rounds to 1 in float64
        Assert.True(double.IsNaN(Tensor.FromArray([double.NaN]).Erf().Item()));
        Assert.Equal(-1.0, Tensor.FromArray([double.NegativeInfinity]).Erf().Item());
        Close([0.5204998778130465], Data(Tensor.FromArray([0.5f]).Erf()), rel: 1e-7);
    }

    [Fact]
    public void GeluMatchesKnownValues()
    {
        var x = Tensor.FromArray([-2.0, -1.0, -0.5, 0.0, 0.5, 1.0, 3.0]);
        // 0.5·x·(1 + erf(x/√2)) and PyTorch's tanh form, evaluated with Python's math.erf / math.tanh
        Close([-0.04550026389635842, -0.15865525393145707, -0.15426876936299344, 0.0, 0.34573123063700656, 0.8413447460685429, 2.99595030590511],
            Data(x.Gelu()), rel: 1e-14, abs: 1e-16);
        Close([-0.04540230591222494, -0.15880800939172324, -0.15428599017485606, 0.0, 0.34571400982514394, 0.8411919906082768, 2.996362607918227],
            Data(x.Gelu("tanh")), rel: 1e-14, abs: 1e-16);
        Assert.Throws<ArgumentException>(() => x.Gelu("fast"));
    }

    // ---- reductions ----

    [Fact]
    public void ReductionsHandComputed()
    {
        var x = Tensor.FromArray(new double[,] { { 1, 5, 3 }, { 4, 2, 6 } });
        Assert.Equal(21.0, x.Sum().Item());
        Assert.Equal([5.0, 7.0, 9.0], Data(x.Sum(0)));
        Assert.Equal([9.0, 12.0], Data(x.Sum(-1)));
        Assert.Equal([2, 1], x.Sum(1, keepDim: true).Shape.ToArray());
        Assert.Equal(3.5, x.Mean().Item());
        Assert.Equal([2.5, 3.5, 4.5], Data(x.Mean(0)));
        Assert.Equal(3.5, x.Var().Item(), 14); // Σ(x − 3.5)² = 17.5, over n − 1 = 5
        Assert.Equal(17.5 / 6, x.Var(correction: 0).Item(), 14);
        Assert.Equal([4.5, 4.5, 4.5], Data(x.Var([0])));
        var max = x.Max(1);
        Assert.Equal([5.0, 6.0], Data(max.Values));
        Assert.Equal([1.0, 2.0], Data(max.Indices));
        Assert.Equal([1.0, 0.0, 1.0], Data(x.ArgMax(0)));
        Assert.Equal([0.0, 1.0, 0.0], Data(x.ArgMin(0)));
        Assert.Equal([1.0, 2.0], Data(x.Min(1).Values));
        Assert.Equal(6.0, x.Max().Item());
        Assert.Equal(1.0, x.Min().Item());
        Assert.Equal([], x.Max().Shape.ToArray());
        // ties give the first occurrence; NaN wins, as PyTorch
        Assert.Equal(1.0, Tensor.FromArray([1.0, 7.0, 7.0]).ArgMax(0).Item());
        var withNaN = Tensor.FromArray([1.0, double.NaN, 3.0]).Max(0);
        Assert.True(double.IsNaN(withNaN.Values.Item()));
        Assert.Equal(1.0, withNaN.Indices.Item());
        Assert.Equal(4.0, Tensor.Scalar(4).Sum().Item());
        Assert.Equal(0.0, Tensor.Zeros(0).Sum().Item());
    }

    [Fact]
    public void ReductionsOverEachDimMatchLoops()
    {
        var bases = new[] { Randn(7, 2, 3, 4), Randn(8, 4, 2, 3).Permute(1, 2, 0), Randn(9, 2, 6, 4).Slice(1, 1, 6, 2) };
        foreach (var x in bases)
        {
            var shape = x.Shape.ToArray();
            var xd = Data(x);
            for (int d = -3; d < 3; d++)
            {
                int dim = d < 0 ? d + 3 : d;
                var outShape = shape.Where((_, i) => i != dim).ToArray();
                int n = shape[dim], count = Numel(outShape);
                double[] sum = new double[count], mean = new double[count], var = new double[count], max = new double[count], min = new double[count], argmax = new double[count];
                for (int o = 0; o < count; o++)
                {
                    var oi = Unravel(o, outShape).ToList();
                    oi.Insert(dim, 0);
                    var idx = oi.ToArray();
                    var vals = new double[n];
                    for (int k = 0; k < n; k++)
                    {
                        idx[dim] = k;
                        vals[k] = xd[Ravel(idx, shape)];
                    }
                    sum[o] = vals.Sum();
                    mean[o] = sum[o] / n;
                    var (m, s) = (mean[o], 0.0);
                    foreach (var v in vals) s += (v - m) * (v - m);
                    var[o] = s / (n - 1);
                    max[o] = vals.Max();
                    min[o] = vals.Min();
                    argmax[o] = Array.IndexOf(vals, max[o]);
                }
                foreach (bool keep in new[] { false, true })
                {
                    var expectedShape = keep ? shape.Select((v, i) => i == dim ? 1 : v).ToArray() : outShape;
                    Assert.Equal(expectedShape, x.Sum(d, keep).Shape.ToArray());
                    Close(sum, Data(x.Sum(d, keep)));
                    Close(mean, Data(x.Mean(d, keep)));
                    Close(var, Data(x.Var([d], keepDim: keep)));
                    var mx = x.Max(d, keep);
                    Assert.Equal(expectedShape, mx.Values.Shape.ToArray());
                    Assert.Equal(max, Data(mx.Values));
                    Assert.Equal(argmax, Data(mx.Indices));
                    Assert.Equal(min, Data(x.Min(d, keep).Values));
                    Assert.Equal(argmax, Data(x.ArgMax(d, keep)));
                }
            }
            // several dims at once, and all dims
            var s02 = Data(x.Sum([0, 2]));
            for (int j = 0; j < shape[1]; j++)
            {
                double e = 0;
                for (int i = 0; i < shape[0]; i++) for (int k = 0; k < shape[2]; k++) e += xd[Ravel([i, j, k], shape)];
                Assert.Equal(e, s02[j], 12);
            }
            Assert.Equal(xd.Sum(), x.Sum().Item(), 12);
            Assert.Equal([1, 1, 1], x.Sum(null, keepDim: true).Shape.ToArray());
            Assert.Equal(xd.Max(), x.Max().Item());
        }
    }

    // ---- matrix products ----

    // C[b] = A[b]·B[b] by the triple loop, for row-major batches
    private static double[] MatMulRef(double[] a, double[] b, int batch, int m, int k, int n, bool broadcastA = false, bool broadcastB = false)
    {
        var c = new double[batch * m * n];
        for (int p = 0; p < batch; p++)
            for (int i = 0; i < m; i++)
                for (int j = 0; j < n; j++)
                {
                    double s = 0;
                    for (int q = 0; q < k; q++) s += a[(broadcastA ? 0 : p) * m * k + i * k + q] * b[(broadcastB ? 0 : p) * k * n + q * n + j];
                    c[p * m * n + i * n + j] = s;
                }
        return c;
    }

    [Fact]
    public void MatMulHandComputed()
    {
        var a = Tensor.FromArray(new double[,] { { 1, 2 }, { 3, 4 } });
        var b = Tensor.FromArray(new double[,] { { 5, 6 }, { 7, 8 } });
        Assert.Equal([19.0, 22.0, 43.0, 50.0], Data(Tensor.MatMul(a, b)));
        Assert.Equal([26.0, 30.0, 38.0, 44.0], Data(Tensor.MatMul(a.T, b)));
        Assert.Equal(11.0, Tensor.MatMul(Tensor.FromArray([1.0, 2.0]), Tensor.FromArray([3.0, 4.0])).Item());
        Assert.Equal([], Tensor.MatMul(Tensor.FromArray([1.0, 2.0]), Tensor.FromArray([3.0, 4.0])).Shape.ToArray());
        Assert.Equal([4.0, 6.0], Data(Tensor.MatMul(Tensor.FromArray([1.0, 1.0]), a)));
        Assert.Equal([5.0, 11.0], Data(a.MatMul(Tensor.FromArray([1.0, 2.0]))));
    }

    [Theory]
    [InlineData(3, 4, 5)]
    [InlineData(1, 1, 1)]
    [InlineData(17, 33, 9)]
    [InlineData(65, 70, 40)]
    public void MatMulMatchesTripleLoop(int m, int k, int n)
    {
        foreach (var dtype in new[] { DType.Float64, DType.Float32 })
        {
            double rel = dtype == DType.Float64 ? 1e-12 : 1e-5, abs = dtype == DType.Float64 ? 1e-12 : 1e-5;
            var a = Randn(1, m, k).To(dtype);
            var b = Randn(2, k, n).To(dtype);
            var expected = MatMulRef(Data(a), Data(b), 1, m, k, n);
            Close(expected, Data(Tensor.MatMul(a, b)), rel, abs);
            // the same product through transposed views (GEMM transpose flags) and a strided slice (a copy)
            Close(expected, Data(Tensor.MatMul(a.T.Contiguous().T, b.T.Contiguous().T)), rel, abs);
            var wide = Tensor.Cat([a, Tensor.Zeros([m, k], dtype)], 1).Reshape(m, 2, k).Select(1, 0);
            Close(expected, Data(Tensor.MatMul(wide, b)), rel, abs);
            // batched with a broadcast batch dim: [2, 1, m, k] · [3, k, n] → [2, 3, m, n]
            var ab = Randn(3, 2, 1, m, k).To(dtype);
            var bb = Randn(4, 3, k, n).To(dtype);
            var y = Tensor.MatMul(ab, bb);
            Assert.Equal([2, 3, m, n], y.Shape.ToArray());
            var yd = Data(y);
            var ad = Data(ab);
            var bd = Data(bb);
            for (int i = 0; i < 2; i++)
            {
                var expectedI = MatMulRef(ad[(i * m * k)..((i + 1) * m * k)], bd, 3, m, k, n, broadcastA: true);
                Close(expectedI, yd[(i * 3 * m * n)..((i + 1) * 3 * m * n)], rel, abs);
            }
        }
    }

    [Fact]
    public void MatMulOneDimensionalOperandsAndBatches()
    {
        var v = Randn(1, 4);
        var bat = Randn(2, 3, 4, 5);
        var y = Tensor.MatMul(v, bat); // [4] · [3, 4, 5] → [3, 5]
        Assert.Equal([3, 5], y.Shape.ToArray());
        Close(MatMulRef(Data(v), Data(bat), 3, 1, 4, 5, broadcastA: true), Data(y));
        var w = Randn(3, 5);
        var z = Tensor.MatMul(bat, w); // [3, 4, 5] · [5] → [3, 4]
        Assert.Equal([3, 4], z.Shape.ToArray());
        Close(MatMulRef(Data(bat), Data(w), 3, 4, 5, 1, broadcastB: true), Data(z));
    }

    [Fact]
    public void LinearMatchesLoop()
    {
        var x = Randn(1, 2, 3, 4);
        var w = Randn(2, 5, 4);
        var b = Randn(3, 5);
        var xd = Data(x);
        var wd = Data(w);
        var bd = Data(b);
        var expected = new double[6 * 5];
        var expectedNoBias = new double[6 * 5];
        for (int r = 0; r < 6; r++)
            for (int o = 0; o < 5; o++)
            {
                double s = 0;
                for (int i = 0; i < 4; i++) s += xd[r * 4 + i] * wd[o * 4 + i];
                expectedNoBias[r * 5 + o] = s;
                expected[r * 5 + o] = s + bd[o];
            }
        var y = Tensor.Linear(x, w, b);
        Assert.Equal([2, 3, 5], y.Shape.ToArray());
        Close(expected, Data(y));
        Close(expectedNoBias, Data(Tensor.Linear(x, w)));
        Close(expected, Data(Tensor.Linear(x, w.T.Contiguous().T, b)));
    }

    // ---- views ----

    [Fact]
    public void ViewsShareStorageAndReadTheRightElements()
    {
        var x = Tensor.Arange(12, DType.Float64).Reshape(3, 4);
        var t = x.T;
        Assert.Same(x._storage, t._storage);
        Assert.False(t.IsContiguous);
        Assert.Equal([4, 3], t.Shape.ToArray());
        Assert.Equal([0.0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11], Data(t.Contiguous()));
        Assert.True(t.Contiguous().IsContiguous);
        Assert.Equal(9.0, t[1, 2]);
        // a write into the base shows through every view
        x.Buffer<double>()[6] = 100;
        Assert.Equal(100.0, t[2, 1]);
        Assert.Equal(100.0, x.Slice(1, 0, 4, 2)[1, 1]);
        x.Buffer<double>()[6] = 6;

        Assert.Equal([1.0, 3, 5, 7, 9, 11], Data(x.Slice(1, 1, 4, 2)));
        Assert.Equal([4.0, 5, 6, 7, 8, 9, 10, 11], Data(x.Slice(0, -2, 100)));
        Assert.Equal([1.0, 2, 5, 6, 9, 10], Data(x.Narrow(1, 1, 2)));
        Assert.Equal([2.0, 6, 10], Data(x.Select(1, -2)));
        Assert.Same(x._storage, x.Select(0, 1)._storage);
        Assert.Equal([1, 3, 1, 4], x.Unsqueeze(0).Unsqueeze(-2).Shape.ToArray());
        Assert.Equal([3, 4], x.Unsqueeze(0).Unsqueeze(-2).Squeeze().Shape.ToArray());
        Assert.Equal([3, 1, 4], x.Unsqueeze(1).Squeeze(0).Shape.ToArray());
        var p = Tensor.Arange(24, DType.Float64).Reshape(2, 3, 4).Permute(2, 0, 1);
        Assert.Equal([4, 2, 3], p.Shape.ToArray());
        Assert.Equal(1 * 12 + 2 * 4 + 3.0, p[3, 1, 2]);
        Assert.Equal(p[3, 1, 2], p.Contiguous()[3, 1, 2]);
        Assert.Equal([2, 12], Tensor.Zeros(2, 3, 4).Flatten(1).Shape.ToArray());
        Assert.Equal([6, 4], Tensor.Zeros(2, 3, 4).Flatten(0, 1).Shape.ToArray());
        Assert.Equal([1], Tensor.Scalar(1).Flatten().Shape.ToArray());

        // reshape: a view when contiguous, a copy otherwise; View refuses non-contiguous
        Assert.Same(x._storage, x.Reshape(2, -1)._storage);
        Assert.Equal([0.0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11], Data(t.Reshape(-1)));
        Assert.NotSame(x._storage, t.Reshape(-1)._storage);
        Assert.Throws<InvalidOperationException>(() => t.View(12));

        // expand: stride 0, no copy
        var e = Tensor.FromArray([1.0, 2.0, 3.0], 3, 1).Expand(2, 3, 4);
        Assert.Equal([0, 1, 0], e.Strides.ToArray());
        Assert.Equal([2, 3, 4], e.Shape.ToArray());
        Assert.Equal(3.0, e[1, 2, 3]);
        Assert.Equal(Enumerable.Range(0, 24).Select(i => (double)(i / 4 % 3 + 1)).ToArray(), Data(e));
        Assert.Equal([3, 4], Tensor.Zeros(3, 1).Expand(-1, 4).Shape.ToArray());

        // To converts and copies
        var f = x.To(DType.Float32);
        Assert.Equal(DType.Float32, f.DType);
        Assert.Equal(Data(x), Data(f));
        Assert.Same(x, x.To(DType.Float64));
        var c = x.Clone();
        Assert.NotSame(x._storage, c._storage);
        Assert.Equal(Data(x), Data(c));
    }

    // ---- joining and indexing ----

    [Fact]
    public void CatStackSplit()
    {
        var a = Tensor.FromArray(new double[,] { { 1, 2 }, { 3, 4 } });
        var b = Tensor.FromArray(new double[,] { { 5 }, { 6 } });
        Assert.Equal([1.0, 2, 5, 3, 4, 6], Data(Tensor.Cat([a, b], 1)));
        Assert.Equal([1.0, 2, 5, 3, 4, 6], Data(Tensor.Cat([a, b], -1)));
        Assert.Equal([1.0, 2, 3, 4, 1, 3, 2, 4], Data(Tensor.Cat([a, a.T], 0)));
        Assert.Equal([2, 2, 2], Tensor.Stack([a, a.T], 0).Shape.ToArray());
        var s1 = Tensor.Stack([a, a * 10], 1);
        Assert.Equal([2, 2, 2], s1.Shape.ToArray());
        Assert.Equal([1.0, 2, 10, 20, 3, 4, 30, 40], Data(s1));
        var s2 = Tensor.Stack([a, a * 10], -1);
        Assert.Equal([1.0, 10, 2, 20, 3, 30, 4, 40], Data(s2));
        var x = Tensor.Arange(10, DType.Float64).Reshape(2, 5);
        var parts = x.Split(2, 1);
        Assert.Equal(3, parts.Length);
        Assert.Equal([0.0, 1, 5, 6], Data(parts[0]));
        Assert.Equal([4.0, 9], Data(parts[2]));
        Assert.Same(x._storage, parts[1]._storage);
        var sized = x.Split([1, 4], -1);
        Assert.Equal([0.0, 5], Data(sized[0]));
        Assert.Equal([1.0, 2, 3, 4, 6, 7, 8, 9], Data(sized[1]));
        Assert.Throws<ArgumentException>(() => x.Split([2, 2], 1));
        Assert.Throws<ArgumentException>(() => Tensor.Cat([a, Tensor.Zeros([3, 1], DType.Float64)], 1));
        Assert.Throws<ArgumentException>(() => Tensor.Stack([a, b]));
    }

    [Fact]
    public void GatherAndIndexSelect()
    {
        var x = Tensor.FromArray(new double[,] { { 1, 2, 3 }, { 4, 5, 6 } });
        var g1 = x.Gather(1, Tensor.FromArray([2.0, 2, 0, 1, 0, 0], 2, 3));
        Assert.Equal([3.0, 3, 1, 5, 4, 4], Data(g1));
        var g0 = x.Gather(0, Tensor.FromArray([1.0, 0, 1], 1, 3));
        Assert.Equal([4.0, 2, 6], Data(g0));
        Assert.Equal([3.0, 6], Data(x.Gather(1, Tensor.FromArray([-1.0, -1], 2, 1))));
        Assert.Equal([1.0, 2, 4, 5], Data(x.T.Gather(0, Tensor.FromArray([0.0, 0, 1, 1], 2, 2)).T.Contiguous()));
        Assert.Equal([4.0, 5, 6, 1, 2, 3, 4, 5, 6], Data(x.IndexSelect(0, Tensor.FromArray([1.0, 0, 1]))));
        Assert.Equal([3.0, 1, 6, 4], Data(x.IndexSelect(1, Tensor.FromArray([2.0, 0]))));
        Assert.Equal([2, 0], x.IndexSelect(1, Tensor.Zeros([0], DType.Float64)).Shape.ToArray());
        Assert.Throws<IndexOutOfRangeException>(() => x.Gather(1, Tensor.FromArray([3.0, 0], 2, 1)));
        Assert.Throws<ArgumentException>(() => x.Gather(1, Tensor.FromArray([0.5, 0], 2, 1)));
        Assert.Throws<IndexOutOfRangeException>(() => x.IndexSelect(0, Tensor.FromArray([2.0])));
    }

    // ---- softmax ----

    [Fact]
    public void SoftmaxMatchesExpOverSumAndIsStable()
    {
        var x = Randn(5, 3, 4) * 3;
        var xd = Data(x);
        foreach (int dim in new[] { 0, 1, -1 })
        {
            int d = dim < 0 ? 1 : dim;
            var y = Data(x.Softmax(dim));
            var logY = Data(x.LogSoftmax(dim));
            for (int i = 0; i < 3; i++)
                for (int j = 0; j < 4; j++)
                {
                    double sum = 0;
                    for (int k = 0; k < (d == 0 ? 3 : 4); k++) sum += Math.Exp(d == 0 ? xd[k * 4 + j] : xd[i * 4 + k]);
                    double e = Math.Exp(xd[i * 4 + j]) / sum;
                    Assert.Equal(e, y[i * 4 + j], 14);
                    Assert.Equal(Math.Log(e), logY[i * 4 + j], 13);
                }
            var rowSums = Data(x.Softmax(dim).Sum(dim));
            foreach (var s in rowSums) Assert.Equal(1.0, s, 14);
        }
        // large logits: no overflow (the max is subtracted first)
        var big = Tensor.FromArray([1000f, 1001f, 999f]);
        var p = Data(big.Softmax(0));
        Assert.All(p, v => Assert.True(double.IsFinite(v)));
        Close([0.24472847, 0.66524096, 0.09003057], p, rel: 1e-6);
        Close([-1.40760596, -0.40760596, -2.40760596], Data(big.LogSoftmax(-1)), rel: 1e-6);
        var t3 = Randn(6, 2, 3, 4);
        foreach (var s in Data(t3.Softmax(0).Sum(0))) Assert.Equal(1.0, s, 14);
    }

    // ---- creation ----

    [Fact]
    public void CreationFunctions()
    {
        var z = Tensor.Zeros(2, 3);
        Assert.Equal(DType.Float32, z.DType);
        Assert.Equal([2, 3], z.Shape.ToArray());
        Assert.All(Data(z), v => Assert.Equal(0.0, v));
        Assert.All(Data(Tensor.Ones([4], DType.Float64)), v => Assert.Equal(1.0, v));
        Assert.Equal(DType.Float64, Tensor.Ones([4], DType.Float64).DType);
        Assert.Equal([2.5, 2.5], Data(Tensor.Full([2], 2.5)));
        Assert.Equal(7.0, Tensor.Scalar(7).Item());
        Assert.Equal(0, Tensor.Scalar(7).Rank);
        Assert.Equal([0.0, 1, 2, 3], Data(Tensor.Arange(4)));
        Assert.Equal([1.0, 1.5, 2.0, 2.5], Data(Tensor.Arange(1, 3, 0.5, DType.Float64)));
        Assert.Equal([5.0, 3.0, 1.0], Data(Tensor.Arange(5, 0, -2)));
        Assert.Empty(Data(Tensor.Arange(3, 3)));
        Assert.Throws<ArgumentException>(() => Tensor.Arange(0, 1, 0));
        var fa = Tensor.FromArray([1.0, 2, 3, 4, 5, 6], 2, 3);
        Assert.Equal(6.0, fa[1, 2]);
        Assert.Equal(4.0, fa[-1, 0]);
        Assert.Equal([3], Tensor.FromArray([1f, 2f, 3f]).Shape.ToArray());
        Assert.Throws<ArgumentException>(() => Tensor.FromArray([1.0, 2, 3], 2, 2));
        Assert.Throws<ArgumentException>(() => Tensor.Zeros(2, -1));
        var src = new[] { 1f, 2f };
        var copy = Tensor.FromArray(src);
        src[0] = 9;
        Assert.Equal(1.0, copy[0]); // FromArray copies
        Assert.Equal([2, 2], Tensor.ZerosLike(Tensor.FromArray(new float[,] { { 1, 2 }, { 3, 4 } })).Shape.ToArray());
        Assert.Equal([3, 2], Tensor.OnesLike(fa.T).Shape.ToArray());
        Assert.All(Data(Tensor.OnesLike(fa.T)), v => Assert.Equal(1.0, v));
    }

    [Fact]
    public void RandomCreationIsSeededAndHasTheRightMoments()
    {
        const int n = 100_000;
        var x = Data(Tensor.Randn([n], DType.Float64, new Generator(42)));
        double mean = x.Average();
        double std = Math.Sqrt(x.Sum(v => (v - mean) * (v - mean)) / (n - 1));
        // standard errors: mean 1/√n ≈ 0.0032, std 1/√(2n) ≈ 0.0022; 5 of them
        Assert.InRange(mean, -0.016, 0.016);
        Assert.InRange(std, 0.989, 1.011);
        Assert.InRange(x.Count(v => Math.Abs(v) < 1) / (double)n, 0.6827 - 0.008, 0.6827 + 0.008);
        Assert.Equal(x, Data(Tensor.Randn([n], DType.Float64, new Generator(42))));
        Assert.NotEqual(x[..10], Data(Tensor.Randn([10], DType.Float64, new Generator(43))));
        Tensor.ManualSeed(7);
        var a = Data(Tensor.Randn([5]));
        Tensor.ManualSeed(7);
        Assert.Equal(a, Data(Tensor.Randn([5])));

        var u = Data(Tensor.Rand([n], DType.Float64, new Generator(1)));
        Assert.All(u, v => Assert.True(v >= 0 && v < 1));
        Assert.InRange(u.Average(), 0.5 - 0.005, 0.5 + 0.005);
        var un = Data(Tensor.Uniform([1000], -2, 3, DType.Float32, new Generator(2)));
        Assert.All(un, v => Assert.InRange(v, -2.0, 3.0));
        var ri = Data(Tensor.RandInt(-3, 4, [1000], DType.Float32, new Generator(3)));
        Assert.All(ri, v => Assert.True(v == Math.Floor(v) && v >= -3 && v < 4));
        Assert.Equal(7, ri.Distinct().Count());
    }

    // ---- printing, as PyTorch ----

    [Fact]
    public void ToStringPrintsLikePyTorch()
    {
        Assert.Equal("tensor([1., 2., 3.])", Tensor.FromArray([1f, 2f, 3f]).ToString());
        Assert.Equal("tensor([[ 0.1000, -1.2000],\n        [ 3.0000,  4.0000]])", Tensor.FromArray(new float[,] { { 0.1f, -1.2f }, { 3f, 4f } }).ToString());
        Assert.Equal("tensor(3.)", Tensor.Scalar(3).ToString());
        Assert.Equal("tensor(0.5000)", Tensor.Scalar(0.5).ToString());
        Assert.Equal("tensor([0., 0.])", Tensor.Zeros(2).ToString());
        Assert.Equal("tensor([-1.,  2.])", Tensor.FromArray([-1f, 2f]).ToString());
        Assert.Equal("tensor([  1., 100.])", Tensor.FromArray([1f, 100f]).ToString());
        Assert.Equal("tensor([1.0000e-05, 1.0000e+00])", Tensor.FromArray([1e-5f, 1f]).ToString());
        Assert.Equal("tensor([1.0000e+00, 1.0000e+04])", Tensor.FromArray([1f, 1e4f]).ToString());
        Assert.Equal("tensor([1., nan, inf])", Tensor.FromArray([1f, float.NaN, float.PositiveInfinity]).ToString());
        Assert.Equal("tensor([0.0000, 0.5000])", Tensor.FromArray([0f, 0.5f]).ToString());
        Assert.Equal("tensor([])", Tensor.Zeros(0).ToString());
        Assert.Equal("tensor([], size=(2, 0))", Tensor.Zeros(2, 0).ToString());
        Assert.Equal("tensor([[[1., 2.],\n         [3., 4.]],\n\n        [[5., 6.],\n         [7., 8.]]])",
            Tensor.Arange(1, 9).Reshape(2, 2, 2).ToString());
        Assert.Equal("tensor([1., 2.], dtype=float64)", Tensor.FromArray([1.0, 2.0]).ToString());
        var leaf = Tensor.FromArray([1f, 2f]).RequireGrad();
        Assert.Equal("tensor([1., 2.], requires_grad=True)", leaf.ToString());
        Assert.Equal("tensor([2., 4.], grad_fn=<MulBackward>)", (leaf * 2).ToString());
        // rows wrap at 80 columns: (80 − 7) / (width 3 + 2) = 14 entries per line
        Assert.Equal("tensor([ 0.,  1.,  2.,  3.,  4.,  5.,  6.,  7.,  8.,  9., 10., 11., 12., 13.,\n        14., 15., 16., 17., 18., 19.])",
            Tensor.Arange(20).ToString());
        // more than 1000 elements: three at each edge (values chosen so the range stays below PyTorch's 1000× sci threshold)
        Assert.Equal("tensor([1000., 1001., 1002.,  ..., 2998., 2999., 3000.])", Tensor.Arange(1000, 3001).ToString());
        Assert.Equal("tensor([[1001., 1002., 1003.,  ..., 1038., 1039., 1040.],\n"
            + "        [1041., 1042., 1043.,  ..., 1078., 1079., 1080.],\n"
            + "        [1081., 1082., 1083.,  ..., 1118., 1119., 1120.],\n"
            + "        ...,\n"
            + "        [2081., 2082., 2083.,  ..., 2118., 2119., 2120.],\n"
            + "        [2121., 2122., 2123.,  ..., 2158., 2159., 2160.],\n"
            + "        [2161., 2162., 2163.,  ..., 2198., 2199., 2200.]])",
            Tensor.Arange(1001, 2201).Reshape(30, 40).ToString());
    }
}
