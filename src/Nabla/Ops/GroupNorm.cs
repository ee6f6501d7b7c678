using System.Numerics;
using Nabla.Autograd;
using Nabla.Kernels;

namespace Nabla;

// GroupNorm, fused: per sample n and group of C/G channels, over its M = (C/G)·L values,
//   forward  y = (x − μ)·r·w_c + b_c,  r = 1/√(σ² + ε)
//   backward db_c = Σ_n,l g,  dw_c = Σ_n,l g·x̂,  dx = r·(g·w_c − Σ(g·w)/M − x̂·Σ(g·w·x̂)/M)
// InstanceNorm is the case G = C (plus optional running statistics; in eval with them it is BatchNorm's eval).
public partial class Tensor
{
    /// <summary>
    /// Group normalisation (as torch.nn.functional.group_norm): the channels are split into <paramref name="numGroups"/>
    /// groups and each sample's group is normalised by its own mean and biased variance, then scaled per channel.
    /// Shape: input (N, C, *) with C divisible by numGroups, weight/bias (C) → (N, C, *).
    /// </summary>
    public static Tensor GroupNorm(Tensor input, int numGroups, Tensor? weight = null, Tensor? bias = null, double eps = 1e-5) =>
        GroupNormCore("GroupNorm", input, numGroups, weight, bias, eps, out _, out _);

    /// <summary>
    /// Instance normalisation (as torch.nn.functional.instance_norm): each sample's channel is normalised by its own
    /// statistics when <paramref name="useInputStats"/> (then the running statistics, if given, are updated in place
    /// with the per-instance mean and unbiased variance averaged over the batch), else by the running statistics.
    /// Shape: input (N, C, *), weight/bias/running stats (C) → (N, C, *).
    /// </summary>
    public static Tensor InstanceNorm(Tensor input, Tensor? runningMean = null, Tensor? runningVar = null, Tensor? weight = null, Tensor? bias = null,
        bool useInputStats = true, double momentum = 0.1, double eps = 1e-5) =>
        InstanceNorm(input, runningMean, runningVar, weight, bias, useInputStats, momentum, eps, "InstanceNorm");

    /// <summary>InstanceNorm with <paramref name="op"/> naming the caller (InstanceNorm1d/2d) in errors and the graph node.</summary>
    internal static Tensor InstanceNorm(Tensor input, Tensor? runningMean, Tensor? runningVar, Tensor? weight, Tensor? bias,
        bool useInputStats, double momentum, double eps, string op)
    {
        var (n, c, l) = ChannelLayout(op, input);
        CheckRunningStat(op, "running_mean", runningMean, c, input);
        CheckRunningStat(op, "running_var", runningVar, c, input);
        if ((runningMean is null) != (runningVar is null))
            throw new ArgumentException($"{op}: running_mean and running_var must both be given or both be null.");
        if (!useInputStats) return BatchNorm(input, runningMean, runningVar, weight, bias, training: false, momentum, eps, op);
        if (l <= 1)
            throw new ArgumentException($"{op}: expected more than 1 spatial element when training, got input of shape {ShapeUtil.Format(input._shape)}.");
        var y = GroupNormCore(op, input, c, weight, bias, eps, out var mean, out var m2);
        if (runningMean is not null)
        {
            // PyTorch: each instance updates a copy of the running stats, then the copies are averaged over the batch
            var bm = new double[c];
            var bv = new double[c];
            for (int k = 0; k < n; k++)
                for (int ch = 0; ch < c; ch++)
                {
                    bm[ch] += mean[k * c + ch] / n;
                    bv[ch] += m2[k * c + ch] / (l - 1) / n;
                }
            UpdateRunning(runningMean, bm, momentum);
            UpdateRunning(runningVar!, bv, momentum);
        }
        return y;
    }

    private static Tensor GroupNormCore(string op, Tensor input, int groups, Tensor? weight, Tensor? bias, double eps, out double[] mean, out double[] m2)
    {
        var (n, c, l) = ChannelLayout(op, input);
        if (groups <= 0 || c % groups != 0)
            throw new ArgumentException($"{op}: the number of channels ({c}, dim 1 of input shape {ShapeUtil.Format(input._shape)}) must be divisible by num_groups ({groups}).");
        CheckNormParam(op, "weight", weight, [c], input);
        CheckNormParam(op, "bias", bias, [c], input);
        if (eps < 0 || double.IsNaN(eps)) throw new ArgumentOutOfRangeException(nameof(eps), $"{op}: eps must be ≥ 0, got {eps}.");
        int units = n * groups, cg = c / groups;
        var x = input.Detach().Contiguous();
        var w = ParamValues(weight, c, 1);
        var b = ParamValues(bias, c, 0);
        var mu = new double[units];
        var s2 = new double[units];
        var rstd = new double[units];
        var y = Uninitialized(input.DType, input._shape.ToArray());
        DTypeDispatch.Run(op, x.DType, new GroupNormForwardOp(x, y, units, groups, cg, l, eps, w, b, mu, s2, rstd));
        mean = mu;
        m2 = s2;
        return Engine.Record(y, op + "Backward", NormInputs(input, weight, bias), g =>
        {
            // under createGraph the same gradients as graph ops, so they can be differentiated
            if (GradMode.IsEnabled) return GroupNormGradsAsOps(input, groups, weight, bias, g, eps);
            var gc = g.Contiguous();
            Tensor? dx = input.RequiresGrad ? Uninitialized(input.DType, input._shape.ToArray()) : null;
            var dwPart = new double[n * c];
            var dbPart = new double[n * c];
            DTypeDispatch.Run(op, x.DType, new GroupNormBackwardOp(gc, x, dx, units, groups, cg, l, w, mu, rstd, dwPart, dbPart));
            // the per-sample shares of dw and db, summed over the batch in sample order
            var dw = new double[c];
            var db = new double[c];
            for (int k = 0; k < n; k++)
                for (int ch = 0; ch < c; ch++)
                {
                    dw[ch] += dwPart[k * c + ch];
                    db[ch] += dbPart[k * c + ch];
                }
            return NormGrads(dx, weight, dw, bias, db, [c]);
        });
    }

    // per (sample, group) of G = C/groups·L values: dx = r·(g·w − mean(g·w) − x̂·mean(g·w·x̂)), dw = Σ g·x̂ and db = Σ g
    // per channel over the batch and the positions
    private static Tensor?[] GroupNormGradsAsOps(Tensor input, int groups, Tensor? weight, Tensor? bias, Tensor g, double eps)
    {
        int n = input._shape[0], c = input._shape[1];
        int[] shape = input._shape.ToArray(), perChannel = [1, c, .. Enumerable.Repeat(1, input.Rank - 2)];
        int[] others = [0, .. Enumerable.Range(2, input.Rank - 2)];
        var xg = input.Reshape(n, groups, -1);
        var centred = xg - xg.Mean(2, keepDim: true);
        var r = 1.0 / ((centred * centred).Mean(2, keepDim: true) + eps).Sqrt();
        var xhat = centred * r;
        var gw = (weight is null ? g : g * weight.Reshape(perChannel)).Reshape(n, groups, -1);
        var list = new List<Tensor?>(3);
        list.Add(input.RequiresGrad ? (r * (gw - gw.Mean(2, keepDim: true) - xhat * (gw * xhat).Mean(2, keepDim: true))).Reshape(shape) : null);
        if (weight is not null) list.Add(weight.RequiresGrad ? (g * xhat.Reshape(shape)).Sum(others) : null);
        if (bias is not null) list.Add(bias.RequiresGrad ? g.Sum(others) : null);
        return [.. list];
    }

    private static void GroupNormForward<T>(Tensor x, Tensor y, int units, int groups, int cg, int l, double eps,
        double[] w, double[] b, double[] mean, double[] m2, double[] rstd) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int size = cg * l;
        NormParallel(units, (long)units * size, u =>
        {
            var xs = x.Span<T>().Slice(u * size, size);
            var ys = y.Span<T>().Slice(u * size, size);
            var (mu, s2) = NormKernels.Moments(xs, 1, size, size);
            double r = 1 / Math.Sqrt(s2 / size + eps);
            mean[u] = mu;
            m2[u] = s2;
            rstd[u] = r;
            int ch0 = u % groups * cg;
            for (int j = 0; j < cg; j++)
            {
                double scale = w[ch0 + j] * r, shift = b[ch0 + j] - mu * scale;
                NormKernels.ScaleShift(xs.Slice(j * l, l), Cast<T>(scale), Cast<T>(shift), ys.Slice(j * l, l));
            }
        });
    }

    private static void GroupNormBackward<T>(Tensor g, Tensor x, Tensor? dx, int units, int groups, int cg, int l,
        double[] w, double[] mean, double[] rstd, double[] dwPart, double[] dbPart) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int size = cg * l;
        NormParallel(units, (long)units * size, u =>
        {
            var gs = g.Span<T>().Slice(u * size, size);
            var xs = x.Span<T>().Slice(u * size, size);
            int c = groups * cg, ch0 = u % groups * cg, row = u / groups * c;
            T mu = Cast<T>(mean[u]);
            double r = rstd[u], s1 = 0, s2 = 0;
            for (int j = 0; j < cg; j++)
            {
                var (a, d) = NormKernels.SumGradDev(gs.Slice(j * l, l), xs.Slice(j * l, l), mu);
                double sg = double.CreateTruncating(a), sgd = double.CreateTruncating(d);
                dwPart[row + ch0 + j] = sgd * r;
                dbPart[row + ch0 + j] = sg;
                s1 += w[ch0 + j] * sg;
                s2 += w[ch0 + j] * sgd;
            }
            if (dx is null) return;
            // dx = g·(w_c·r) + x·k2 + k3, k2 = −r³·Σg·w·(x−μ)/M, k3 = −r·Σg·w/M − μ·k2
            double k2 = -r * r * r * s2 / size, k3 = -r * s1 / size - mean[u] * k2;
            var ds = dx.Span<T>().Slice(u * size, size);
            for (int j = 0; j < cg; j++)
                NormKernels.LinComb(gs.Slice(j * l, l), xs.Slice(j * l, l), Cast<T>(w[ch0 + j] * r), Cast<T>(k2), Cast<T>(k3), ds.Slice(j * l, l));
        });
    }

    // the kernels above for the dtype picked by DTypeDispatch
    private readonly struct GroupNormForwardOp(Tensor x, Tensor y, int units, int groups, int cg, int l, double eps,
        double[] w, double[] b, double[] mean, double[] m2, double[] rstd) : IFloatOp
    {
        public void Invoke<T>() where T : unmanaged, IFloatingPointIeee754<T> => GroupNormForward<T>(x, y, units, groups, cg, l, eps, w, b, mean, m2, rstd);
    }

    private readonly struct GroupNormBackwardOp(Tensor g, Tensor x, Tensor? dx, int units, int groups, int cg, int l,
        double[] w, double[] mean, double[] rstd, double[] dwPart, double[] dbPart) : IFloatOp
    {
        public void Invoke<T>() where T : unmanaged, IFloatingPointIeee754<T> => GroupNormBackward<T>(g, x, dx, units, groups, cg, l, w, mean, rstd, dwPart, dbPart);
    }
}
