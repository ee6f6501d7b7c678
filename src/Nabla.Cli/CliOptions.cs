using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;

namespace Nabla.Cli;

/// <summary>
/// Typed options whose bad values become the one-line usage errors every command gives
/// ("nabla train: --epochs expects an integer, got 'x'."). Values are parsed once, by System.CommandLine, while the
/// command line is parsed; an option left out reads as null (or false), so a command can fall back to a default
/// that depends on other options (a model preset's epochs, say).
/// </summary>
internal static class CliOptions
{
    private static readonly CultureInfo s_inv = CultureInfo.InvariantCulture;

    /// <summary>"nabla train" for a value given to train's options (the command that holds the option on this command line).</summary>
    public static string CommandPath(SymbolResult? r)
    {
        for (; r is not null; r = r.Parent)
            if (r is CommandResult c) return c.Command is RootCommand ? "nabla" : $"nabla {c.Command.Name}";
        return "nabla";
    }

    private static string? Token(ArgumentResult r) => r.Tokens.Count > 0 ? r.Tokens[^1].Value : null;

    private static string OptionName(ArgumentResult r) => r.Parent is OptionResult o ? o.Option.Name : r.Argument.Name;

    /// <summary>An option with a value that is not parsed further: a name, a folder, a file.</summary>
    public static Option<string?> Text(string name, string helpName, string description, params string[] completions)
    {
        var o = new Option<string?>(name) { HelpName = helpName, Description = description };
        if (completions.Length > 0) o.CompletionSources.Add(completions);
        return o;
    }

    /// <summary>A switch: present or not; it takes no value.</summary>
    public static Option<bool> Flag(string name, string description) =>
        new(name) { Description = description, Arity = ArgumentArity.Zero };

    /// <summary>An integer of at least <paramref name="min"/>.</summary>
    public static Option<int?> Int(string name, string helpName, string description, int min = int.MinValue) => new(name)
    {
        HelpName = helpName,
        Description = description,
        CustomParser = r =>
        {
            if (Token(r) is not string s) return null;
            if (!int.TryParse(s, NumberStyles.Integer, s_inv, out int v))
            {
                r.AddError($"{CommandPath(r)}: {OptionName(r)} expects an integer, got '{s}'.");
                return null;
            }
            if (v < min)
            {
                r.AddError($"{CommandPath(r)}: {OptionName(r)} must be at least {min}, got {v}.");
                return null;
            }
            return v;
        },
    };

    /// <summary>A finite number of at least <paramref name="min"/> (above it when <paramref name="exclusiveMin"/>).</summary>
    public static Option<double?> Double(string name, string helpName, string description, double min = double.NegativeInfinity, bool exclusiveMin = false) => new(name)
    {
        HelpName = helpName,
        Description = description,
        CustomParser = r =>
        {
            if (Token(r) is not string s) return null;
            if (!double.TryParse(s, NumberStyles.Float, s_inv, out double v) || !double.IsFinite(v))
            {
                r.AddError($"{CommandPath(r)}: {OptionName(r)} expects a number, got '{s}'.");
                return null;
            }
            if (exclusiveMin ? v <= min : v < min)
            {
                r.AddError($"{CommandPath(r)}: {OptionName(r)} must be {(exclusiveMin ? "greater than" : "at least")} {min.ToString(s_inv)}, got {s}.");
                return null;
            }
            return v;
        },
    };

    /// <summary>Positive integers separated by commas; an empty value is an empty list. Read it with <see cref="ListOrNull"/>.</summary>
    public static Option<int[]?> IntList(string name, string helpName, string description) => new(name)
    {
        HelpName = helpName,
        Description = description,
        CustomParser = r =>
        {
            if (Token(r) is not string s) return null;
            if (s.Trim().Length == 0) return [];
            var parts = s.Split(',', StringSplitOptions.TrimEntries);
            var result = new int[parts.Length];
            for (int i = 0; i < parts.Length; i++)
                if (!int.TryParse(parts[i], NumberStyles.Integer, s_inv, out result[i]) || result[i] <= 0)
                {
                    r.AddError($"{CommandPath(r)}: {OptionName(r)} expects positive integers separated by commas, got '{s}'.");
                    return null;
                }
            return result;
        },
    };

    /// <summary>The list given to <paramref name="option"/>, or null when it was left out (GetValue answers an empty array then).</summary>
    public static int[]? ListOrNull(this ParseResult r, Option<int[]?> option) => r.Given(option) ? r.GetValue(option) : null;

    /// <summary>Whether <paramref name="option"/> was written on the command line (not just defaulted).</summary>
    public static bool Given(this ParseResult r, Option option) => r.GetResult(option) is { Implicit: false };
}
