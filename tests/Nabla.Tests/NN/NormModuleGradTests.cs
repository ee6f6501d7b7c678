using Nabla.Autograd;
using Nabla.NN;

namespace Nabla.Tests.NN;

/// <summary>
/// Gradcheck (float64) through the modules in Train and Eval mode for every option: affine, track_running_stats,
/// momentum (including null), input rank, batch size 1 where it is defined, LayerNorm/RMSNorm feature size 1.
/// </summary>
public class NormModuleGradTests
{
    public static TheoryData<string> Cases()
    {
        var data = new TheoryData<string>();
        foreach (var name in All().Keys) data.Add(name);
        return data;
    }

    private static Dictionary<string, Func<(Module Module, int[] Shape)>> All()
    {
        var d = new Dictionary<string, Func<(Module, int[])>>();
        int[][] bnShapes = [[3, 2], [1, 2], [2, 2, 3], [2, 2, 2, 2], [1, 2, 2, 3]];
        foreach (var shape in bnShapes)
            foreach (bool affine in new[] { true, false })
                foreach (bool track in new[] { true, false })
                    foreach (double? momentum in new double?[] { 0.1, null })
                    {
                        if (!track && momentum is null) continue;   // momentum only matters with running stats
                        if (!track && shape.Length == 2 && shape[0] == 1) continue;   // batch statistics of one value: undefined in both modes
                        var s = shape;
                        string key = $"bn{(s.Length == 4 ? "2d" : "1d")}_{string.Join("x", s)}_affine{affine}_track{track}_mom{momentum?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "None"}";
                        d[key] = () => (s.Length == 4
                            ? new BatchNorm2d(2, momentum: momentum, affine: affine, trackRunningStats: track, dtype: DType.Float64)
                            : new BatchNorm1d(2, momentum: momentum, affine: affine, trackRunningStats: track, dtype: DType.Float64), s);
                    }
        foreach (bool affine in new[] { true, false })
            foreach (bool track in new[] { true, false })
            {
                d[$"in1d_affine{affine}_track{track}"] = () => (new InstanceNorm1d(2, affine: affine, trackRunningStats: track, dtype: DType.Float64), [2, 2, 4]);
                d[$"in1d_unbatched_affine{affine}_track{track}"] = () => (new InstanceNorm1d(2, affine: affine, trackRunningStats: track, dtype: DType.Float64), [2, 5]);
                d[$"in2d_batch1_affine{affine}_track{track}"] = () => (new InstanceNorm2d(2, affine: affine, trackRunningStats: track, dtype: DType.Float64), [1, 2, 2, 3]);
            }
        foreach (int groups in new[] { 1, 2, 4 })
            foreach (bool affine in new[] { true, false })
                d[$"gn_g{groups}_affine{affine}"] = () => (new GroupNorm(groups, 4, affine: affine, dtype: DType.Float64), [2, 4, 3]);
        d["gn_batch1_2d"] = () => (new GroupNorm(2, 4, dtype: DType.Float64), [1, 4]);
        foreach (bool affine in new[] { true, false })
            foreach (bool bias in new[] { true, false })
            {
                if (!affine && !bias) continue;
                d[$"ln_affine{affine}_bias{bias}"] = () => (new LayerNorm(5, elementwiseAffine: affine, bias: bias, dtype: DType.Float64), [3, 5]);
            }
        d["ln_feature1"] = () => (new LayerNorm(1, dtype: DType.Float64), [4, 1]);
        d["ln_two_dims_batch1"] = () => (new LayerNorm([2, 3], dtype: DType.Float64), [1, 2, 3]);
        d["rms_default_eps"] = () => (new RMSNorm(4, dtype: DType.Float64), [3, 4]);
        d["rms_eps_no_affine"] = () => (new RMSNorm(4, eps: 1e-3, elementwiseAffine: false, dtype: DType.Float64), [3, 4]);
        d["rms_feature1"] = () => (new RMSNorm(1, eps: 1e-2, dtype: DType.Float64), [3, 1]);
        return d;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void GradCheckInTrainAndEvalMode(string name)
    {
        var (module, shape) = All()[name]();
        var g = new Generator(11);
        foreach (var p in module.Parameters()) p.Copy(Tensor.Uniform(p.Shape.ToArray(), 0.5, 1.5, DType.Float64, g));
        // a few training batches first, so eval mode runs on non-trivial running statistics
        bool batchStatsNeeded = module is BatchNormBase && shape.Length >= 2 && shape[0] * shape.Skip(2).Aggregate(1, (a, b) => a * b) == 1;
        int[] warmShape = batchStatsNeeded ? [4, .. shape[1..]] : shape;
        for (int i = 0; i < 3; i++) module.Forward(Tensor.Randn(warmShape, DType.Float64, g) * 1.5 + 0.5);

        foreach (bool train in new[] { true, false })
        {
            module.Train(train);
            if (train && batchStatsNeeded) continue;    // one value per channel: undefined in training (see NormErrorTests)
            var x = Tensor.Randn(shape, DType.Float64, g);
            var inputs = new List<Tensor> { x };
            inputs.AddRange(module.Parameters());
            var result = GradCheck.Check(() => module.Forward(x), inputs);
            Assert.True(result.Passed, $"{name} ({(train ? "train" : "eval")}): {result}");
        }
    }
}
