using System.Text.Json;
using System.Text.Json.Serialization;

namespace Nabla.Cli;

/// <summary>`nabla eval --json`: the run, the weights and the test scores (docs/cli.md lists every field).</summary>
internal sealed record EvalJson(string Run, string Weights, string Model, string Data, int TestImages, double TestLoss, double TestAccuracy, int Correct);

/// <summary>`nabla eval --json` of a gpt run: its validation split's loss (nats and bits per character) and next-character accuracy.</summary>
internal sealed record GptEvalJson(string Run, string Weights, string Model, string Text, long ValidationCharacters, double ValidationLoss, double BitsPerCharacter, double ValidationAccuracy);

/// <summary>`nabla predict --json`: the run, the weights, and one entry per image in the order read.</summary>
internal sealed record PredictJson(string Run, string Weights, IReadOnlyList<PredictedImage> Images);

/// <summary>
/// One image's answer: the predicted class, its probability and every class's (null when the image could not be
/// read, and then <paramref name="Error"/> says why); a warning (a blank image) does not stop a prediction.
/// </summary>
internal sealed record PredictedImage(string File, int? Width, int? Height, int? Prediction, double? Probability, double[]? Probabilities,
    bool? Inverted, string? Warning, string? Error);

/// <summary>`nabla summary --json`: the model's layers, each output shape per sample (the batch dimension left out), and the parameter counts.</summary>
internal sealed record SummaryJson(string Model, int[] InputShape, IReadOnlyList<SummaryLayer> Layers, long TotalParams, long TrainableParams, long NonTrainableParams);

/// <summary>One row of <see cref="SummaryJson"/>: "0", "Linear", [512], 401920.</summary>
internal sealed record SummaryLayer(string Name, string Type, int[] OutputShape, long Params);

/// <summary>`nabla bench --json`: the machine and build, and one entry per benchmark.</summary>
internal sealed record BenchJson(string Nabla, string Runtime, string Rid, int ProcessorCount, int Threads, bool Vector512, bool Quick,
    double? PeakRssMib, double Seconds, IReadOnlyList<BenchJsonResult> Results);

/// <summary>
/// One benchmark of <see cref="BenchJson"/>: median, best and 99th percentile (null for a rate) in its unit, managed
/// bytes allocated per iteration, gen0/gen1/gen2 collections per 100 iterations, % of the FMA peak (SGEMM), load notes.
/// </summary>
internal sealed record BenchJsonResult(string Name, string Label, string Unit, double Median, double Best, double? P99, int Iterations,
    double? AllocatedBytesPerIteration, [property: JsonPropertyName("gc_per_100_iterations")] double[] GcPer100Iterations, double? PercentOfPeak, string Notes);

/// <summary>
/// The --json outputs, serialised by System.Text.Json's source generator (no reflection: trim- and AOT-safe),
/// snake_case keys, null fields written as null so every object has the same keys.
/// </summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, WriteIndented = true)]
[JsonSerializable(typeof(EvalJson))]
[JsonSerializable(typeof(GptEvalJson))]
[JsonSerializable(typeof(PredictJson))]
[JsonSerializable(typeof(SummaryJson))]
[JsonSerializable(typeof(BenchJson))]
internal sealed partial class CliJsonContext : JsonSerializerContext;

/// <summary>Writes one --json result: the object and a newline, nothing else on stdout.</summary>
internal static class CliJson
{
    public static void Write<T>(TextWriter stdout, T value, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> type)
    {
        stdout.Write(JsonSerializer.Serialize(value, type));
        stdout.Write('\n');
    }
}
