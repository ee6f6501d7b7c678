using System.Numerics;
using Nabla.Autograd;
using Nabla.Kernels;

namespace Nabla;

// LayerNorm, fused: per row of the last k dims (D values),
//   forward  y = (x − μ)·r·w + b,  r = 1/√(σ² + ε)
//   backward db = Σ_rows g,  dw = Σ_rows g·x̂,  dx = r·(g·w − Σ(g·w)/D − x̂·Σ(g·w·x̂)/D)
// RMSNorm (Ops/RmsNorm.cs) is the same row machinery with μ = 0 and no Σ(g·w) term. Derivation: docs/normalization.md.
public partial class Tensor
{
    /// <summary>
    /// Layer normalisation (as torch.nn.functional.layer_norm) over the trailing dims given by
    /// <paramref name="normalizedShape"/>, with the biased variance. Shape: input (*, normalized_shape),
    /// weight/bias (normalized_shape) → same as input.
    /// </summary>
    public static Tensor LayerNorm(Tensor input, int[] normalizedShape, Tensor? weight = null, Tensor? bias = null, double eps = 1e-5)
    {
        const string op = "LayerNorm";
        int d = CheckNormalizedShape(op, input, normalizedShape);
        CheckNormParam(op, "weight", weight, normalizedShape, input);
        CheckNormParam(op, "bias", bias, normalizedShape, input);
        if (eps < 0 || double.IsNaN(eps)) throw new ArgumentOutOfRangeException(nameof(eps), $"{op}: eps must be ≥ 0, got {eps}.");
        return RowNorm(op, input, d, normalizedShape, weight, bias, eps, rms: false);
    }

    /// <summary>The product of <paramref name="normalizedShape"/> after checking that it matches the input's trailing dims.</summary>
    internal static int CheckNormalizedShape(string op, Tensor input, int[] normalizedShape)
    {
        ArgumentNullException.ThrowIfNull(normalizedShape);
        int k = normalizedShape.Length;
        if (k == 0 || normalizedShape.Any(s => s <= 0))
            throw new ArgumentException($"{op}: normalized_shape must be non-empty with positive sizes, got {ShapeUtil.Format(normalizedShape)}.");
        if (input.Rank < k || !ShapeUtil.SameShape(input._shape.AsSpan(input.Rank - k), normalizedShape))
            throw new ArgumentException($"{op}: normalized_shape {ShapeUtil.Format(normalizedShape)} does not match the trailing dims of the input of shape {ShapeUtil.Format(input._shape)} (expected input of shape (*, {string.Join(", ", normalizedShape)})).");
        return ShapeUtil.Numel(normalizedShape);
    }

    /// <summary>LayerNorm (<paramref name="rms"/> false) or RMSNorm (true, <paramref name="bias"/> null) over rows of <paramref name="d"/> values.</summary>
    internal static Tensor RowNorm(string op, Tensor input, int d, int[] paramShape, Tensor? weight, Tensor? bias, double eps, bool rms)
    {
        int rows = input.Numel / d;
        var x = input.Detach().Contiguous();
        var y = Uninitialized(input.DType, input._shape.ToArray());
        var mean = new double[rows];
        var rstd = new double[rows];
        DTypeDispatch.Run(op, x.DType, new RowNormForwardOp(x, y, rows, d, weight, bias, eps, rms, mean, rstd));
        return Engine.Record(y, op + "Backward", NormInputs(input, weight, bias), g =>
        {
            // under createGraph the same gradients as graph ops (x̂ and r recomputed from the input), so they can be differentiated
            if (GradMode.IsEnabled) return RowNormGradsAsOps(input, weight, bias, g, paramShape.Length, eps, rms);
            var gc = g.Contiguous();
            Tensor? dx = input.RequiresGrad ? Uninitialized(input.DType, input._shape.ToArray()) : null;
            var dw = new double[d];
            var db = new double[d];
            DTypeDispatch.Run(op, x.DType, new RowNormBackwardOp(gc, x, dx, rows, d, weight, rms, mean, rstd, dw, db));
            return NormGrads(dx, weight, dw, bias, db, paramShape);
        });
    }

    // dx = r·(g·w − mean(g·w) − x̂·mean(g·w·x̂)) over the last k dims (RMSNorm: no mean(g·w) term, x̂ = x·r), dw = Σ g·x̂,
    // db = Σ g over the leading dims
    private static Tensor?[] RowNormGradsAsOps(Tensor input, Tensor? weight, Tensor? bias, Tensor g, int k, double eps, bool rms)
    {
        int[] row = [.. Enumerable.Range(input.Rank - k, k)], lead = [.. Enumerable.Range(0, input.Rank - k)];
        var centred = rms ? input : input - input.Mean(row, keepDim: true);
        var r = 1.0 / ((centred * centred).Mean(row, keepDim: true) + eps).Sqrt();
        var xhat = centred * r;
        var gw = weight is null ? g : g * weight;
        var inner = gw - xhat * (gw * xhat).Mean(row, keepDim: true);
        Tensor SumLead(Tensor t) => lead.Length == 0 ? t : t.Sum(lead);
        var list = new List<Tensor?>(3) { input.RequiresGrad ? r * (rms ? inner : inner - gw.Mean(row, keepDim: true)) : null };
        if (weight is not null) list.Add(weight.RequiresGrad ? SumLead(g * xhat) : null);
        if (bias is not null) list.Add(bias.RequiresGrad ? SumLead(g) : null);
        return [.. list];
    }

    /// <summary>The values of an element-wise parameter as a dense T array, or a constant row when it is null.</summary>
    private static T[] RowParam<T>(Tensor? p, int d, double fill) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (p is not null) return p.Detach().Contiguous().Span<T>().ToArray();
        var a = new T[d];
        a.AsSpan().Fill(Cast<T>(fill));
        return a;
    }

    private static void RowNormForward<T>(Tensor x, Tensor y, int rows, int d, Tensor? weight, Tensor? bias, double eps, bool rms,
        double[] mean, double[] rstd) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var w = RowParam<T>(weight, d, 1);
        var b = RowParam<T>(bias, d, 0);
        int per = RowsPerPart(rows, d), parts = (rows + per - 1) / per;
        NormParallel(parts, (long)rows * d, p =>
        {
            var xs = x.Span<T>();
            var ys = y.Span<T>();
            for (int i = p * per, end = Math.Min(rows, i + per); i < end; i++)
            {
                var row = xs.Slice(i * d, d);
                double mu, r;
                if (rms)
                {
                    // mean square in chunks of T, summed in float64: Σx² has no cancellation to guard against
                    double ss = 0;
                    for (int off = 0; off < d; off += NormKernels.Chunk)
                        ss += double.CreateTruncating(NormKernels.SumSqDev(row.Slice(off, Math.Min(NormKernels.Chunk, d - off)), T.Zero));
                    mu = 0;
                    r = 1 / Math.Sqrt(ss / d + eps);
                }
                else
                {
                    (mu, double m2) = NormKernels.Moments(row, 1, d, d);
                    r = 1 / Math.Sqrt(m2 / d + eps);
                }
                mean[i] = mu;
                rstd[i] = r;
                NormKernels.RowAffine(row, Cast<T>(r), Cast<T>(-mu * r), w, b, ys.Slice(i * d, d));
            }
        });
    }

    private static void RowNormBackward<T>(Tensor g, Tensor x, Tensor? dx, int rows, int d, Tensor? weight, bool rms,
        double[] mean, double[] rstd, double[] dw, double[] db) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var w = RowParam<T>(weight, d, 1);
        int per = RowsPerPart(rows, d), parts = (rows + per - 1) / per;
        // each part adds its rows' shares of dw and db into its own buffers; the parts are summed in order afterwards
        var dwPart = new T[parts * d];
        var dbPart = new T[parts * d];
        NormParallel(parts, (long)rows * d, p =>
        {
            var gs = g.Span<T>();
            var xs = x.Span<T>();
            var dwp = dwPart.AsSpan(p * d, d);
            var dbp = dbPart.AsSpan(p * d, d);
            for (int i = p * per, end = Math.Min(rows, i + per); i < end; i++)
            {
                var gr = gs.Slice(i * d, d);
                var xr = xs.Slice(i * d, d);
                double mu = mean[i], r = rstd[i];
                var (s1, s2) = NormKernels.RowBackwardSums(gr, xr, w, Cast<T>(mu), Cast<T>(r), dwp, dbp);
                if (dx is null) continue;
                // dx = r·g·w + x·k2 + k3, k2 = −r³·Σg·w·(x−μ)/D, k3 = −r·Σg·w/D − μ·k2 (RMSNorm: μ = 0 and no Σg·w term)
                double k2 = -r * r * r * double.CreateTruncating(s2) / d;
                double k3 = rms ? 0 : -r * double.CreateTruncating(s1) / d - mu * k2;
                NormKernels.RowBackwardDx(gr, xr, w, Cast<T>(r), Cast<T>(k2), Cast<T>(k3), dx.Span<T>().Slice(i * d, d));
            }
        });
        for (int p = 0; p < parts; p++)
            for (int j = 0; j < d; j++)
            {
                dw[j] += double.CreateTruncating(dwPart[p * d + j]);
                db[j] += double.CreateTruncating(dbPart[p * d + j]);
            }
    }

    // the kernels above for the dtype picked by DTypeDispatch
    private readonly struct RowNormForwardOp(Tensor x, Tensor y, int rows, int d, Tensor? weight, Tensor? bias, double eps, bool rms,
        double[] mean, double[] rstd) : IFloatOp
    {
        public void Invoke<T>() where T : unmanaged, IFloatingPointIeee754<T> => RowNormForward<T>(x, y, rows, d, weight, bias, eps, rms, mean, rstd);
    }

    private readonly struct RowNormBackwardOp(Tensor g, Tensor x, Tensor? dx, int rows, int d, Tensor? weight, bool rms,
        double[] mean, double[] rstd, double[] dw, double[] db) : IFloatOp
    {
        public void Invoke<T>() where T : unmanaged, IFloatingPointIeee754<T> => RowNormBackward<T>(g, x, dx, rows, d, weight, rms, mean, rstd, dw, db);
    }
}
