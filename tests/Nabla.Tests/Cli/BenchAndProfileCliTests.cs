using System.Text.Json;

namespace Nabla.Tests.Cli;

/// <summary>`nabla bench --quick` and `nabla train --profile`, run as a user would (child processes).</summary>
public sealed class BenchAndProfileCliTests(TinyRun tiny) : IClassFixture<TinyRun>
{
    [Fact]
    public void BenchQuickJsonReportsEveryWorkload()
    {
        var (code, output, err) = CliProcess.Run("bench", "--quick", "--json", "--threads", "1");
        Assert.True(code == 0, err + output);
        using var doc = JsonDocument.Parse(output);
        var root = doc.RootElement;
        Assert.Equal(1, root.GetProperty("threads").GetInt32());
        Assert.True(root.GetProperty("quick").GetBoolean());
        Assert.True(root.GetProperty("peak_rss_mib").GetDouble() > 10);
        var results = root.GetProperty("results").EnumerateArray().ToDictionary(r => r.GetProperty("name").GetString()!);
        foreach (var name in new[] { "fma_peak", "sgemm_256", "sgemm_512", "mlp_train_b128", "mlp_infer_b1", "mlp_infer_b1024", "lenet_train_b64", "cnn_nobn_train_b32", "lstm_train_b64" })
        {
            Assert.True(results.ContainsKey(name), $"no {name} in {output}");
            var r = results[name];
            Assert.True(r.GetProperty("median").GetDouble() > 0, name);
            Assert.True(r.GetProperty("iterations").GetInt32() >= 5, name);
            Assert.Equal(3, r.GetProperty("gc_per_100_iterations").GetArrayLength());
            Assert.True(r.GetProperty("allocated_bytes_per_iteration").GetDouble() >= 0, name);
        }
        // latency: p99 at or above the median (p50), best at or below it
        var infer = results["mlp_infer_b1"];
        Assert.Equal("us/call", infer.GetProperty("unit").GetString());
        Assert.True(infer.GetProperty("p99").GetDouble() >= infer.GetProperty("median").GetDouble());
        Assert.True(infer.GetProperty("best").GetDouble() <= infer.GetProperty("median").GetDouble());
        // SGEMM as a share of the FMA peak measured in the same run; a rate has no p99
        var gemm = results["sgemm_256"];
        Assert.InRange(gemm.GetProperty("percent_of_peak").GetDouble(), 0.01, 200);
        Assert.Equal(JsonValueKind.Null, gemm.GetProperty("p99").ValueKind);
        // a training step allocates its activations and gradients: more than nothing, far less than a GiB
        Assert.InRange(results["mlp_train_b128"].GetProperty("allocated_bytes_per_iteration").GetDouble(), 0, 1 << 30);
    }

    [Fact]
    public void TrainProfilePrintsTheTableWritesATraceAndStops()
    {
        string root = Path.Combine(tiny.Root, "prof-" + Guid.NewGuid().ToString("N"));
        // 64 images in batches of 16: 4 steps an epoch; 5 warm-up steps, then 2 profiled (steps 6 and 7, in epoch 2)
        var (code, output, err) = CliProcess.Run("train", "--hidden", "8", "--epochs", "3", "--batch-size", "16", "--data", tiny.Data,
            "--runs-dir", root, "--run", "p", "--threads", "1", "--plain", "--profile", "2");
        Assert.True(code == 0, err + output);
        Assert.Contains("profile: 2 training step(s) after 5 warm-up steps", output);
        foreach (var row in new[] { "LinearBackward", "Linear [0]", "Linear [2]", "ReLU [1]", "Trainer.Step", "SGD.Step", "Backward" })
            Assert.Contains(row, output);
        Assert.Contains("stopped after the profiled steps at epoch 2, step 7", output);
        string trace = Path.Combine(root, "p", "trace.json");
        using var doc = JsonDocument.Parse(File.ReadAllText(trace));
        var steps = doc.RootElement.GetProperty("traceEvents").EnumerateArray().Where(e => e.GetProperty("name").GetString() == "Trainer.Step").ToList();
        Assert.Equal(2, steps.Count);
        Assert.All(steps, e => Assert.Equal("X", e.GetProperty("ph").GetString()));
        // the run stopped as after Ctrl+C: its checkpoint resumes it (without profiling) to the end
        Assert.True(File.Exists(Path.Combine(root, "p", "checkpoint.safetensors")));
        (code, output, err) = CliProcess.Run("train", "--resume", Path.Combine(root, "p"), "--plain");
        Assert.True(code == 0, err + output);
        Assert.Contains("test accuracy:", output);
    }

    [Fact]
    public void ProfileNeedsAPositiveStepCount()
    {
        var (code, _, err) = CliProcess.Run("train", "--profile", "0");
        Assert.Equal(2, code);
        Assert.Contains("--profile must be at least 1, got 0", err);
    }
}
