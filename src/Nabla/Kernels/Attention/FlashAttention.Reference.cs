namespace Nabla.Kernels;

/// <summary>The plain loops the tests compare <see cref="FlashAttention"/> against: the whole L×S matrix, no tiles.</summary>
internal static class FlashAttentionReference
{
    // S = scale·q·kᵀ + mask for one batch, row by row
    private static double[] Scores(int b, int l, int s, int e, double scale, double[] q, double[] k, AttentionMask<double> mask)
    {
        var scores = new double[l * s];
        for (int i = 0; i < l; i++)
        {
            for (int j = 0; j < s; j++)
            {
                double dot = 0;
                for (int c = 0; c < e; c++) dot += q[(b * l + i) * e + c] * k[(b * s + j) * e + c];
                scores[i * s + j] = scale * dot;
            }
            mask.Apply(b, i, 0, scores.AsSpan(i * s, s));
        }
        return scores;
    }

    // P = softmax rows of S, and lse per row
    private static (double[] P, double[] Lse) Softmax(double[] scores, int l, int s)
    {
        var p = new double[l * s];
        var lse = new double[l];
        for (int i = 0; i < l; i++)
        {
            double m = double.NegativeInfinity, sum = 0;
            for (int j = 0; j < s; j++) m = Math.Max(m, scores[i * s + j]);
            for (int j = 0; j < s; j++) sum += Math.Exp(scores[i * s + j] - m);
            for (int j = 0; j < s; j++) p[i * s + j] = Math.Exp(scores[i * s + j] - m) / sum;
            lse[i] = m + Math.Log(sum);
        }
        return (p, lse);
    }

    public static void Forward(int batch, int l, int s, int e, int ev, double scale, double[] q, double[] k, double[] v,
        AttentionMask<double> mask, double[] o, double[] lse)
    {
        for (int b = 0; b < batch; b++)
        {
            var (p, rowLse) = Softmax(Scores(b, l, s, e, scale, q, k, mask), l, s);
            for (int i = 0; i < l; i++)
            {
                lse[b * l + i] = rowLse[i];
                for (int c = 0; c < ev; c++)
                {
                    double acc = 0;
                    for (int j = 0; j < s; j++) acc += p[i * s + j] * v[(b * s + j) * ev + c];
                    o[(b * l + i) * ev + c] = acc;
                }
            }
        }
    }

    // dV = Pᵀ·dO, dP = dO·Vᵀ, dS = P∘(dP − rowsum(dP∘P)), dQ = scale·dS·K, dK = scale·dSᵀ·Q
    public static void Backward(int batch, int l, int s, int e, int ev, double scale, double[] q, double[] k, double[] v,
        AttentionMask<double> mask, double[] dO, double[] dq, double[] dk, double[] dv)
    {
        for (int b = 0; b < batch; b++)
        {
            var (p, _) = Softmax(Scores(b, l, s, e, scale, q, k, mask), l, s);
            var ds = new double[l * s];
            for (int i = 0; i < l; i++)
            {
                var dp = new double[s];
                double dot = 0;
                for (int j = 0; j < s; j++)
                {
                    for (int c = 0; c < ev; c++) dp[j] += dO[(b * l + i) * ev + c] * v[(b * s + j) * ev + c];
                    dot += dp[j] * p[i * s + j];
                }
                for (int j = 0; j < s; j++) ds[i * s + j] = p[i * s + j] * (dp[j] - dot);
            }
            for (int i = 0; i < l; i++)
                for (int c = 0; c < e; c++)
                {
                    double acc = 0;
                    for (int j = 0; j < s; j++) acc += ds[i * s + j] * k[(b * s + j) * e + c];
                    dq[(b * l + i) * e + c] = scale * acc;
                }
            for (int j = 0; j < s; j++)
            {
                for (int c = 0; c < e; c++)
                {
                    double acc = 0;
                    for (int i = 0; i < l; i++) acc += ds[i * s + j] * q[(b * l + i) * e + c];
                    dk[(b * s + j) * e + c] = scale * acc;
                }
                for (int c = 0; c < ev; c++)
                {
                    double acc = 0;
                    for (int i = 0; i < l; i++) acc += p[i * s + j] * dO[(b * l + i) * ev + c];
                    dv[(b * s + j) * ev + c] = acc;
                }
            }
        }
    }
}
