using System.Text.Json;
using Nabla.Losses;

namespace Nabla.Tests.Losses;

/// <summary>
/// Reads tests/fixtures/torch/loss_fixtures.json (made by make_loss_fixtures.py with PyTorch 1.13) and builds each
/// case's Nabla loss module from the torch.nn name and constructor arguments, as a user porting the call would.
/// </summary>
public static class TorchLossFixtures
{
    public sealed record Case(string Name, string Loss, Dictionary<string, JsonElement> Kwargs, string[] Args,
        Dictionary<string, Tensor> Tensors, Tensor Output, Tensor SeedGrad, Dictionary<string, Tensor> Grads)
    {
        public override string ToString() => Name;
    }

    private static readonly Lazy<Dictionary<string, Case>> s_cases = new(Load);

    public static IReadOnlyDictionary<string, Case> Cases => s_cases.Value;

    private static Dictionary<string, Case> Load()
    {
        var path = Path.Combine(Docs.NablaProcess.RepoRoot, "tests", "fixtures", "torch", "loss_fixtures.json");
        using var doc = JsonDocument.Parse(File.ReadAllText(path));
        var result = new Dictionary<string, Case>();
        foreach (var c in doc.RootElement.GetProperty("cases").EnumerateArray())
        {
            var kwargs = c.GetProperty("kwargs").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.Clone());
            var tensors = c.GetProperty("tensors").EnumerateObject().ToDictionary(p => p.Name, p => Decode(p.Value));
            var grads = c.GetProperty("grads").EnumerateObject().ToDictionary(p => p.Name, p => Decode(p.Value));
            var name = c.GetProperty("name").GetString()!;
            result[name] = new Case(name, c.GetProperty("loss").GetString()!, kwargs,
                c.GetProperty("args").EnumerateArray().Select(a => a.GetString()!).ToArray(), tensors,
                Decode(c.GetProperty("output")), Decode(c.GetProperty("seed_grad")), grads);
        }
        return result;
    }

    private static Tensor Decode(JsonElement e)
    {
        var shape = e.GetProperty("shape").EnumerateArray().Select(d => d.GetInt32()).ToArray();
        var data = e.GetProperty("data").EnumerateArray().Select(d => d.ValueKind == JsonValueKind.String
            ? d.GetString() switch { "inf" => double.PositiveInfinity, "-inf" => double.NegativeInfinity, _ => double.NaN }
            : d.GetDouble()).ToArray();
        return shape.Length == 0 ? Tensor.Scalar(data[0], DType.Float64) : Tensor.FromArray(data, shape);
    }

    /// <summary>The case's loss applied to <paramref name="args"/> (its tensors in PyTorch's call order).</summary>
    public static Tensor Apply(Case c, Tensor[] args)
    {
        var k = c.Kwargs;
        var reduction = Str(k, "reduction", "mean") switch
        {
            "mean" => Reduction.Mean,
            "sum" => Reduction.Sum,
            "none" => Reduction.None,
            "batchmean" => Reduction.BatchMean,
            var r => throw new ArgumentException($"unknown reduction {r}"),
        };
        Tensor? T(string name) => k.ContainsKey(name) ? c.Tensors[name] : null;
        return c.Loss switch
        {
            "MSELoss" => new MSELoss(reduction).Forward(args[0], args[1]),
            "L1Loss" => new L1Loss(reduction).Forward(args[0], args[1]),
            "SmoothL1Loss" => new SmoothL1Loss(reduction, Num(k, "beta", 1.0)).Forward(args[0], args[1]),
            "HuberLoss" => new HuberLoss(reduction, Num(k, "delta", 1.0)).Forward(args[0], args[1]),
            "BCELoss" => new BCELoss(T("weight"), reduction).Forward(args[0], args[1]),
            "BCEWithLogitsLoss" => new BCEWithLogitsLoss(T("weight"), reduction, T("pos_weight")).Forward(args[0], args[1]),
            "KLDivLoss" => new KLDivLoss(reduction, Bool(k, "log_target")).Forward(args[0], args[1]),
            "PoissonNLLLoss" => new PoissonNLLLoss(Bool(k, "log_input", true), Bool(k, "full"), Num(k, "eps", 1e-8), reduction).Forward(args[0], args[1]),
            "GaussianNLLLoss" => new GaussianNLLLoss(Bool(k, "full"), Num(k, "eps", 1e-6), reduction).Forward(args[0], args[1], args[2]),
            "MarginRankingLoss" => new MarginRankingLoss(Num(k, "margin", 0.0), reduction).Forward(args[0], args[1], args[2]),
            "CosineEmbeddingLoss" => new CosineEmbeddingLoss(Num(k, "margin", 0.0), reduction).Forward(args[0], args[1], args[2]),
            "TripletMarginLoss" => new TripletMarginLoss(Num(k, "margin", 1.0), Num(k, "p", 2.0), Num(k, "eps", 1e-6), Bool(k, "swap"), reduction).Forward(args[0], args[1], args[2]),
            "CrossEntropyLoss" => new CrossEntropyLoss(T("weight"), (int)Num(k, "ignore_index", -100), reduction, Num(k, "label_smoothing", 0.0)).Forward(args[0], args[1]),
            "NLLLoss" => new NLLLoss(T("weight"), (int)Num(k, "ignore_index", -100), reduction).Forward(args[0], args[1]),
            "CTCLoss" => new CTCLoss((int)Num(k, "blank", 0), reduction, Bool(k, "zero_infinity")).Forward(args[0], args[1], args[2], args[3]),
            _ => throw new ArgumentException($"no Nabla loss for {c.Loss}"),
        };
    }

    private static string Str(Dictionary<string, JsonElement> k, string name, string fallback) => k.TryGetValue(name, out var v) ? v.GetString()! : fallback;

    private static double Num(Dictionary<string, JsonElement> k, string name, double fallback) => k.TryGetValue(name, out var v) ? v.GetDouble() : fallback;

    private static bool Bool(Dictionary<string, JsonElement> k, string name, bool fallback = false) => k.TryGetValue(name, out var v) ? v.GetBoolean() : fallback;
}
