using System.Numerics;
using Nabla.Autograd;
using Nabla.Kernels;

namespace Nabla;

// BatchNorm, fused: per channel c over its M = N·L values,
//   forward  y = (x − μ_c)·r_c·w_c + b_c,  r_c = 1/√(σ²_c + ε)  (batch μ, σ² in training; running ones in eval)
//   backward db_c = Σ g,  dw_c = Σ g·x̂,  dx = w_c·r_c·(g − Σg/M − x̂·Σ(g·x̂)/M)  (training)
//            dx = w_c·r_c·g  (eval: μ and σ² are constants)
// Derivation in docs/normalization.md.
public partial class Tensor
{
    /// <summary>
    /// Batch normalisation (as torch.nn.functional.batch_norm). With <paramref name="training"/> the batch's mean and
    /// biased variance per channel normalise the input and, when given, the running statistics are updated in place:
    /// running = (1 − momentum)·running + momentum·batch, with the unbiased variance for running_var. Without it the
    /// running statistics normalise the input. Shape: input (N, C, *), weight/bias/running stats (C) → (N, C, *).
    /// </summary>
    public static Tensor BatchNorm(Tensor input, Tensor? runningMean, Tensor? runningVar, Tensor? weight = null, Tensor? bias = null,
        bool training = false, double momentum = 0.1, double eps = 1e-5) =>
        BatchNorm(input, runningMean, runningVar, weight, bias, training, momentum, eps, "BatchNorm");

    /// <summary>BatchNorm with <paramref name="op"/> naming the caller (BatchNorm1d/2d, InstanceNorm in eval) in errors and the graph node.</summary>
    internal static Tensor BatchNorm(Tensor input, Tensor? runningMean, Tensor? runningVar, Tensor? weight, Tensor? bias,
        bool training, double momentum, double eps, string op) =>
        BatchNorm(input, runningMean, runningVar, weight, bias, training, momentum, eps, op, relu: false);

    /// <summary>
    /// BatchNorm followed by ReLU as one op when <paramref name="relu"/> (Sequential's BatchNorm + ReLU pair): the
    /// activation is applied to each channel's slice while it is in cache, and the backward masks the residual by the
    /// output's sign on the way into the normalisation's backward, instead of two more passes over the tensor. The
    /// same element-wise operations as the two ops, so the same bits. Graph node: "{op}ReluBackward".
    /// </summary>
    internal static Tensor BatchNorm(Tensor input, Tensor? runningMean, Tensor? runningVar, Tensor? weight, Tensor? bias,
        bool training, double momentum, double eps, string op, bool relu)
    {
        var (n, c, l) = ChannelLayout(op, input);
        CheckNormParam(op, "weight", weight, [c], input);
        CheckNormParam(op, "bias", bias, [c], input);
        CheckRunningStat(op, "running_mean", runningMean, c, input);
        CheckRunningStat(op, "running_var", runningVar, c, input);
        if ((runningMean is null) != (runningVar is null))
            throw new ArgumentException($"{op}: running_mean and running_var must both be given or both be null.");
        if (!training && runningMean is null)
            throw new ArgumentException($"{op}: evaluation mode (training = false) needs running_mean and running_var.");
        if (training) CheckValuesPerChannel(op, input);
        if (eps < 0 || double.IsNaN(eps)) throw new ArgumentOutOfRangeException(nameof(eps), $"{op}: eps must be ≥ 0, got {eps}.");

        // Small spatial size (BatchNorm1d on (N, C)): lay the data out as (C, N·L) so each channel is one long run.
        bool permute = l < 16 && n > 1;
        if (relu && permute) return BatchNorm(input, runningMean, runningVar, weight, bias, training, momentum, eps, op).Relu();
        int wn = permute ? 1 : n, wl = permute ? n * l : l;
        var x = ToChannelWork(input.Detach(), n, c, l, permute);
        long m = (long)n * l;
        var mean = new double[c];
        var m2 = new double[c];
        var rstd = new double[c];
        if (!training)
        {
            var rm = runningMean!.ToDoubleArray();
            var rv = runningVar!.ToDoubleArray();
            for (int ch = 0; ch < c; ch++)
            {
                mean[ch] = rm[ch];
                rstd[ch] = 1 / Math.Sqrt(rv[ch] + eps);
            }
        }
        var w = ParamValues(weight, c, 1);
        var b = ParamValues(bias, c, 0);
        var y = Uninitialized(input.DType, x._shape.ToArray());
        DTypeDispatch.Run(op, x.DType, new BatchNormForwardOp(x, y, wn, c, wl, training, eps, w, b, mean, m2, rstd, relu));

        if (training && runningMean is not null)
        {
            // running_var takes the unbiased variance M2/(M − 1), as PyTorch does
            UpdateRunning(runningMean, mean, momentum);
            UpdateRunning(runningVar!, m2.Select(v => v / (m - 1)).ToArray(), momentum);
        }
        var output = FromChannelWork(y, input._shape, n, c, l, permute);
        return Engine.Record(output, op + (relu ? "ReluBackward" : "Backward"), NormInputs(input, weight, bias), g =>
        {
            var gw = ToChannelWork(g, n, c, l, permute);
            Tensor? dx = input.RequiresGrad ? Uninitialized(input.DType, x._shape.ToArray()) : null;
            var dw = new double[c];
            var db = new double[c];
            DTypeDispatch.Run(op, x.DType, new BatchNormBackwardOp(gw, x, dx, wn, c, wl, training, w, mean, rstd, dw, db, relu ? y : null));
            return NormGrads(dx is null ? null : FromChannelWork(dx, input._shape, n, c, l, permute), weight, dw, bias, db, [c]);
        }, firstOrderOnly: true);
    }

    /// <summary>Throws when training statistics would be taken over a single value per channel (variance undefined).</summary>
    internal static void CheckValuesPerChannel(string op, Tensor input)
    {
        var (n, _, l) = ChannelLayout(op, input);
        if ((long)n * l <= 1)
            throw new ArgumentException($"{op}: expected more than 1 value per channel when training, got input of shape {ShapeUtil.Format(input._shape)}.");
    }

    /// <summary>
    /// The data dense, laid out (N, C, L) in memory (the kernels take n, c, l, not the shape), or a (1, C, N·L) copy
    /// when <paramref name="permute"/>. No view op runs for the usual layout: views are ops, and the profiler times an
    /// op from the previous op's end, so a view after the kernel would take the kernel's time and allocation.
    /// </summary>
    private static Tensor ToChannelWork(Tensor t, int n, int c, int l, bool permute)
    {
        var d = t.Detach();
        return permute ? d.Reshape(n, c, l).Permute(1, 0, 2).Contiguous().View(1, c, n * l) : d.Contiguous();
    }

    /// <summary>The kernels' output in the input's shape (as is, unless <paramref name="permute"/>d).</summary>
    private static Tensor FromChannelWork(Tensor t, int[] shape, int n, int c, int l, bool permute) =>
        permute ? t.View(c, n, l).Permute(1, 0, 2).Contiguous().View(shape.ToArray()) : t;

    private static void BatchNormForward<T>(Tensor x, Tensor y, int n, int c, int l, bool training, double eps,
        double[] w, double[] b, double[] mean, double[] m2, double[] rstd, bool relu) where T : unmanaged, IFloatingPointIeee754<T>
    {
        long cl = (long)c * l;
        NormParallel(c, (long)n * cl, ch =>
        {
            var xs = x.Span<T>();
            var ys = y.Span<T>();
            if (training)
            {
                // statistics and normalisation of one channel back to back: its data is still in L2 for the second read
                var (mu, s2) = NormKernels.Moments(xs.Slice(ch * l), n, c * l, l);
                mean[ch] = mu;
                m2[ch] = s2;
                rstd[ch] = 1 / Math.Sqrt(s2 / ((double)n * l) + eps);
            }
            double scale = w[ch] * rstd[ch], shift = b[ch] - mean[ch] * scale;
            for (int k = 0; k < n; k++)
            {
                int at = k * c * l + ch * l;
                NormKernels.ScaleShift(xs.Slice(at, l), Cast<T>(scale), Cast<T>(shift), ys.Slice(at, l));
                if (relu) ReluOperator<T>.Invoke(ys.Slice(at, l), ys.Slice(at, l));   // the slice is still in L1
            }
        });
    }

    /// <remarks>
    /// With <paramref name="y"/> (BatchNorm + ReLU) the residual is first masked by y &gt; 0, channel by channel into
    /// the thread's scratch (n·l values, in L2 for the second pass), exactly as ReLU's backward would mask it.
    /// </remarks>
    private static void BatchNormBackward<T>(Tensor g, Tensor x, Tensor? dx, int n, int c, int l, bool training,
        double[] w, double[] mean, double[] rstd, double[] dw, double[] db, Tensor? y) where T : unmanaged, IFloatingPointIeee754<T>
    {
        double count = (double)n * l;
        NormParallel(c, (long)n * c * l, ch =>
        {
            var gs = g.Span<T>();
            var xs = x.Span<T>();
            Span<T> masked = y is null ? default : Scratch<T>.Get(n * l);
            T mu = Cast<T>(mean[ch]);
            double sg = 0, sgd = 0;
            for (int k = 0; k < n; k++)
            {
                int at = k * c * l + ch * l;
                var gk = gs.Slice(at, l);
                if (y is not null)
                {
                    ReluKernels.Mask<T>(gk, y.Span<T>().Slice(at, l), masked.Slice(k * l, l));
                    gk = masked.Slice(k * l, l);
                }
                var (a, d) = NormKernels.SumGradDev(gk, xs.Slice(at, l), mu);
                sg += double.CreateTruncating(a);
                sgd += double.CreateTruncating(d);
            }
            double r = rstd[ch];
            db[ch] = sg;
            dw[ch] = sgd * r;   // Σ g·x̂
            if (dx is null) return;
            // dx = g·k1 + x·k2 + k3 with k1 = w·r; in training k2 = −w·r³·Σg(x−μ)/M, k3 = −w·r·Σg/M − μ·k2
            double k1 = w[ch] * r, k2 = 0, k3 = 0;
            if (training)
            {
                k2 = -k1 * r * r * sgd / count;
                k3 = -k1 * sg / count - mean[ch] * k2;
            }
            var ds = dx.Span<T>();
            for (int k = 0; k < n; k++)
            {
                int at = k * c * l + ch * l;
                var gk = y is null ? gs.Slice(at, l) : masked.Slice(k * l, l);
                NormKernels.LinComb(gk, xs.Slice(at, l), Cast<T>(k1), Cast<T>(k2), Cast<T>(k3), ds.Slice(at, l));
            }
        });
    }

    // the kernels above for the dtype picked by DTypeDispatch
    private readonly struct BatchNormForwardOp(Tensor x, Tensor y, int n, int c, int l, bool training, double eps,
        double[] w, double[] b, double[] mean, double[] m2, double[] rstd, bool relu) : IFloatOp
    {
        public void Invoke<T>() where T : unmanaged, IFloatingPointIeee754<T> => BatchNormForward<T>(x, y, n, c, l, training, eps, w, b, mean, m2, rstd, relu);
    }

    private readonly struct BatchNormBackwardOp(Tensor g, Tensor x, Tensor? dx, int n, int c, int l, bool training,
        double[] w, double[] mean, double[] rstd, double[] dw, double[] db, Tensor? y) : IFloatOp
    {
        public void Invoke<T>() where T : unmanaged, IFloatingPointIeee754<T> => BatchNormBackward<T>(g, x, dx, n, c, l, training, w, mean, rstd, dw, db, y);
    }
}
