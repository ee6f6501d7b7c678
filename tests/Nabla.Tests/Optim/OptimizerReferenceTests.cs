using Nabla.NN;
using Nabla.Optim;

namespace Nabla.Tests.Optim;

/// <summary>
/// Each optimizer against (a) an independent reference written here with plain doubles from PyTorch's documented
/// formulas and (b) trajectories recorded from real torch 1.13 (<see cref="TorchReference"/>), in float32 within 1e-6
/// relative and float64 within 1e-12.
/// </summary>
public class OptimizerReferenceTests
{
    internal static readonly double[] Start = [1.0, -2.0, 0.5];

    internal static double Grad(int t, int j) => ((t * 7 + j * 3) % 11 - 5) / 4.0;

    /// <summary>Runs <paramref name="make"/> on a 3-element parameter for <paramref name="steps"/> steps; returns θ after each.</summary>
    internal static double[] Run(Func<Parameter[], Optimizer> make, DType dtype, int steps = 6)
    {
        var p = new Parameter(Tensor.FromArray(Start).To(dtype));
        var opt = make([p]);
        var outp = new List<double>();
        for (int t = 0; t < steps; t++)
        {
            p.Grad = Tensor.FromArray(new[] { Grad(t, 0), Grad(t, 1), Grad(t, 2) }).To(dtype);
            opt.Step();
            outp.AddRange(p.ToDoubleArray());
        }
        return [.. outp];
    }

    internal static void Close(double[] expected, double[] actual, double rel)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            double tol = rel * Math.Max(Math.Abs(expected[i]), 1e-3);
            Assert.True(Math.Abs(expected[i] - actual[i]) <= tol, $"element {i}: expected {expected[i]:R}, got {actual[i]:R} (tolerance {tol:E2})");
        }
    }

    // ---- independent references: PyTorch's documented update rules with plain doubles ----

    public delegate void Rule(int t, double[] theta, double[] g);

    private static double[] Reference(Func<Rule> make, int steps = 6)
    {
        var theta = (double[])Start.Clone();
        var rule = make();
        var outp = new List<double>();
        for (int t = 0; t < steps; t++)
        {
            var g = new[] { Grad(t, 0), Grad(t, 1), Grad(t, 2) };
            rule(t, theta, g);
            outp.AddRange(theta);
        }
        return [.. outp];
    }

    private static Rule Sgd(double lr, double mu, double tau, double wd, bool nesterov, bool maximize)
    {
        var b = new double[3];
        return (t, th, g) =>
        {
            for (int j = 0; j < 3; j++)
            {
                double d = (maximize ? -g[j] : g[j]) + wd * th[j];
                if (mu != 0)
                {
                    b[j] = t == 0 ? d : mu * b[j] + (1 - tau) * d;
                    d = nesterov ? d + mu * b[j] : b[j];
                }
                th[j] -= lr * d;
            }
        };
    }

    private static Rule Adam(double lr, double b1, double b2, double eps, double wd, bool amsgrad, bool maximize, bool decoupled)
    {
        double[] m = new double[3], v = new double[3], vmax = new double[3];
        return (t, th, g) =>
        {
            int step = t + 1;
            for (int j = 0; j < 3; j++)
            {
                double d = maximize ? -g[j] : g[j];
                if (decoupled) th[j] *= 1 - lr * wd;
                else d += wd * th[j];
                m[j] = b1 * m[j] + (1 - b1) * d;
                v[j] = b2 * v[j] + (1 - b2) * d * d;
                vmax[j] = Math.Max(vmax[j], v[j]);
                double second = amsgrad ? vmax[j] : v[j];
                double mHat = m[j] / (1 - Math.Pow(b1, step));
                double denom = Math.Sqrt(second) / Math.Sqrt(1 - Math.Pow(b2, step)) + eps;
                th[j] -= lr * mHat / denom;
            }
        };
    }

    private static Rule Rms(double lr, double alpha, double eps, double wd, double mu, bool centered)
    {
        double[] v = new double[3], gAvg = new double[3], b = new double[3];
        return (t, th, g) =>
        {
            for (int j = 0; j < 3; j++)
            {
                double d = g[j] + wd * th[j];
                v[j] = alpha * v[j] + (1 - alpha) * d * d;
                double a;
                if (centered)
                {
                    gAvg[j] = alpha * gAvg[j] + (1 - alpha) * d;
                    a = Math.Sqrt(v[j] - gAvg[j] * gAvg[j]) + eps;
                }
                else a = Math.Sqrt(v[j]) + eps;
                if (mu > 0)
                {
                    b[j] = mu * b[j] + d / a;
                    th[j] -= lr * b[j];
                }
                else th[j] -= lr * d / a;
            }
        };
    }

    private static Rule Adagrad(double lr, double lrDecay, double wd, double init, double eps)
    {
        var s = new[] { init, init, init };
        return (t, th, g) =>
        {
            double clr = lr / (1 + t * lrDecay);
            for (int j = 0; j < 3; j++)
            {
                double d = g[j] + wd * th[j];
                s[j] += d * d;
                th[j] -= clr * d / (Math.Sqrt(s[j]) + eps);
            }
        };
    }

    public static IEnumerable<object[]> Cases() =>
    [
        ["sgd plain", (Func<Parameter[], Optimizer>)(ps => new SGD(ps, 0.1)), (Func<Rule>)(() => Sgd(0.1, 0, 0, 0, false, false))],
        ["sgd momentum dampening wd", (Func<Parameter[], Optimizer>)(ps => new SGD(ps, 0.1, momentum: 0.9, dampening: 0.1, weightDecay: 0.01)), (Func<Rule>)(() => Sgd(0.1, 0.9, 0.1, 0.01, false, false))],
        ["sgd nesterov maximize", (Func<Parameter[], Optimizer>)(ps => new SGD(ps, 0.1, momentum: 0.8, nesterov: true, weightDecay: 0.05, maximize: true)), (Func<Rule>)(() => Sgd(0.1, 0.8, 0, 0.05, true, true))],
        ["adam", (Func<Parameter[], Optimizer>)(ps => new Adam(ps, 0.01, (0.8, 0.95), 1e-6, weightDecay: 0.1)), (Func<Rule>)(() => Adam(0.01, 0.8, 0.95, 1e-6, 0.1, false, false, false))],
        ["adam amsgrad maximize", (Func<Parameter[], Optimizer>)(ps => new Adam(ps, 0.02, amsgrad: true, maximize: true)), (Func<Rule>)(() => Adam(0.02, 0.9, 0.999, 1e-8, 0, true, true, false))],
        ["adamw amsgrad", (Func<Parameter[], Optimizer>)(ps => new AdamW(ps, 0.01, weightDecay: 0.1, amsgrad: true)), (Func<Rule>)(() => Adam(0.01, 0.9, 0.999, 1e-8, 0.1, true, false, true))],
        ["rmsprop centered momentum wd", (Func<Parameter[], Optimizer>)(ps => new RMSprop(ps, 0.01, 0.9, weightDecay: 0.1, momentum: 0.5, centered: true)), (Func<Rule>)(() => Rms(0.01, 0.9, 1e-8, 0.1, 0.5, true))],
        ["rmsprop plain", (Func<Parameter[], Optimizer>)(ps => new RMSprop(ps, 0.01)), (Func<Rule>)(() => Rms(0.01, 0.99, 1e-8, 0, 0, false))],
        ["adagrad", (Func<Parameter[], Optimizer>)(ps => new Adagrad(ps, 0.1, lrDecay: 0.05, weightDecay: 0.1, initialAccumulatorValue: 0.2)), (Func<Rule>)(() => Adagrad(0.1, 0.05, 0.1, 0.2, 1e-10))],
    ];

    [Theory]
    [MemberData(nameof(Cases))]
    public void MatchesTheDocumentedRuleInFloat32AndFloat64(string name, Func<Parameter[], Optimizer> make, Func<Rule> rule)
    {
        var expected = Reference(rule);
        Close(expected, Run(make, DType.Float32), 1e-6);
        Close(expected, Run(make, DType.Float64), 1e-12);
        Assert.NotEmpty(name);
    }

    public static IEnumerable<object[]> TorchCases() =>
    [
        ["Sgd", TorchReference.Sgd, (Func<Parameter[], Optimizer>)(ps => new SGD(ps, 0.1, momentum: 0.9, dampening: 0.1, weightDecay: 0.01))],
        ["SgdNesterovMax", TorchReference.SgdNesterovMax, (Func<Parameter[], Optimizer>)(ps => new SGD(ps, 0.1, momentum: 0.8, nesterov: true, weightDecay: 0.05, maximize: true))],
        ["Adam", TorchReference.Adam, (Func<Parameter[], Optimizer>)(ps => new Adam(ps, 0.01, (0.8, 0.95), 1e-6, weightDecay: 0.1))],
        ["AdamAmsgrad", TorchReference.AdamAmsgrad, (Func<Parameter[], Optimizer>)(ps => new Adam(ps, 0.02, amsgrad: true, maximize: true))],
        ["AdamW", TorchReference.AdamW, (Func<Parameter[], Optimizer>)(ps => new AdamW(ps, 0.01, weightDecay: 0.1, amsgrad: true))],
        ["RMSprop", TorchReference.RMSprop, (Func<Parameter[], Optimizer>)(ps => new RMSprop(ps, 0.01, 0.9, weightDecay: 0.1, momentum: 0.5, centered: true))],
        ["RMSpropPlain", TorchReference.RMSpropPlain, (Func<Parameter[], Optimizer>)(ps => new RMSprop(ps, 0.01))],
        ["Adagrad", TorchReference.Adagrad, (Func<Parameter[], Optimizer>)(ps => new Adagrad(ps, 0.1, lrDecay: 0.05, weightDecay: 0.1, initialAccumulatorValue: 0.2))],
    ];

    [Theory]
    [MemberData(nameof(TorchCases))]
    public void MatchesTorchTrajectoriesInFloat32(string name, double[] torch, Func<Parameter[], Optimizer> make)
    {
        Close(torch, Run(make, DType.Float32), 1e-6);
        Assert.NotEmpty(name);
    }

    [Fact]
    public void MatchesTorchAdamInFloat64()
    {
        Close(TorchReference.AdamF64, Run(ps => new Adam(ps, 0.01, amsgrad: true, weightDecay: 0.01), DType.Float64), 1e-12);
    }
}
