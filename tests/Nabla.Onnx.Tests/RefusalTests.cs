using Nabla.NN;

namespace Nabla.Onnx.Tests;

/// <summary>What ONNX (or the exporter) cannot express is refused at export, naming the module and the reason.</summary>
public class RefusalTests
{
    private sealed class Doubler : Module
    {
        public override Tensor Forward(Tensor input) => input * 2;
    }

    private static string Refused<T>(Module model, Tensor x, int opset = 17) where T : Exception
    {
        using var dir = Ort.Temp();
        string path = dir.File("m.onnx");
        var e = Assert.Throws<T>(() => Onnx.Export(model, x, path, opset));
        Assert.False(File.Exists(path), "a refused export must not leave a file");
        return e.Message;
    }

    [Fact]
    public void AnUnknownModuleIsNamedWithItsPlace()
    {
        var msg = Refused<NotSupportedException>(new Sequential(new Linear(3, 3), new Doubler()), Tensor.Randn([2, 3]));
        Assert.Contains("Doubler at 1 has no ONNX form", msg);
        Assert.Contains("IOnnxExportable", msg);
    }

    [Fact]
    public void BatchNormWithoutRunningStatisticsIsRefused()
    {
        var msg = Refused<NotSupportedException>(new Sequential(new BatchNorm1d(3, trackRunningStats: false)), Tensor.Randn([4, 3]));
        Assert.Contains("BatchNorm1d at 0 has track_running_stats=false", msg);
    }

    [Fact]
    public void UnevenAdaptivePoolingIsRefused()
    {
        var msg = Refused<NotSupportedException>(new AdaptiveAvgPool2d(3), Tensor.Randn([1, 2, 7, 7]));
        Assert.Contains("output size (3, 3) does not divide the input's 7x7", msg);
    }

    [Fact]
    public void DivisorOverrideWithCeilModeIsRefused()
    {
        var msg = Refused<NotSupportedException>(new Sequential(new AvgPool2d(2, ceilMode: true, divisorOverride: 3)), Tensor.Randn([1, 2, 5, 5]));
        Assert.Contains("AvgPool2d at 0 has divisor_override with ceil_mode", msg);
    }

    [Fact]
    public void UnbatchedRecurrentInputIsRefused()
    {
        var msg = Refused<NotSupportedException>(new LSTM(3, 4), Tensor.Randn([5, 3]));
        Assert.Contains("LSTM at (model) exports for batched input", msg);
    }

    [Fact]
    public void OpsetOutsideTheSupportedRangeIsRefused()
    {
        var msg = Refused<ArgumentOutOfRangeException>(new Linear(3, 3), Tensor.Randn([2, 3]), opset: 9);
        Assert.Contains("opset must be in 13..23, got 9", msg);
    }

    [Fact]
    public void Float64ModelsAreRefused()
    {
        var msg = Refused<ArgumentException>(new Linear(3, 3, dtype: DType.Float64), Tensor.Randn([2, 3]));
        Assert.Contains("'weight' is Float64", msg);
    }
}
