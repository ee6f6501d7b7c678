using System.Numerics;
using System.Numerics.Tensors;
using Nabla.Autograd;

namespace Nabla;

// Softmax and cross-entropy fused, as llm.c does: one pass computes log-sum-exp per row, and the backward is
// g·((1 − ε)·w_t·(softmax − one-hot) + ε/C·(W·softmax − w)) without ever building the log-probabilities as a graph.
// Inputs (N, C, d1, ...) are read as rows (N·d1·..., C) with the class dim moved last.
public partial class Tensor
{
    /// <summary>
    /// Cross-entropy between logits and targets, as torch.nn.functional.cross_entropy. Class-index targets:
    /// loss = (1 − ε)·w_t·(lse(x) − x_t) + ε/C·Σ_c w_c·(lse(x) − x_c); rows whose target is
    /// <paramref name="ignoreIndex"/> give 0, and Mean divides by Σ w_t over the other rows (NaN when there are none).
    /// Probability targets (target shaped like the input): loss = −Σ_c w_c·ŷ_c·log softmax(x)_c with
    /// ŷ = (1 − ε)·y + ε/C, and Mean divides by the number of rows.
    /// Shape: input (N, C) or (N, C, d1, ...) or unbatched (C); target (N) / (N, d1, ...) / () of class indices, or
    /// input's shape of probabilities; weight (C) → scalar, or the target's shape (class indices) or the input's without
    /// dim 1 (probabilities) with <see cref="Reduction.None"/>.
    /// </summary>
    public static Tensor CrossEntropy(Tensor input, Tensor target, Tensor? weight = null, int ignoreIndex = -100, Reduction reduction = Reduction.Mean, double labelSmoothing = 0.0)
    {
        const string op = "CrossEntropyLoss";
        if (!(labelSmoothing >= 0 && labelSmoothing <= 1)) throw new ArgumentException($"{op}: label_smoothing must be in [0, 1], got {labelSmoothing}.");
        RejectBatchMean(op, reduction);
        var (rows, c, outShape) = ClassRows(op, input);
        var w = ClassWeights(op, weight, c);
        if (ShapeUtil.SameShape(input._shape, target._shape))
        {
            if (ignoreIndex >= 0) throw new ArgumentException($"{op}: ignore_index ({ignoreIndex}) is not supported for probability targets.");
            var y = ClassRowsOf(target.To(input.DType), input.Rank);
            if (labelSmoothing > 0) y = y * (1 - labelSmoothing) + labelSmoothing / c;
            var lp = rows.LogSoftmax(1) * y;
            if (weight is not null) lp = lp * weight.To(input.DType);
            var perRow = -lp.Sum(1);
            return reduction switch
            {
                Reduction.None => perRow.Reshape(outShape),
                Reduction.Sum => perRow.Sum(),
                _ => perRow.Sum() / rows._shape[0],
            };
        }
        var labels = ClassIndexTargets(op, input, target, c, ignoreIndex, probabilitiesAllowed: true);
        double weightSum = 0;
        foreach (int l in labels) if (l >= 0) weightSum += w[l];
        var x = rows.Detach().Contiguous();
        int n = labels.Length;
        var lse = new double[n];
        var losses = Empty(input.DType, [n]);
        DTypeDispatch.Run(op, x.DType, new CrossEntropyForward(x, labels, n, c, w, labelSmoothing, lse, losses));
        var rowLoss = Engine.Record(losses, op + "Backward", [rows], g =>
        {
            if (GradMode.IsEnabled) return [CrossEntropyBackwardGraph(rows, labels, w, labelSmoothing, g)];
            var dx = Uninitialized(input.DType, [n, c]);
            DTypeDispatch.Run(op, x.DType, new CrossEntropyBackward(x, labels, n, c, w, labelSmoothing, lse, g.ToDoubleArray(), dx));
            return [dx];
        });
        return reduction switch
        {
            Reduction.None => rowLoss.Reshape(outShape),
            Reduction.Sum => rowLoss.Sum(),
            // PyTorch: the mean over an all-ignored batch is NaN (0/0)
            _ => rowLoss.Sum() / weightSum,
        };
    }

    // dx = g·((1 − ε)·w_t·(softmax − one-hot) + ε/C·(W·softmax − w)) as graph ops (createGraph): the softmax is
    // recorded, the rest are constants per row; ignored rows get 0
    private static Tensor CrossEntropyBackwardGraph(Tensor rows, int[] labels, double[] w, double smoothing, Tensor g)
    {
        int n = labels.Length, c = w.Length;
        double total = w.Sum(), s = smoothing / c;
        var scale = new double[n];
        var shift = new double[n * c];
        for (int i = 0; i < n; i++)
        {
            int l = labels[i];
            if (l < 0) continue;
            double t = (1 - smoothing) * w[l];
            scale[i] = t + s * total;
            shift[i * c + l] += t;
            for (int k = 0; k < c; k++) shift[i * c + k] += s * w[k];
        }
        var dt = rows.DType;
        var p = rows.Softmax(1);
        return g.Unsqueeze(1) * (p * FromArray(scale, n, 1).To(dt) - FromArray(shift, n, c).To(dt));
    }

    /// <summary>
    /// Negative log-likelihood of log-probabilities: loss = −w_t·x_t; rows whose target is
    /// <paramref name="ignoreIndex"/> give 0, and Mean divides by Σ w_t over the other rows (torch.nn.functional.nll_loss).
    /// Shape: input (N, C) or (N, C, d1, ...) or unbatched (C); target (N) / (N, d1, ...) / () of class indices;
    /// weight (C) → scalar, or the target's shape with <see cref="Reduction.None"/>.
    /// </summary>
    public static Tensor NllLoss(Tensor input, Tensor target, Tensor? weight = null, int ignoreIndex = -100, Reduction reduction = Reduction.Mean)
    {
        const string op = "NLLLoss";
        RejectBatchMean(op, reduction);
        var (rows, c, outShape) = ClassRows(op, input);
        var w = ClassWeights(op, weight, c);
        var labels = ClassIndexTargets(op, input, target, c, ignoreIndex, probabilitiesAllowed: false);
        int n = labels.Length;
        var index = FromArray(labels.Select(l => (double)Math.Max(l, 0)).ToArray(), n, 1);
        var coef = FromArray(labels.Select(l => l >= 0 ? -w[l] : 0.0).ToArray(), n).To(input.DType);
        var picked = rows.Gather(1, index.To(input.DType)).Reshape(n) * coef;
        return reduction switch
        {
            Reduction.None => picked.Reshape(outShape),
            Reduction.Sum => picked.Sum(),
            _ => picked.Sum() / labels.Where(l => l >= 0).Sum(l => w[l]),
        };
    }

    // input (C) → (1, C); (N, C) as is; (N, C, d1, ...) → (N·d1·..., C) with the class dim last. Also the unreduced output's shape.
    private static (Tensor Rows, int Classes, int[] OutShape) ClassRows(string op, Tensor input)
    {
        if (input.Rank == 0) throw new ArgumentException($"{op}: expected input of shape (C), (N, C) or (N, C, d1, ...), got a 0-d tensor.");
        if (input.Rank == 1) return (input.Reshape(1, input._shape[0]), input._shape[0], []);
        int c = input._shape[1];
        int[] outShape = [input._shape[0], .. input._shape.AsSpan(2)];
        if (input.Rank == 2) return (input, c, outShape);
        return (ClassRowsOf(input, input.Rank), c, outShape);
    }

    private static Tensor ClassRowsOf(Tensor t, int rank)
    {
        if (rank == 1) return t.Reshape(1, t._shape[0]);
        if (rank == 2) return t;
        int[] perm = [0, .. Enumerable.Range(2, rank - 2), 1];
        return t.Permute(perm).Reshape(-1, t._shape[1]);
    }

    private static double[] ClassWeights(string op, Tensor? weight, int c)
    {
        if (weight is null) return Enumerable.Repeat(1.0, c).ToArray();
        if (weight.Rank != 1 || weight._shape[0] != c)
            throw new ArgumentException($"{op}: weight must be a 1-d tensor of size C = {c}, got {ShapeUtil.Format(weight._shape)}.");
        return weight.ToDoubleArray();
    }

    // the class-index target for input (N, C, d1, ...) has shape (N, d1, ...); for unbatched (C) it is 0-d
    private static int[] ClassIndexTargets(string op, Tensor input, Tensor target, int c, int ignoreIndex, bool probabilitiesAllowed)
    {
        int[] expected = input.Rank == 1 ? [] : [input._shape[0], .. input._shape.AsSpan(2)];
        if (!ShapeUtil.SameShape(target._shape, expected))
        {
            string probabilities = probabilitiesAllowed ? $" or {ShapeUtil.Format(input._shape)} (probabilities)" : "";
            throw new ArgumentException($"{op}: expected target of shape {ShapeUtil.Format(expected)} (class indices){probabilities} for input {ShapeUtil.Format(input._shape)}, got {ShapeUtil.Format(target._shape)}.");
        }
        return ClassIndices(op, target, c, ignoreIndex);
    }

    internal static int[] ClassIndices(string op, Tensor target, int classes, int ignoreIndex) => ClassTargets(op, target, classes, ignoreIndex);

    // loss_i = (1 − ε)·w_t·(lse − x_t) + ε/C·(W·lse − Σ_c w_c·x_c), 0 for an ignored row
    private readonly struct CrossEntropyForward(Tensor x, int[] labels, int n, int c, double[] w, double eps, double[] lse, Tensor losses) : IFloatOp
    {
        public void Invoke<T>() where T : unmanaged, IFloatingPointIeee754<T>
        {
            var xs = x.Span<T>();
            var ls = losses.Span<T>();
            double wSum = w.Sum();
            for (int i = 0; i < n; i++)
            {
                var row = xs.Slice(i * c, c);
                double m = double.CreateTruncating(TensorPrimitives.Max<T>(row));
                double s = 0, wx = 0;
                for (int k = 0; k < c; k++)
                {
                    double v = double.CreateTruncating(row[k]);
                    s += Math.Exp(v - m);
                    wx += w[k] * v;
                }
                lse[i] = m + Math.Log(s);
                int t = labels[i];
                if (t < 0) { ls[i] = T.Zero; continue; }
                double loss = (1 - eps) * w[t] * (lse[i] - double.CreateTruncating(row[t]));
                if (eps > 0) loss += eps / c * (wSum * lse[i] - wx);
                ls[i] = T.CreateTruncating(loss);
            }
        }
    }

    // dx_ik = g_i·((1 − ε)·w_t·(p_ik − [k = t]) + ε/C·(W·p_ik − w_k)), p = softmax(x_i)
    private readonly struct CrossEntropyBackward(Tensor x, int[] labels, int n, int c, double[] w, double eps, double[] lse, double[] g, Tensor dx) : IFloatOp
    {
        public void Invoke<T>() where T : unmanaged, IFloatingPointIeee754<T>
        {
            var xs = x.Span<T>();
            var ds = dx.Span<T>();
            double wSum = w.Sum();
            for (int i = 0; i < n; i++)
            {
                var row = xs.Slice(i * c, c);
                var d = ds.Slice(i * c, c);
                int t = labels[i];
                if (t < 0) { d.Clear(); continue; }
                double a = g[i] * (1 - eps) * w[t], b = g[i] * eps / c;
                for (int k = 0; k < c; k++)
                {
                    double p = Math.Exp(double.CreateTruncating(row[k]) - lse[i]);
                    d[k] = T.CreateTruncating(a * p + b * (wSum * p - w[k]));
                }
                d[t] -= T.CreateTruncating(a);
            }
        }
    }
}
