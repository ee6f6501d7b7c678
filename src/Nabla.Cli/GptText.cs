using System.Text;

namespace Nabla.Cli;

/// <summary>
/// A text as character ids for the gpt model: its vocabulary (the distinct characters, in ordinal order), the ids,
/// and the split: the first 90% to train on, the last 10% to validate. The bundled text (no --text) is Genesis and
/// Exodus of the King James Version (public domain; data/README.md), built into the tool.
/// </summary>
internal sealed class GptText
{
    /// <summary>run.json's "text" for the bundled text.</summary>
    public const string BundledName = "bundled:kjv-genesis-exodus";

    /// <summary>The fraction of the text trained on; the rest (the end of the text) is the validation split.</summary>
    public const double TrainFraction = 0.9;

    private GptText(string source, string text, string vocab)
    {
        Source = source;
        Vocab = vocab;
        Ids = Encode(text, vocab, "text", source);
        Split = (int)(text.Length * TrainFraction);
    }

    /// <summary>The file it came from, or <see cref="BundledName"/>.</summary>
    public string Source { get; }

    /// <summary>Every distinct character, in ordinal order: id i is Vocab[i].</summary>
    public string Vocab { get; }

    public int[] Ids { get; }

    /// <summary>Ids [0, Split) are trained on, [Split, Length) validate.</summary>
    public int Split { get; }

    /// <summary>A one-line error unless the training split holds a window of <paramref name="context"/> + 1 characters and the validation split two.</summary>
    public void CheckLength(int context, string command)
    {
        if (Split < context + 1 || Ids.Length - Split < 2)
            throw new CliException($"nabla {command}: the text '{Source}' has {Ids.Length} characters; with --context {context} it needs at least {(int)Math.Ceiling((context + 2) / TrainFraction)} (90% to train on, 10% to validate).");
    }

    /// <summary>Reads <paramref name="path"/> (UTF-8), or the bundled text when null.</summary>
    public static GptText Load(string? path, string command)
    {
        string text, source;
        if (path is null or BundledName)
        {
            (text, source) = (Bundled(), BundledName);
        }
        else
        {
            if (!File.Exists(path)) throw new CliException($"nabla {command}: text file '{path}' does not exist.");
            (text, source) = (File.ReadAllText(path, Encoding.UTF8), Path.GetFullPath(path));
        }
        text = text.ReplaceLineEndings("\n");
        return new GptText(source, text, new string(text.Distinct().Order().ToArray()));
    }

    /// <summary>The bundled text, as built into the tool.</summary>
    public static string Bundled()
    {
        using var stream = typeof(GptText).Assembly.GetManifestResourceStream("Nabla.Cli.kjv-genesis-exodus.txt")
            ?? throw new InvalidOperationException("The bundled text kjv-genesis-exodus.txt is missing from Nabla.Cli.");
        using var reader = new StreamReader(stream, Encoding.UTF8);
        return reader.ReadToEnd();
    }

    /// <summary>The ids of <paramref name="text"/>'s characters; a character outside <paramref name="vocab"/> is a one-line error naming it.</summary>
    public static int[] Encode(string text, string vocab, string what, string command)
    {
        var index = new Dictionary<char, int>();
        for (int i = 0; i < vocab.Length; i++) index[vocab[i]] = i;
        var ids = new int[text.Length];
        for (int i = 0; i < text.Length; i++)
        {
            if (!index.TryGetValue(text[i], out ids[i]))
                throw new CliException($"nabla {command}: the {what}'s character {Describe(text[i])} (at position {i}) is not in the model's vocabulary of {vocab.Length} characters: {Describe(vocab)}.");
        }
        return ids;
    }

    /// <summary>A character or string as a quoted literal with control characters escaped ('\n').</summary>
    public static string Describe(char c) => Describe(c.ToString());

    public static string Describe(string s)
    {
        var sb = new StringBuilder("'");
        foreach (char c in s)
            sb.Append(c switch
            {
                '\n' => "\\n",
                '\t' => "\\t",
                '\r' => "\\r",
                _ when char.IsControl(c) => $"\\u{(int)c:x4}",
                _ => c.ToString(),
            });
        return sb.Append('\'').ToString();
    }

    /// <summary>
    /// Random windows of context + 1 characters from ids [from, to): inputs x (B, T) and targets y (B, T), y shifted
    /// one character on. Shape: → (B, T), (B, T).
    /// </summary>
    public static (Tensor X, Tensor Y) Windows(int[] ids, int from, int to, int batch, int context, Generator g)
    {
        var x = new float[batch * context];
        var y = new float[batch * context];
        for (int b = 0; b < batch; b++)
        {
            int start = (int)g.NextInt64(from, to - context);
            for (int t = 0; t < context; t++)
            {
                x[b * context + t] = ids[start + t];
                y[b * context + t] = ids[start + t + 1];
            }
        }
        return (Tensor.FromArray(x, batch, context), Tensor.FromArray(y, batch, context));
    }

    /// <summary>
    /// The validation split cut into consecutive windows of (up to) context characters, each predicting its next
    /// characters: every character of the split after the first is predicted exactly once.
    /// </summary>
    public IEnumerable<(Tensor X, Tensor Y)> ValidationWindows(int context, int batch)
    {
        int n = Ids.Length - Split - 1; // the characters predicted
        int full = n / context, rest = n % context;
        for (int i = 0; i < full; i += batch)
            yield return Window(Split + i * context, Math.Min(batch, full - i), context);
        if (rest > 0) yield return Window(Split + full * context, 1, rest);
    }

    // count consecutive windows of len characters from start, with their next characters
    private (Tensor X, Tensor Y) Window(int start, int count, int len)
    {
        var x = new float[count * len];
        var y = new float[count * len];
        for (int i = 0; i < count * len; i++)
        {
            x[i] = Ids[start + i];
            y[i] = Ids[start + i + 1];
        }
        return (Tensor.FromArray(x, count, len), Tensor.FromArray(y, count, len));
    }
}
