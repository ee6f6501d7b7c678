namespace Nabla.Tests.Recurrent;

/// <summary>
/// An independent plain-loop implementation of PyTorch's documented recurrences (nn.RNN, nn.LSTM, nn.GRU), in
/// double, one sample and one step at a time, for comparing the fused layers against.
/// </summary>
internal static class RecurrentReference
{
    private static double Sig(double v) => 1 / (1 + Math.Exp(-v));

    /// <summary>W·v for a row-major (rows, cols) matrix.</summary>
    private static double[] MatVec(double[] w, int rows, int cols, double[] v)
    {
        var r = new double[rows];
        for (int i = 0; i < rows; i++)
        {
            double s = 0;
            for (int j = 0; j < cols; j++) s += w[i * cols + j] * v[j];
            r[i] = s;
        }
        return r;
    }

    /// <summary>One step of one sample: returns (h', c').</summary>
    public static (double[] H, double[] C) Step(RecurrentMode mode, double[] x, double[] h, double[] c, double[] wih, double[] whh, double[]? bih, double[]? bhh, int hidden)
    {
        int gates = mode switch { RecurrentMode.Lstm => 4, RecurrentMode.Gru => 3, _ => 1 };
        var a = MatVec(wih, gates * hidden, x.Length, x);
        var b = MatVec(whh, gates * hidden, hidden, h);
        for (int i = 0; i < a.Length; i++)
        {
            a[i] += bih?[i] ?? 0;
            b[i] += bhh?[i] ?? 0;
        }
        var hn = new double[hidden];
        var cn = new double[hidden];
        for (int j = 0; j < hidden; j++)
        {
            switch (mode)
            {
                case RecurrentMode.Lstm:
                    double ig = Sig(a[j] + b[j]), fg = Sig(a[hidden + j] + b[hidden + j]);
                    double gg = Math.Tanh(a[2 * hidden + j] + b[2 * hidden + j]), og = Sig(a[3 * hidden + j] + b[3 * hidden + j]);
                    cn[j] = fg * c[j] + ig * gg;
                    hn[j] = og * Math.Tanh(cn[j]);
                    break;
                case RecurrentMode.Gru:
                    double r = Sig(a[j] + b[j]), z = Sig(a[hidden + j] + b[hidden + j]);
                    double n = Math.Tanh(a[2 * hidden + j] + r * b[2 * hidden + j]);
                    hn[j] = (1 - z) * n + z * h[j];
                    break;
                case RecurrentMode.RnnTanh:
                    hn[j] = Math.Tanh(a[j] + b[j]);
                    break;
                default:
                    hn[j] = Math.Max(0, a[j] + b[j]);
                    break;
            }
        }
        return (hn, cn);
    }

    /// <summary>
    /// A whole (layers × directions) network over x[t][b][i] (time-major), as PyTorch with packed sequences:
    /// sample b runs its first lengths[b] steps only (the reverse direction starts at its last valid step), outputs
    /// past its length are 0, h_n/c_n are its states after its own steps. weights(name) returns a parameter by its
    /// PyTorch name. Returns output[t][b][D·H], hN[l·D + d][b][H], cN likewise.
    /// </summary>
    public static (double[][][] Output, double[][][] HN, double[][][] CN) Run(RecurrentMode mode, double[][][] x, int layers, bool bidir, int hidden,
        Func<string, double[]?> weights, double[][][]? h0, double[][][]? c0, int[]? lengths)
    {
        int steps = x.Length, batch = x[0].Length, dirs = bidir ? 2 : 1;
        var input = x;
        var hN = new double[layers * dirs][][];
        var cN = new double[layers * dirs][][];
        for (int l = 0; l < layers; l++)
        {
            var output = new double[steps][][];
            for (int t = 0; t < steps; t++)
            {
                output[t] = new double[batch][];
                for (int b = 0; b < batch; b++) output[t][b] = new double[dirs * hidden];
            }
            for (int d = 0; d < dirs; d++)
            {
                int k = l * dirs + d;
                string sfx = $"_l{l}{(d == 1 ? "_reverse" : "")}";
                var wih = weights("weight_ih" + sfx)!;
                var whh = weights("weight_hh" + sfx)!;
                var bih = weights("bias_ih" + sfx);
                var bhh = weights("bias_hh" + sfx);
                hN[k] = new double[batch][];
                cN[k] = new double[batch][];
                for (int b = 0; b < batch; b++)
                {
                    int len = lengths?[b] ?? steps;
                    var h = h0?[k][b].ToArray() ?? new double[hidden];
                    var c = c0?[k][b].ToArray() ?? new double[hidden];
                    for (int s = 0; s < len; s++)
                    {
                        int t = d == 0 ? s : len - 1 - s;
                        (h, var cNew) = Step(mode, input[t][b], h, c, wih, whh, bih, bhh, hidden);
                        if (mode == RecurrentMode.Lstm) c = cNew;
                        Array.Copy(h, 0, output[t][b], d * hidden, hidden);
                    }
                    hN[k][b] = h;
                    cN[k][b] = c;
                }
            }
            input = output;
        }
        return (input, hN, cN);
    }
}
