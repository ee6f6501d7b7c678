using Microsoft.ML.OnnxRuntime;

namespace Nabla.Onnx.Tests;

/// <summary>ONNX Runtime (CPU) as the reference: runs a model file on a Nabla tensor and returns a Nabla tensor.</summary>
internal static class Ort
{
    public static Tensor Run(string path, Tensor input, bool int64Input = false)
    {
        using var options = new SessionOptions { GraphOptimizationLevel = GraphOptimizationLevel.ORT_DISABLE_ALL };
        using var session = new InferenceSession(path, options);
        long[] shape = input.Shape.ToArray().Select(d => (long)d).ToArray();
        using var value = int64Input
            ? OrtValue.CreateTensorValueFromMemory(input.ToDoubleArray().Select(v => (long)v).ToArray(), shape)
            : OrtValue.CreateTensorValueFromMemory(input.ToArray(), shape);
        using var runOptions = new RunOptions();
        using var outputs = session.Run(runOptions, [session.InputNames[0]], [value], [session.OutputNames[0]]);
        var y = outputs[0];
        int[] yShape = y.GetTensorTypeAndShape().Shape.Select(d => checked((int)d)).ToArray();
        return Tensor.FromArray(y.GetTensorDataAsSpan<float>().ToArray(), yShape);
    }

    /// <summary>max |a − e| / max |e|: the error relative to the output's scale (NaN fails every ≤).</summary>
    public static double ScaledError(Tensor actual, Tensor expected)
    {
        Assert.Equal(expected.Shape.ToArray(), actual.Shape.ToArray());
        double[] a = actual.ToDoubleArray(), e = expected.ToDoubleArray();
        double diff = 0, scale = 0;
        for (int i = 0; i < a.Length; i++)
        {
            diff = Math.Max(diff, Math.Abs(a[i] - e[i]));
            scale = Math.Max(scale, Math.Abs(e[i]));
        }
        Assert.True(scale > 0, "the expected output is all zeros: it would prove nothing");
        return double.IsNaN(diff) ? double.NaN : diff / scale;
    }

    /// <summary>A fresh temporary .onnx path (deleted with its folder by the caller's using).</summary>
    public static TempDir Temp() => new();
}

internal sealed class TempDir : IDisposable
{
    public TempDir()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "nabla-onnx-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public string File(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose()
    {
        try { Directory.Delete(Path, recursive: true); }
        catch (IOException) { /* best effort */ }
    }
}
