using System.CommandLine;
using System.CommandLine.Invocation;
using System.Text;

namespace Nabla.Cli;

/// <summary>
/// `--help` for every command, written from the command's own definition: usage, description, arguments, options and
/// subcommands, wrapped to 80 columns, no trailing spaces, ending with a newline. A command's description starts with
/// a one-line summary (what `nabla --help` lists); the paragraphs after it say more. Replaces System.CommandLine's
/// help, which cannot list a summary apart from the description.
/// </summary>
internal sealed class CliHelp : SynchronousCommandLineAction
{
    /// <summary>The width every help text fits.</summary>
    public const int Width = 80;

    private const int MaxFirstColumn = 24;

    public override bool ClearsParseErrors => true;

    public override int Invoke(ParseResult parseResult)
    {
        parseResult.InvocationConfiguration.Output.Write(Render(parseResult.CommandResult.Command));
        return 0;
    }

    /// <summary>The first line of a command's description: its entry in the parent's command list.</summary>
    public static string Summary(Command c) => (c.Description ?? "").Split('\n')[0];

    /// <summary>"nabla train": the words a user types to reach <paramref name="c"/>.</summary>
    public static string PathOf(Command c)
    {
        var words = new List<string>();
        for (Symbol? s = c; s is Command cmd; s = s.Parents.FirstOrDefault())
            words.Insert(0, cmd is RootCommand ? "nabla" : cmd.Name);
        return string.Join(' ', words);
    }

    public static string Render(Command c)
    {
        var sb = new StringBuilder();
        string path = PathOf(c);
        var args = c.Arguments.Where(a => !a.Hidden).ToList();
        var options = c.Options.Concat(c.Parents.OfType<Command>().SelectMany(p => p.Options).Where(o => o.Recursive))
            .Where(o => !o.Hidden).Distinct().ToList();
        var commands = c.Subcommands.Where(s => !s.Hidden).ToList();
        string usage = path + (commands.Count > 0 ? " COMMAND" : "") + string.Concat(args.Select(a => " " + ArgumentLabel(a))) + " [options]";
        if (c is RootCommand) sb.AppendLine(Wrap(c.Description ?? "", 0)).AppendLine();
        sb.AppendLine(Wrap("Usage: " + usage, 0));
        if (c is not RootCommand && !string.IsNullOrEmpty(c.Description)) sb.AppendLine().AppendLine(Wrap(c.Description, 0));
        if (args.Count > 0) Section(sb, "Arguments:", args.Select(a => (a.HelpName ?? a.Name, a.Description ?? "")));
        if (commands.Count > 0) Section(sb, "Commands:", commands.Select(s => (s.Name + string.Concat(s.Arguments.Select(a => " " + ArgumentLabel(a))), Summary(s))));
        if (options.Count > 0) Section(sb, "Options:", options.Select(o => (OptionLabel(o), o.Description ?? "")));
        if (commands.Count > 0) sb.AppendLine().AppendLine($"Run '{path} COMMAND --help' for the options of a command.");
        return string.Join('\n', sb.ToString().TrimEnd().Split('\n').Select(l => l.TrimEnd())) + "\n";
    }

    private static string ArgumentLabel(Argument a)
    {
        string name = a.HelpName ?? a.Name;
        return a.Arity.MaximumNumberOfValues > 1 ? $"{name}..." : a.Arity.MinimumNumberOfValues == 0 ? $"[{name}]" : name;
    }

    private static string OptionLabel(Option o)
    {
        var names = o.Aliases.Order(StringComparer.Ordinal).Where(a => a.Length <= 2).Append(o.Name);
        string label = string.Join(", ", names);
        return o.Arity.MaximumNumberOfValues == 0 ? label : $"{label} {o.HelpName ?? "VALUE"}";
    }

    // two columns: the labels, then descriptions wrapped at Width and aligned after the longest short label
    private static void Section(StringBuilder sb, string title, IEnumerable<(string Label, string Text)> rows)
    {
        var list = rows.ToList();
        int col = Math.Min(list.Max(r => r.Label.Length), MaxFirstColumn) + 4;
        sb.AppendLine().AppendLine(title);
        foreach (var (label, text) in list)
        {
            string first = "  " + label;
            string body = Wrap(text, col);
            if (first.Length + 2 > col) sb.AppendLine(first).AppendLine(new string(' ', col) + body);
            else sb.AppendLine(first.PadRight(col) + body);
        }
    }

    /// <summary>
    /// Wraps each line of <paramref name="text"/>, which starts at column <paramref name="indent"/>, at <see cref="Width"/>
    /// columns; the lines after the first are indented by <paramref name="indent"/> plus the line's own leading spaces
    /// (so list items stay aligned).
    /// </summary>
    public static string Wrap(string text, int indent)
    {
        var sb = new StringBuilder();
        string pad = new(' ', indent);
        foreach (string line in text.Split('\n'))
        {
            if (sb.Length > 0) sb.Append('\n').Append(pad);
            int own = line.Length - line.TrimStart(' ').Length;
            string cont = "\n" + pad + new string(' ', own);
            int used = indent + own;
            sb.Append(line.AsSpan(0, own));
            bool firstWord = true;
            foreach (string word in line.Trim(' ').Split(' ', StringSplitOptions.RemoveEmptyEntries))
            {
                if (!firstWord && used + 1 + word.Length > Width)
                {
                    sb.Append(cont);
                    used = indent + own;
                }
                else if (!firstWord)
                {
                    sb.Append(' ');
                    used++;
                }
                sb.Append(word);
                used += word.Length;
                firstWord = false;
            }
        }
        return sb.ToString();
    }
}
