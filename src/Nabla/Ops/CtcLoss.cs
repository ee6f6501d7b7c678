using System.Numerics;
using Nabla.Autograd;

namespace Nabla;

// Connectionist temporal classification (Graves et al. 2006), in log space as PyTorch's CPU kernel: the forward
// variables α over the blank-extended target l' = (∅, l1, ∅, l2, ..., ∅), the backward variables β, and
//   nll = −log Σ_s α_{T−1}(s) over the last two s,   grad_tc = e^{lp_tc} − e^{lcab_tc + nll − lp_tc},
// lcab_tc = log Σ_{s: l'_s = c} α_t(s)·β_t(s). Like PyTorch's, this gradient is the one with respect to the logits
// behind a log_softmax (the e^{lp} term cancels in log_softmax's backward); it is what PyTorch returns for log_probs.
public partial class Tensor
{
    /// <summary>
    /// CTC loss (torch.nn.functional.ctc_loss): −log of the probability of each target under all alignments of the
    /// input frames. <paramref name="logProbs"/> are log-probabilities (log_softmax over C); targets are class indices
    /// that are never <paramref name="blank"/>, padded (N, S) or concatenated (Σ target_lengths). Mean divides each
    /// sample's loss by its target length (at least 1), then averages over the batch. With
    /// <paramref name="zeroInfinity"/> an impossible alignment (infinite loss) gives loss 0 and gradient 0.
    /// The gradient sent to <paramref name="logProbs"/> is PyTorch's (see the file comment): right when logProbs come from LogSoftmax.
    /// Shape: logProbs (T, N, C) or unbatched (T, C); targets (N, S) or (Σ target_lengths) or unbatched (S);
    /// inputLengths, targetLengths (N) (unbatched: () or (1)) → scalar, or (N) with <see cref="Reduction.None"/> (() unbatched).
    /// </summary>
    public static Tensor CtcLoss(Tensor logProbs, Tensor targets, Tensor inputLengths, Tensor targetLengths, int blank = 0, Reduction reduction = Reduction.Mean, bool zeroInfinity = false) =>
        CtcLoss(logProbs, targets, Lengths("input_lengths", inputLengths), Lengths("target_lengths", targetLengths), blank, reduction, zeroInfinity);

    /// <summary>CTC loss with the lengths given as integers (PyTorch accepts tuples too). Shape: as the tensor overload.</summary>
    public static Tensor CtcLoss(Tensor logProbs, Tensor targets, int[] inputLengths, int[] targetLengths, int blank = 0, Reduction reduction = Reduction.Mean, bool zeroInfinity = false)
    {
        const string op = "CTCLoss";
        RejectBatchMean(op, reduction);
        bool unbatched = logProbs.Rank == 2;
        if (logProbs.Rank is not (2 or 3))
            throw new ArgumentException($"{op}: expected log_probs of shape (T, N, C) or (T, C), got {ShapeUtil.Format(logProbs._shape)}.");
        var lp3 = unbatched ? logProbs.Unsqueeze(1) : logProbs;
        int t = lp3._shape[0], n = lp3._shape[1], c = lp3._shape[2];
        if (blank < 0 || blank >= c) throw new ArgumentException($"{op}: blank ({blank}) must be a class index in [0, {c}).");
        if (inputLengths.Length != n || targetLengths.Length != n)
            throw new ArgumentException($"{op}: expected {n} input_lengths and target_lengths (the batch size), got {inputLengths.Length} and {targetLengths.Length}.");
        var labels = CtcTargets(op, targets, targetLengths, unbatched, c);
        for (int b = 0; b < n; b++)
        {
            if (inputLengths[b] < 0 || inputLengths[b] > t)
                throw new ArgumentException($"{op}: input_lengths[{b}] is {inputLengths[b]}, expected a value in [0, T = {t}].");
        }
        var x = lp3.Detach().Contiguous().To(DType.Float64).ToDoubleArray();
        var nll = new double[n];
        var alphas = new double[n][];
        for (int b = 0; b < n; b++)
        {
            (nll[b], alphas[b]) = CtcAlpha(x, b, n, c, inputLengths[b], labels[b], blank);
            if (zeroInfinity && double.IsPositiveInfinity(nll[b])) nll[b] = 0;
        }
        var losses = FromArray(nll, n).To(logProbs.DType);
        losses = Engine.Record(losses, op + "Backward", [lp3], g =>
        {
            var gs = g.ToDoubleArray();
            var grad = new double[t * n * c];
            for (int b = 0; b < n; b++)
            {
                // an impossible alignment with zero_infinity: loss and gradient 0
                if (zeroInfinity && double.IsNegativeInfinity(CtcLogLikelihood(alphas[b], inputLengths[b], labels[b].Length))) continue;
                CtcGradient(x, b, n, c, inputLengths[b], labels[b], blank, alphas[b], nll[b], gs[b], grad);
            }
            return [FromArray(grad, t, n, c).To(logProbs.DType)];
        }, firstOrderOnly: true);
        if (unbatched) losses = losses.Reshape([]);
        return reduction switch
        {
            Reduction.None => losses,
            Reduction.Sum => losses.Sum(),
            _ => (losses / FromArray(targetLengths.Select(l => (double)Math.Max(l, 1)).ToArray(), targetLengths.Length).Reshape(losses._shape).To(logProbs.DType)).Mean(),
        };
    }

    private static int[] Lengths(string name, Tensor lengths)
    {
        if (lengths.Rank > 1) throw new ArgumentException($"CTCLoss: {name} must be 0-d or 1-d, got {ShapeUtil.Format(lengths._shape)}.");
        return lengths.ToDoubleArray().Select(v => (int)v == v ? (int)v : throw new ArgumentException($"CTCLoss: {name} must hold integers, got {v}.")).ToArray();
    }

    // each sample's labels: rows of a padded (N, S) tensor, or consecutive runs of a concatenated 1-d one
    private static int[][] CtcTargets(string op, Tensor targets, int[] targetLengths, bool unbatched, int c)
    {
        var flat = targets.ToDoubleArray();
        bool padded = unbatched ? targets.Rank == 1 : targets.Rank == 2;
        if (!padded && (unbatched || targets.Rank != 1))
            throw new ArgumentException($"{op}: expected targets of shape (N, S) or (Σ target_lengths){(unbatched ? " or (S) unbatched" : "")}, got {ShapeUtil.Format(targets._shape)}.");
        int stride = padded ? targets._shape[^1] : 0, offset = 0;
        if (!padded && targetLengths.Sum() != flat.Length)
            throw new ArgumentException($"{op}: concatenated targets hold {flat.Length} labels but target_lengths sum to {targetLengths.Sum()}.");
        var result = new int[targetLengths.Length][];
        for (int b = 0; b < targetLengths.Length; b++)
        {
            int len = targetLengths[b];
            if (len < 0 || (padded && len > stride))
                throw new ArgumentException($"{op}: target_lengths[{b}] is {len}, expected a value in [0, {(padded ? stride : flat.Length)}].");
            int start = padded ? b * stride : offset;
            result[b] = new int[len];
            for (int i = 0; i < len; i++)
            {
                double v = flat[start + i];
                if ((int)v != v || v < 0 || v >= c) throw new ArgumentException($"{op}: target {start + i} is {v}, expected a class index in [0, {c}).");
                result[b][i] = (int)v;
            }
            offset += len;
        }
        return result;
    }

    private static int Extended(int[] labels, int blank, int s) => (s & 1) == 0 ? blank : labels[s >> 1];

    private static double LogAdd(double a, double b)
    {
        if (double.IsNegativeInfinity(a)) return b;
        if (double.IsNegativeInfinity(b)) return a;
        double m = Math.Max(a, b);
        return m + Math.Log(Math.Exp(a - m) + Math.Exp(b - m));
    }

    // log-likelihood from α: the last blank and the last label at the last frame
    private static double CtcLogLikelihood(double[] alpha, int frames, int labelCount)
    {
        int s = 2 * labelCount + 1;
        if (frames == 0) return labelCount == 0 ? 0 : double.NegativeInfinity;
        double l = alpha[(frames - 1) * s + s - 1];
        return labelCount > 0 ? LogAdd(l, alpha[(frames - 1) * s + s - 2]) : l;
    }

    // α_t(s) = lp_t(l'_s) + log(α_{t−1}(s) + α_{t−1}(s−1) + α_{t−1}(s−2) when l'_s ≠ ∅ and l'_s ≠ l'_{s−2})
    private static (double Nll, double[] Alpha) CtcAlpha(double[] x, int b, int n, int c, int frames, int[] labels, int blank)
    {
        int sLen = 2 * labels.Length + 1;
        var a = new double[Math.Max(frames, 1) * sLen];
        Array.Fill(a, double.NegativeInfinity);
        if (frames > 0)
        {
            a[0] = x[b * c + blank];
            if (labels.Length > 0) a[1] = x[b * c + labels[0]];
        }
        for (int t = 1; t < frames; t++)
        {
            int row = (t * n + b) * c;
            for (int s = 0; s < sLen; s++)
            {
                int l = Extended(labels, blank, s);
                double sum = a[(t - 1) * sLen + s];
                if (s > 0) sum = LogAdd(sum, a[(t - 1) * sLen + s - 1]);
                if (s > 1 && l != blank && l != Extended(labels, blank, s - 2)) sum = LogAdd(sum, a[(t - 1) * sLen + s - 2]);
                a[t * sLen + s] = double.IsNegativeInfinity(sum) ? sum : sum + x[row + l];
            }
        }
        return (-CtcLogLikelihood(a, frames, labels.Length), a);
    }

    // β_t(s) = lp_t(l'_s) + log(β_{t+1}(s) + β_{t+1}(s+1) + β_{t+1}(s+2) when l'_{s+2} ≠ l'_s ≠ ∅); then
    // grad_tc += g·(e^{lp_tc} − e^{lcab_tc + nll − lp_tc}) for the sample's frames; later frames get 0
    private static void CtcGradient(double[] x, int b, int n, int c, int frames, int[] labels, int blank, double[] alpha, double nll, double g, double[] grad)
    {
        if (frames == 0) return;
        int sLen = 2 * labels.Length + 1;
        var beta = new double[frames * sLen];
        Array.Fill(beta, double.NegativeInfinity);
        int last = ((frames - 1) * n + b) * c;
        beta[(frames - 1) * sLen + sLen - 1] = x[last + blank];
        if (labels.Length > 0) beta[(frames - 1) * sLen + sLen - 2] = x[last + labels[^1]];
        for (int t = frames - 2; t >= 0; t--)
        {
            int row = (t * n + b) * c;
            for (int s = 0; s < sLen; s++)
            {
                int l = Extended(labels, blank, s);
                double sum = beta[(t + 1) * sLen + s];
                if (s < sLen - 1) sum = LogAdd(sum, beta[(t + 1) * sLen + s + 1]);
                if (s < sLen - 2 && l != blank && l != Extended(labels, blank, s + 2)) sum = LogAdd(sum, beta[(t + 1) * sLen + s + 2]);
                beta[t * sLen + s] = double.IsNegativeInfinity(sum) ? sum : sum + x[row + l];
            }
        }
        var lcab = new double[c];
        for (int t = 0; t < frames; t++)
        {
            Array.Fill(lcab, double.NegativeInfinity);
            for (int s = 0; s < sLen; s++)
            {
                int l = Extended(labels, blank, s);
                lcab[l] = LogAdd(lcab[l], alpha[t * sLen + s] + beta[t * sLen + s]);
            }
            int row = (t * n + b) * c;
            for (int k = 0; k < c; k++)
            {
                double lp = x[row + k];
                grad[row + k] = (Math.Exp(lp) - Math.Exp(lcab[k] + nll - lp)) * g;
            }
        }
    }
}
