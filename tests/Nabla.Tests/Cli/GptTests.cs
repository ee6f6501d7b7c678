using System.Text.Json;
using Nabla.Cli;
using Nabla.IO;
using Nabla.Training;

namespace Nabla.Tests.Cli;

/// <summary>The gpt preset: its model against PyTorch's TransformerEncoderLayer, causality, sampling, and the CLI (train, resume, generate, errors).</summary>
public sealed class GptTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("nabla-gpt").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private static (int Code, string Out, string Err) Run(params string[] args) => TinyRun.Run(args);

    // every parameter k (in ordinal name order), element i: the formula of tests/fixtures/torch/gpt_forward.py
    private static void Fill(Gpt model)
    {
        var state = model.StateDict();
        int k = 0;
        foreach (var name in state.Keys.Order(StringComparer.Ordinal))
        {
            var t = state[name];
            var v = new float[t.Numel];
            for (int i = 0; i < v.Length; i++) v[i] = (float)(0.3 * Math.Sin(0.37 * i + 0.71 * k + 0.5) + (k % 3 == 0 ? 0.05 * k : 0.0));
            t.CopyFrom(Tensor.FromArray(v, [.. t.Shape]));
            k++;
        }
    }

    [Fact]
    public void ForwardMatchesPyTorch()
    {
        // tests/fixtures/torch/gpt_forward.py: PyTorch 1.13, float64, TransformerEncoderLayer(8, 2, 32, 0, "gelu", batch_first, norm_first) x 2
        double[] expected = [15.06831557, 11.65123424, 15.41638843, 11.42697987, 15.50944961, 11.46817224, 15.33535832, 15.01206311, 11.62162755, 15.36176716, 11.39491939, 15.45802404, 11.43227923, 15.28827609, 15.28998433, 11.84664359, 15.64726816, 11.61434472, 15.74694283, 11.65057208, 15.57600479, 14.96715131, 11.57183684, 15.31268577, 11.3493216, 15.4048643, 11.39051111, 15.23166128, 15.18296808, 11.75937588, 15.53702697, 11.52954645, 15.6350689, 11.56651616, 15.46430331, 15.23734225, 11.78850478, 15.58959464, 11.56125264, 15.68437325, 11.6020644, 15.50931323, 15.11465123, 11.69172508, 15.4639381, 11.46648885, 15.55771671, 11.5072518, 15.38375271, 15.27602998, 11.81788548, 15.62916659, 11.59008427, 15.72414107, 11.6310598, 15.54856303, 14.91964474, 11.52742816, 15.26240188, 11.30749702, 15.3522745, 11.35063843, 15.17753779, 15.3232768, 11.88004422, 15.682609, 11.64576079, 15.78413917, 11.68032274, 15.61462168];
        var model = new Gpt(vocab: 7, context: 8, dim: 8, layers: 2, heads: 2, dropout: 0, new Generator(1));
        Assert.Equal(
            "blocks.0.linear1.bias blocks.0.linear1.weight blocks.0.linear2.bias blocks.0.linear2.weight blocks.0.norm1.bias blocks.0.norm1.weight blocks.0.norm2.bias blocks.0.norm2.weight blocks.0.self_attn.in_proj_bias blocks.0.self_attn.in_proj_weight blocks.0.self_attn.out_proj.bias blocks.0.self_attn.out_proj.weight",
            string.Join(" ", model.StateDict().Keys.Where(k => k.StartsWith("blocks.0.", StringComparison.Ordinal)).Order(StringComparer.Ordinal)));
        Assert.Equal(["blocks.1.norm1.weight", "ln_f.bias", "ln_f.weight", "pos_emb.weight", "tok_emb.weight"],
            model.StateDict().Keys.Where(k => !k.StartsWith("blocks.", StringComparison.Ordinal) || k == "blocks.1.norm1.weight").Order(StringComparer.Ordinal));
        Fill(model);
        model.Eval();
        var logits = model.Forward(Tensor.FromArray(new float[] { 0, 3, 6, 2, 5, 1, 1, 4, 0, 6 }, 2, 5));
        Assert.Equal([2, 5, 7], logits.Shape.ToArray());
        var got = logits.ToDoubleArray();
        for (int i = 0; i < expected.Length; i++) Assert.True(Math.Abs(got[i] - expected[i]) <= 2e-5 * Math.Abs(expected[i]) + 1e-5, $"logit {i}: {got[i]} vs PyTorch {expected[i]}");
    }

    [Fact]
    public void LaterCharactersDoNotChangeEarlierLogits()
    {
        var model = new Gpt(vocab: 5, context: 6, dim: 8, layers: 2, heads: 2, dropout: 0, new Generator(3));
        var a = model.Forward(Tensor.FromArray(new float[] { 1, 2, 3, 4, 0, 1 }, 1, 6)).ToDoubleArray();
        var b = model.Forward(Tensor.FromArray(new float[] { 1, 2, 3, 0, 4, 4 }, 1, 6)).ToDoubleArray();
        for (int i = 0; i < 3 * 5; i++) Assert.Equal(a[i], b[i]);          // positions 0..2 see the same prefix
        Assert.NotEqual(a[3 * 5], b[3 * 5]);                              // position 3 sees a different character
        var ex = Assert.Throws<ArgumentException>(() => model.Forward(Tensor.Zeros([1, 7])));
        Assert.Contains("7 positions but the model's context is 6", ex.Message);
    }

    [Fact]
    public void PickIsGreedyAtTemperatureZeroAndRespectsTopK()
    {
        double[] logits = [0.5, 2.0, 1.9, -1.0];
        Assert.Equal(1, GenerateCommand.Pick(logits, 0, null, new Generator(1)));
        var g = new Generator(7);
        var counts = new int[4];
        for (int i = 0; i < 4000; i++) counts[GenerateCommand.Pick(logits, 1.0, 2, g)]++;
        Assert.Equal(0, counts[0] + counts[3]);                           // outside the top 2
        // softmax over {2.0, 1.9}: p(1) = 1 / (1 + e^-0.1) = 0.525
        Assert.InRange(counts[1] / 4000.0, 0.525 - 0.03, 0.525 + 0.03);
        var all = new int[4];
        for (int i = 0; i < 4000; i++) all[GenerateCommand.Pick(logits, 1.0, null, g)]++;
        Assert.True(all[0] > 0 && all[3] > 0, string.Join(",", all));
    }

    private string TinyText()
    {
        string path = Path.Combine(_root, "text.txt");
        File.WriteAllText(path, string.Concat(Enumerable.Repeat("the cat sat on the mat.\n", 100)));
        return path;
    }

    private (int Code, string Out, string Err) TrainTiny(string text, string run, params string[] extra) =>
        Run(["train", "--model", "gpt", "--text", text, "--context", "16", "--dim", "16", "--layers", "1", "--heads", "2", "--batch-size", "8",
            "--lr", "0.01", "--runs-dir", _root, "--run", run, "--threads", "2", .. extra]);

    [Fact]
    public void TrainsWritesTheRunFolderAndGenerates()
    {
        string text = TinyText();
        var (code, output, err) = TrainTiny(text, "a", "--epochs", "2");
        Assert.True(code == 0, err + output);
        // 2,400 characters: 2,160 to train on, 16 steps of 8 x 16 an epoch
        Assert.Contains("2 epochs of 16 steps", output);
        Assert.Matches(@"epoch   2/2  loss [0-9.]+ \([0-9.]+ bits/char\)  val loss [0-9.]+ \([0-9.]+ bits/char\)", output);
        string dir = Path.Combine(_root, "a");
        var rows = MetricsCsv.Read(Path.Combine(dir, "metrics.csv"));
        Assert.Equal(2, rows.Count);
        // 12 distinct characters: a uniform guess costs ln 12 = 2.48 nats; the text is nearly deterministic
        Assert.True(rows[1].ValLoss < 1.6 && rows[1].ValLoss < rows[0].ValLoss, $"{rows[0].ValLoss} then {rows[1].ValLoss}");
        using (var doc = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(dir, "run.json"))))
        {
            Assert.Equal("gpt", doc.RootElement.GetProperty("model").GetString());
            Assert.Equal("\n .acehmnost", doc.RootElement.GetProperty("vocab").GetString());
        }
        Assert.Contains("tok_emb.weight", SafeTensors.Load(Path.Combine(dir, "model.safetensors")).Tensors.Keys);
        Assert.True(File.Exists(Path.Combine(dir, "checkpoint.safetensors")));

        var g1 = Run("generate", dir, "--prompt", "the ", "--length", "40", "--seed", "5");
        var g2 = Run("generate", dir, "--prompt", "the ", "--length", "40", "--seed", "5");
        Assert.True(g1.Code == 0, g1.Err);
        Assert.Equal(g1.Out, g2.Out);                                     // the same seed, the same text
        Assert.StartsWith("the ", g1.Out);
        Assert.Equal(4 + 40 + 1, g1.Out.Length);                          // the prompt, 40 characters, a line break
        Assert.All(g1.Out, ch => Assert.Contains(ch, "\n .acehmnost"));
        var greedy = Run("generate", dir, "--prompt", "the ", "--length", "20", "--temperature", "0", "--seed", "1");
        Assert.Equal(greedy.Out, Run("generate", dir, "--prompt", "the ", "--length", "20", "--temperature", "0", "--seed", "2").Out);

        var bad = Run("generate", dir, "--prompt", "the Cat");
        Assert.Equal(2, bad.Code);
        Assert.Contains("nabla generate: the prompt's character 'C' (at position 4) is not in the model's vocabulary of 12 characters: '\\n .acehmnost'.", bad.Err);
        // eval scores the saved weights on the validation split: the very line training ended with
        var eval = Run("eval", dir);
        Assert.True(eval.Code == 0, eval.Err);
        string last = output.Split('\n').Single(l => l.StartsWith("validation loss: ", StringComparison.Ordinal));
        Assert.Contains(last + "\n", eval.Out);
        Assert.Contains("(239 validation characters predicted)", eval.Out);   // 2,400 characters, 2,160 to train on
        var evalJson = Run("eval", dir, "--json");
        using (var doc = JsonDocument.Parse(evalJson.Out))
            Assert.Equal(239, doc.RootElement.GetProperty("validation_characters").GetInt64());
        Assert.Contains("--data does not apply", Run("eval", dir, "--data", _root).Err);
        var predict = Run("predict", dir, text);
        Assert.Equal(2, predict.Code);
        Assert.Contains("holds a gpt language model", predict.Err);
        // ONNX Runtime runs the file in tests/Nabla.Onnx.Tests (ExportCommandTests)
        var export = Run("export", dir, Path.Combine(_root, "x.onnx"));
        Assert.True(export.Code == 0, export.Err);
        Assert.Contains("input 'input' (batch, 16) int64 character ids, output 'output' (batch, 16, 12) next-character logits", export.Out);
    }

    [Fact]
    public void TensorBoardGetsTheBatchAndEpochScalarsOfAGptRun()
    {
        string text = TinyText(), tb = Path.Combine(_root, "tb");
        var (code, output, err) = TrainTiny(text, "tbrun", "--epochs", "2", "--tensorboard", tb);
        Assert.True(code == 0, err + output);
        var events = Nabla.Tests.IO.EventFileReader.Read(Assert.Single(Directory.GetFiles(tb)));
        // 16 steps an epoch: batch scalars every 16 / 10 = 1 step, the epoch scalars are metrics.csv's
        Assert.Equal(Enumerable.Range(1, 32).Select(i => (long)i), events.Where(e => e.Tag == "batch/loss").Select(e => e.Step));
        var rows = MetricsCsv.Read(Path.Combine(_root, "tbrun", "metrics.csv"));
        Assert.Equal(rows.Select(r => r.ValLoss), events.Where(e => e.Tag == "loss/validation").Select(e => (double)e.Scalar!.Value), (a, b) => Math.Abs(a - b) < 1e-6);
        Assert.Equal(2, events.Count(e => e.Tag == "weights/tok_emb.weight"));
        Assert.Equal(2, events.Count(e => e.Tag == "gradients/blocks.0.self_attn.in_proj_weight"));

        // --resume takes --tensorboard too: the continued run logs to a new file
        var (code2, output2, err2) = Run("train", "--resume", Path.Combine(_root, "tbrun"), "--tensorboard", tb);
        Assert.True(code2 == 0, err2 + output2);
        Assert.Equal(2, Directory.GetFiles(tb).Length);
    }

    [Fact]
    public void TrainReportDrawsTheGptModelAndOneStepsGraph()
    {
        string text = TinyText();
        var (code, output, err) = TrainTiny(text, "rep", "--epochs", "1", "--report");
        Assert.True(code == 0, err + output);
        string dir = Path.Combine(_root, "rep");
        Assert.Contains($"report: {Path.Combine(dir, "report.html")}", output);
        string html = File.ReadAllText(Path.Combine(dir, "report.html"));
        Assert.DoesNotContain("Not available", html);
        Assert.Contains("parameters; 1 block of 2 heads, width 16, context 16, 12 characters.", html);
        // the first 4 windows of 16 characters, the loss the model gives them, and the graph with its parameters
        var m = System.Text.RegularExpressions.Regex.Match(html, @"The first 4 windows of 16 characters of the training text, cross-entropy loss ([0-9.]+)");
        Assert.True(m.Success, html);
        Assert.InRange(double.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture), 0.01, Math.Log(12) + 1);
        int graph = html.IndexOf("<section id=\"graph\">", StringComparison.Ordinal);
        Assert.Contains("<svg", html[graph..]);
        Assert.Contains("tok_emb", html[graph..]);
        // report DIR on the same run gives the same sections
        var again = Run("report", dir);
        Assert.True(again.Code == 0, again.Err);
        Assert.DoesNotContain("Not available", File.ReadAllText(Path.Combine(dir, "report.html")));
    }

    [Fact]
    public void ResumeContinuesBitForBit()
    {
        string text = TinyText();
        var whole = TrainTiny(text, "whole", "--epochs", "2", "--schedule", "constant", "--dropout", "0.1");
        Assert.True(whole.Code == 0, whole.Err + whole.Out);
        var first = TrainTiny(text, "split", "--epochs", "1", "--schedule", "constant", "--dropout", "0.1");
        Assert.True(first.Code == 0, first.Err + first.Out);
        // the same run asked for one more epoch (a constant schedule does not depend on the length)
        string config = Path.Combine(_root, "split", "run.json");
        File.WriteAllText(config, File.ReadAllText(config).Replace("\"epochs\": \"1\"", "\"epochs\": \"2\"", StringComparison.Ordinal));
        var resumed = Run("train", "--resume", Path.Combine(_root, "split"), "--threads", "1");
        Assert.True(resumed.Code == 0, resumed.Err + resumed.Out);
        Assert.Contains("resuming", resumed.Out);
        var a = SafeTensors.Load(Path.Combine(_root, "whole", "model.safetensors")).Tensors;
        var b = SafeTensors.Load(Path.Combine(_root, "split", "model.safetensors")).Tensors;
        foreach (var (name, t) in a) Assert.Equal(t.ToDoubleArray(), b[name].ToDoubleArray());
        Assert.Equal(File.ReadAllText(Path.Combine(_root, "whole", "metrics.csv")).Split('\n').Select(l => string.Join(",", l.Split(',').SkipLast(1))),
            File.ReadAllText(Path.Combine(_root, "split", "metrics.csv")).Split('\n').Select(l => string.Join(",", l.Split(',').SkipLast(1))));
    }

    [Theory]
    [InlineData(new[] { "train", "--model", "gpt", "--hidden", "8" }, "nabla train: --hidden does not apply to --model gpt")]
    [InlineData(new[] { "train", "--model", "gpt", "--dim", "10", "--heads", "4" }, "nabla train: --dim (10) must be divisible by --heads (4).")]
    [InlineData(new[] { "train", "--model", "gpt", "--optimizer", "sgd" }, "nabla train: --model gpt trains with adamw or adam, not --optimizer sgd.")]
    [InlineData(new[] { "train", "--model", "gpt", "--text", "/nonexistent/t.txt" }, "nabla train: text file '/nonexistent/t.txt' does not exist.")]
    [InlineData(new[] { "train", "--text", "a.txt" }, "nabla train: --text applies to --model gpt only.")]
    [InlineData(new[] { "generate", "/nonexistent/run" }, "nabla generate: run folder '/nonexistent/run' does not exist.")]
    [InlineData(new[] { "explain", "--model", "gpt" }, "nabla explain: --model gpt is a language model")]
    public void RejectsBadOptions(string[] args, string message)
    {
        var (code, _, err) = Run(args);
        Assert.Equal(2, code);
        Assert.Contains(message, err);
    }

    [Fact]
    public void TooShortATextIsAClearError()
    {
        string path = Path.Combine(_root, "short.txt");
        File.WriteAllText(path, "abcdefgh");
        var (code, _, err) = Run("train", "--model", "gpt", "--text", path, "--context", "16", "--runs-dir", _root);
        Assert.Equal(2, code);
        Assert.Contains("has 8 characters; with --context 16 it needs at least 20", err);
    }

    [Fact]
    public void SummaryShowsTheDefaultModel()
    {
        var (code, output, err) = Run("summary", "--model", "gpt");
        Assert.True(code == 0, err);
        Assert.Contains("Model: gpt, input (N, 64)", output);
        Assert.Matches(@"blocks\.2 \(TransformerEncoderLayer\)\s+\(N, 64, 96\)\s+111,840", output);   // 12·96² + 13·96 per block
        Assert.Matches(@"head \(tok_emb\.weight\) \(Linear\)\s+\(N, 64, 72\)\s+0", output);
        // tok_emb 72·96 + pos_emb 64·96 + 3 blocks + ln_f 2·96
        Assert.Contains("Total params: 348,768", output);
    }

    [Fact]
    public void BundledTextIsTheKjvExcerpt()
    {
        string text = GptText.Bundled();
        Assert.Equal(381463, text.Length);
        Assert.StartsWith("The First Book of Moses, called Genesis\n\n1:1 In the beginning God created the heaven and the earth.\n", text);
        Assert.EndsWith("40:38 For the cloud of the LORD was upon the tabernacle by day, and fire was on it by night, in the sight of all the house of Israel, throughout all their journeys.\n", text);
    }
}
