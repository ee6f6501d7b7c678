using System.Globalization;

namespace Nabla.Cli;

/// <summary>A small --name value / --flag parser: every option must be known to the command, every value must parse.</summary>
internal sealed class Options
{
    private readonly Dictionary<string, string?> _values = new(StringComparer.Ordinal);
    private readonly HashSet<string> _used = new(StringComparer.Ordinal);

    public Options(string command, IReadOnlyList<string> args, IReadOnlySet<string> flags, IReadOnlySet<string> valued)
    {
        Command = command;
        for (int i = 0; i < args.Count; i++)
        {
            string a = args[i];
            if (!a.StartsWith("--", StringComparison.Ordinal))
            {
                Positionals.Add(a);
                continue;
            }
            string name = a[2..];
            string? inline = null;
            int eq = name.IndexOf('=', StringComparison.Ordinal);
            if (eq >= 0) (name, inline) = (name[..eq], name[(eq + 1)..]);
            if (flags.Contains(name))
            {
                if (inline is not null) throw new CliException($"nabla {command}: option --{name} takes no value.");
                _values[name] = null;
            }
            else if (valued.Contains(name))
            {
                string? v = inline ?? (i + 1 < args.Count ? args[++i] : null);
                if (v is null) throw new CliException($"nabla {command}: option --{name} needs a value.");
                _values[name] = v;
            }
            else throw new CliException($"nabla {command}: unknown option '{a}'. See 'nabla {command} --help'.");
        }
    }

    public string Command { get; }

    public List<string> Positionals { get; } = [];

    public bool Has(string name) => _values.ContainsKey(name);

    public string? String(string name) => _values.TryGetValue(name, out var v) ? v : null;

    /// <summary>The --threads value for the kernels (default: all cores); every command that takes it reads it here.</summary>
    public int Threads() => Int("threads", Environment.ProcessorCount, min: 1);

    public int Int(string name, int fallback, int min = int.MinValue)
    {
        if (String(name) is not string s) return fallback;
        if (!int.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out int v))
            throw new CliException($"nabla {Command}: --{name} expects an integer, got '{s}'.");
        if (v < min) throw new CliException($"nabla {Command}: --{name} must be at least {min}, got {v}.");
        return v;
    }

    public double Double(string name, double fallback, double min = double.NegativeInfinity, bool exclusiveMin = false)
    {
        if (String(name) is not string s) return fallback;
        if (!double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) || !double.IsFinite(v))
            throw new CliException($"nabla {Command}: --{name} expects a number, got '{s}'.");
        if (exclusiveMin ? v <= min : v < min)
            throw new CliException($"nabla {Command}: --{name} must be {(exclusiveMin ? "greater than" : "at least")} {min.ToString(CultureInfo.InvariantCulture)}, got {s}.");
        return v;
    }

    public int[] IntList(string name, int[] fallback)
    {
        if (String(name) is not string s) return fallback;
        if (s.Trim().Length == 0) return [];
        var parts = s.Split(',', StringSplitOptions.TrimEntries);
        var result = new int[parts.Length];
        for (int i = 0; i < parts.Length; i++)
            if (!int.TryParse(parts[i], NumberStyles.Integer, CultureInfo.InvariantCulture, out result[i]) || result[i] <= 0)
                throw new CliException($"nabla {Command}: --{name} expects positive integers separated by commas, got '{s}'.");
        return result;
    }
}
