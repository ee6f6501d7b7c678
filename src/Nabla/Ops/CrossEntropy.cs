using System.Numerics;
using System.Numerics.Tensors;
using Nabla.Autograd;

namespace Nabla;

// Softmax and cross-entropy fused, as llm.c does: one pass computes log-sum-exp per row, and the backward is
// (softmax − one-hot)·g without ever building the log-probabilities as a graph.
public partial class Tensor
{
    /// <summary>
    /// Cross-entropy between logits and class indices: loss_i = log Σ_c e^(x_ic) − x_i,t_i, computed stably.
    /// Shape: logits (N, C), target (N) holding class indices in [0, C) (or <paramref name="ignoreIndex"/>) → scalar, or (N) with <see cref="Reduction.None"/>.
    /// </summary>
    public static Tensor CrossEntropy(Tensor logits, Tensor target, Reduction reduction = Reduction.Mean, int ignoreIndex = -100)
    {
        const string op = "CrossEntropyLoss";
        if (logits.Rank != 2) throw new ArgumentException($"{op}: expected logits of shape (N, C), got {ShapeUtil.Format(logits._shape)}.");
        int n = logits._shape[0], c = logits._shape[1];
        if (target.Rank != 1 || target._shape[0] != n)
            throw new ArgumentException($"{op}: expected target of shape [{n}] (class indices) for logits {ShapeUtil.Format(logits._shape)}, got {ShapeUtil.Format(target._shape)}.");
        var labels = ClassIndices(op, target, c, ignoreIndex);
        int counted = labels.Count(l => l >= 0);
        var x = logits.Detach().Contiguous();
        var lse = new double[n];
        var losses = Empty(logits.DType, [n]);
        DTypeDispatch.Run(op, x.DType, new CrossEntropyForward(x, labels, n, c, lse, losses));
        Tensor y;
        using (NoGrad())
        {
            y = reduction switch
            {
                Reduction.None => losses,
                Reduction.Sum => losses.Sum(),
                // PyTorch: the mean over an all-ignored batch is NaN (0/0)
                _ => losses.Sum() / counted,
            };
        }
        return Engine.Record(y, op + "Backward", [logits], g =>
        {
            // dx_ic = g_i·(softmax_ic − [c = t_i]), with g_i = g (sum), g/counted (mean), g_i (none)
            var gi = reduction == Reduction.None ? g.ToDoubleArray() : Enumerable.Repeat(g.Item() / (reduction == Reduction.Mean ? counted : 1), n).ToArray();
            var dx = Uninitialized(logits.DType, [n, c]);
            DTypeDispatch.Run(op, x.DType, new CrossEntropyBackward(x, labels, n, c, lse, gi, dx));
            return [dx];
        });
    }

    internal static int[] ClassIndices(string op, Tensor target, int classes, int ignoreIndex) => ClassTargets(op, target, classes, ignoreIndex);

    private readonly struct CrossEntropyForward(Tensor x, int[] labels, int n, int c, double[] lse, Tensor losses) : IFloatOp
    {
        public void Invoke<T>() where T : unmanaged, IFloatingPointIeee754<T>
        {
            var xs = x.Span<T>();
            var ls = losses.Span<T>();
            for (int i = 0; i < n; i++)
            {
                var row = xs.Slice(i * c, c);
                double m = double.CreateTruncating(TensorPrimitives.Max<T>(row));
                double s = 0;
                for (int k = 0; k < c; k++) s += Math.Exp(double.CreateTruncating(row[k]) - m);
                lse[i] = m + Math.Log(s);
                ls[i] = labels[i] < 0 ? T.Zero : T.CreateTruncating(lse[i] - double.CreateTruncating(row[labels[i]]));
            }
        }
    }

    private readonly struct CrossEntropyBackward(Tensor x, int[] labels, int n, int c, double[] lse, double[] g, Tensor dx) : IFloatOp
    {
        public void Invoke<T>() where T : unmanaged, IFloatingPointIeee754<T>
        {
            var xs = x.Span<T>();
            var ds = dx.Span<T>();
            for (int i = 0; i < n; i++)
            {
                var row = xs.Slice(i * c, c);
                var d = ds.Slice(i * c, c);
                if (labels[i] < 0) { d.Clear(); continue; }
                for (int k = 0; k < c; k++) d[k] = T.CreateTruncating(g[i] * Math.Exp(double.CreateTruncating(row[k]) - lse[i]));
                d[labels[i]] -= T.CreateTruncating(g[i]);
            }
        }
    }
}
