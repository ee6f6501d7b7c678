using System.Text.Json;
using Nabla.Diagnostics;
using Nabla.Losses;
using Nabla.NN;
using Nabla.Optim;

namespace Nabla.Tests.Diagnostics;

// one profiler records at a time: the tests that start one run in this collection, one after another
[CollectionDefinition("Profiler", DisableParallelization = true)]
public sealed class ProfilerCollection;

[Collection("Profiler")]
public class ProfilerTests
{
    private const int Steps = 3;

    // a small MLP's training steps: Linear-ReLU-Linear, cross-entropy, backward, SGD
    private static Profiler ProfileMlp()
    {
        Tensor.ManualSeed(0);
        var model = new Sequential(new Linear(4, 8), new ReLU(), new Linear(8, 3));
        var x = Tensor.Randn([5, 4]);
        var y = Tensor.FromArray(new long[] { 0, 1, 2, 1, 0 }, [5]);
        var opt = new SGD(model.Parameters(), lr: 0.1);
        var ce = new CrossEntropyLoss();
        var p = Profiler.Start();
        for (int i = 0; i < Steps; i++)
        {
            opt.ZeroGrad();
            var loss = ce.Forward(model.Forward(x), y);
            loss.Backward();
            opt.Step();
        }
        p.Stop();
        return p;
    }

    [Fact]
    public void BatchNormForwardIsTimedAsItsOwnOp()
    {
        // an op is timed from the previous op's end: BatchNorm used to end with a view op (Reshape), which took the
        // normalisation's time and its output's allocation, leaving the BatchNorm2d row near zero
        Tensor.ManualSeed(0);
        var bn = new BatchNorm2d(3);
        bn.Train();
        var x = Tensor.Randn([2, 3, 4, 4]).RequireGrad();   // below StoragePool.MinLength: every output is a new array
        var p = Profiler.Start();
        for (int i = 0; i < Steps; i++) bn.Forward(x).Sum().Backward();
        p.Stop();
        var table = p.KeyAverages();
        var row = table.Find("BatchNorm2d") ?? throw new Xunit.Sdk.XunitException($"no BatchNorm2d row in\n{table.Table()}");
        Assert.Equal(Steps, row.Calls);
        Assert.True(row.SelfAllocatedBytes >= Steps * 2 * 3 * 4 * 4 * sizeof(float), $"BatchNorm2d allocated {row.SelfAllocatedBytes} B:\n{table.Table()}");
    }

    [Fact]
    public void KeyAveragesCountOpsLayersForwardAndBackward()
    {
        var table = ProfileMlp().KeyAverages();
        KeyAverage Row(string name) => table.Find(name) ?? throw new Xunit.Sdk.XunitException($"no row {name} in\n{table.Table()}");
        // two Linear layers per step, each one forward op and one backward
        Assert.Equal(2 * Steps, Row("Linear").Calls);
        Assert.Equal(ProfilerEventKind.Forward, Row("Linear").Kind);
        Assert.Equal(2 * Steps, Row("LinearBackward").Calls);
        Assert.Equal(ProfilerEventKind.Backward, Row("LinearBackward").Kind);
        Assert.Equal(Steps, Row("Relu").Calls);
        Assert.Equal(Steps, Row("ReluBackward").Calls);
        // each Sequential layer is its own row, the whole backward pass and the optimizer step one each per step
        foreach (var layer in new[] { "Linear [0]", "ReLU [1]", "Linear [2]" })
        {
            Assert.Equal(Steps, Row(layer).Calls);
            Assert.Equal(ProfilerEventKind.Module, Row(layer).Kind);
        }
        Assert.Equal(Steps, Row("Backward").Calls);
        Assert.Equal(Steps, Row("SGD.Step").Calls);
        // a layer's total covers its op; the self times add up to 100 %; the forward ops allocate their outputs
        Assert.True(Row("Linear [0]").TotalTime >= Row("Linear [0]").SelfTime);
        Assert.True(Row("Backward").TotalTime >= Row("LinearBackward").SelfTime);
        Assert.InRange(table.Sum(r => r.SelfPercent), 99.9, 100.1);
        Assert.True(Row("Linear").SelfAllocatedBytes >= 2 * Steps * 5 * 8 * sizeof(float) / 2);
        string text = table.Table();
        Assert.Contains("LinearBackward", text);
        Assert.Contains("Self ms", text);
    }

    [Fact]
    public void BackwardEventsKnowTheirLayerWhenGroupedByModule()
    {
        var p = ProfileMlp();
        var byModule = p.KeyAverages(groupByModule: true);
        var linearBackward = byModule.Where(r => r.Name == "LinearBackward").Select(r => (r.Module, r.Calls)).OrderBy(r => r.Module).ToList();
        Assert.Equal([("0", Steps), ("2", Steps)], linearBackward);
        Assert.Contains(byModule, r => r.Name == "Relu" && r.Module == "1" && r.Calls == Steps);
    }

    [Fact]
    public void ChromeTraceIsJsonWithNestedForwardAndBackwardEvents()
    {
        var p = ProfileMlp();
        string path = Path.Combine(Path.GetTempPath(), $"nabla-trace-{Guid.NewGuid():N}.json");
        try
        {
            p.ExportChromeTrace(path);
            using var doc = JsonDocument.Parse(File.ReadAllText(path));
            var events = doc.RootElement.GetProperty("traceEvents").EnumerateArray()
                .Where(e => e.GetProperty("ph").GetString() == "X")
                .Select(e => (Name: e.GetProperty("name").GetString()!, Cat: e.GetProperty("cat").GetString()!,
                    Ts: e.GetProperty("ts").GetDouble(), Dur: e.GetProperty("dur").GetDouble(), Tid: e.GetProperty("tid").GetInt32()))
                .ToList();
            Assert.Equal(p.Events.Count, events.Count);
            Assert.All(events, e => Assert.True(e.Dur >= 0 && e.Ts >= 0));
            bool Inside((string Name, string Cat, double Ts, double Dur, int Tid) child, (string Name, string Cat, double Ts, double Dur, int Tid) parent) =>
                child.Tid == parent.Tid && child.Ts >= parent.Ts - 1e-3 && child.Ts + child.Dur <= parent.Ts + parent.Dur + 1e-3;
            // every forward Linear op lies inside a "Linear [i]" layer event; every backward inside a "Backward" pass
            var layers = events.Where(e => e.Cat == "module").ToList();
            var passes = events.Where(e => e.Name == "Backward").ToList();
            Assert.Equal(Steps, passes.Count);
            var linears = events.Where(e => e.Name == "Linear" && e.Cat == "forward").ToList();
            Assert.Equal(2 * Steps, linears.Count);
            Assert.All(linears, op => Assert.Contains(layers, l => l.Name.StartsWith("Linear [", StringComparison.Ordinal) && Inside(op, l)));
            var backwards = events.Where(e => e.Cat == "backward").ToList();
            Assert.NotEmpty(backwards);
            Assert.All(backwards, b => Assert.Contains(passes, pass => Inside(b, pass)));
            // the ops a backward runs nest inside it (ReluBackward's multiply, the engine's sums), deeper than it
            var nested = p.Events.Where(e => e.Kind == ProfilerEventKind.Forward && e.Depth >= 2).ToList();
            Assert.NotEmpty(nested);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void OneProfilerAtATimeAndNoResultsWhileRecording()
    {
        using var p = Profiler.Start();
        Assert.True(Profiler.IsActive);
        var again = Assert.Throws<InvalidOperationException>(() => Profiler.Start());
        Assert.Contains("already recording", again.Message);
        var early = Assert.Throws<InvalidOperationException>(() => p.KeyAverages());
        Assert.Contains("Stop()", early.Message);
        p.Stop();
        Assert.False(Profiler.IsActive);
        _ = Tensor.Ones([2]) * 2.0;   // after Stop: not recorded
        Assert.Empty(p.Events);
    }

    [Fact]
    public void ScopesNestAndTimeTheirContent()
    {
        var p = Profiler.Start();
        using (Profiler.Scope("outer"))
        {
            using (Profiler.Scope("inner")) Thread.Sleep(20);
            _ = Tensor.Ones([3]) * 2.0;
        }
        p.Stop();
        var rows = p.KeyAverages();
        var outer = rows.Find("outer")!;
        var inner = rows.Find("inner")!;
        Assert.True(inner.TotalTime >= TimeSpan.FromMilliseconds(15), inner.TotalTime.ToString());
        Assert.True(outer.TotalTime >= inner.TotalTime);
        Assert.True(outer.SelfTime < inner.TotalTime);   // the sleep is the child's, not the parent's
        var innerEvent = p.Events.Single(e => e.Name == "inner");
        Assert.Equal(1, innerEvent.Depth);
        Assert.Equal(1, rows.Find("Mul")!.Calls);
    }

    [Fact]
    public void TheProfilerChargesNoneOfItsOwnAllocationsToTheEvents()
    {
        // inference without a graph: a layer's forward allocates only what its op does, so once the profiler has made
        // its names (first call) every layer event allocates nothing outside its op, and the optimizer step nothing
        Tensor.ManualSeed(0);
        var model = new Sequential(new Linear(4, 8), new ReLU(), new Sequential(new Linear(8, 3), new ReLU()));
        var opt = new SGD(model.Parameters(), lr: 0.1);
        var x = Tensor.Randn([2, 4]);
        var p = Profiler.Start();
        for (int i = 0; i < 5000; i++)   // enough events to grow the profiler's event list several times
            using (Tensor.NoGrad()) model.Forward(x);
        p.Stop();
        var layers = p.Events.Where(e => e.Kind == ProfilerEventKind.Module).ToList();
        Assert.Equal(5 * 5000, layers.Count);
        Assert.Contains(layers, e => e.Name == "Linear [2.0]" && e.Module == "2.0");
        var later = layers.GroupBy(e => e.Name).SelectMany(g => g.Skip(1)).ToList();
        Assert.All(later, e => Assert.True(e.SelfAllocatedBytes == 0, $"{e.Name} at {e.Start}: {e.SelfAllocatedBytes} B"));
        // what the ops inside allocate (their outputs) still counts in the layers' totals
        Assert.All(layers.Where(e => e.Name == "Sequential [2]"), e => Assert.True(e.AllocatedBytes >= 2 * 3 * sizeof(float), $"{e.AllocatedBytes} B"));
    }
}
