using System.CommandLine;
using System.CommandLine.Help;
using System.CommandLine.Invocation;
using System.CommandLine.Parsing;

namespace Nabla.Cli;

/// <summary>
/// The `nabla` command: its commands (one file each, System.CommandLine), and the one place where usage errors and
/// failures become messages and exit codes: 0 ok, 1 failed (a bad file, a library error), 2 a usage error; either
/// failure prints exactly one `error: ...` line on stderr. Response files (`nabla train @args.rsp`) and the completion
/// directive (`[suggest:N]`, which `nabla completion SHELL`'s scripts call) come from System.CommandLine.
/// </summary>
public static class Cli
{
    /// <summary>The command tree: every command with its options; adds the shared options once to each command that takes them.</summary>
    public static RootCommand Build()
    {
        var shared = new SharedOptions();
        var root = new RootCommand("nabla: backpropagation in pure C#: train, evaluate and inspect neural networks on MNIST.")
        {
            TrainCommand.Create(shared),
            EvalCommand.Create(shared),
            PredictCommand.Create(shared),
            SummaryCommand.Create(shared),
            ExplainCommand.Create(shared),
            GraphCommand.Create(shared),
            ReportCommand.Create(shared),
            PlotCommand.Create(),
            ExportCommand.Create(shared),
            AddingCommand.Create(shared),
            CharLmCommand.Create(shared),
            GenerateCommand.Create(shared),
            BenchCommand.Create(shared),
            CompletionCommand.Create(),
        };
        // --help and -h only (not -? /? /h), answered by CliHelp; --version answered by About
        root.Options.Remove(root.Options.OfType<HelpOption>().Single());
        root.Options.Add(new HelpOption("--help", "-h") { Description = "this text", Action = new CliHelp(), Recursive = true });
        var version = root.Options.OfType<VersionOption>().Single();
        version.Description = "the version, the runtime and the vector width in use";
        version.Action = new VersionAction();
        // `nabla` alone: the command list (on stdout), exit code 2 as for any incomplete command line
        root.SetAction(r =>
        {
            r.InvocationConfiguration.Output.Write(CliHelp.Render(root));
            return 2;
        });
        return root;
    }

    /// <summary>Runs the command line; returns the process exit code (0 ok, 1 failed, 2 usage error).</summary>
    public static int Run(string[] args, TextWriter stdout, TextWriter stderr)
    {
        if (args is ["help"]) args = ["--help"];
        var config = new InvocationConfiguration
        {
            Output = stdout,
            Error = stderr,
            EnableDefaultExceptionHandler = false,
            ProcessTerminationTimeout = null, // train handles SIGINT/SIGTERM itself: finish the batch, write the checkpoint
        };
        try
        {
            var result = Build().Parse(args);
            if (result.Action is not { ClearsParseErrors: true } && (result.Errors.Count > 0 || OptionLikeArgument(result) is not null))
            {
                stderr.WriteLine($"error: {UsageError(result)}");
                return 2;
            }
            return result.Invoke(config);
        }
        catch (Exception e) when (ExitCode(e) != 0)
        {
            // the library's messages name the file, op or module and the shapes: show them, not a stack trace
            stderr.WriteLine($"error: {e.Message}");
            return ExitCode(e);
        }
    }

    /// <summary>The exit code of a failure reported as one line: 2 a usage error, 1 a bad file or a library error; 0 for an exception that is a bug (shown with its stack trace).</summary>
    internal static int ExitCode(Exception e) => e switch
    {
        CliException => 2,
        IOException or InvalidDataException or UnauthorizedAccessException or ArgumentException or InvalidOperationException or TimeoutException => 1,
        _ => 0,
    };

    /// <summary>The first parse error as one line in the project's words; an unknown option or command gets the closest known name.</summary>
    private static string UsageError(ParseResult result)
    {
        var command = result.CommandResult.Command;
        string path = CliHelp.PathOf(command), help = $"See '{path} --help'.";
        var error = result.Errors.FirstOrDefault();
        string? unknown = OptionLikeArgument(result);
        if (unknown is not null || (result.UnmatchedTokens.Count > 0 && error?.SymbolResult is CommandResult or null))
        {
            string token = unknown ?? result.UnmatchedTokens[0];
            if (token.StartsWith('-'))
            {
                string name = token.Split('=')[0];
                var known = command.Options.Concat(command.Parents.OfType<Command>().SelectMany(p => p.Options).Where(o => o.Recursive))
                    .Where(o => !o.Hidden).SelectMany(o => o.Aliases.Append(o.Name)).Where(a => a.StartsWith("--", StringComparison.Ordinal));
                return $"{path}: unknown option '{token}'{DidYouMean(name, known)}. {help}";
            }
            if (command is RootCommand)
                return $"nabla: unknown command '{token}'{DidYouMean(token, command.Subcommands.Select(c => c.Name))}. Run 'nabla --help'.";
            return $"{path}: unexpected argument '{token}'. {help}";
        }
        return error!.SymbolResult switch
        {
            OptionResult o when o.Tokens.Count == 0 && o.Option.Arity.MinimumNumberOfValues > 0 => $"{path}: option {o.Option.Name} needs a value.",
            ArgumentResult a when a.Tokens.Count == 0 && a.Parent is CommandResult =>
                $"{path}: give {a.Argument.HelpName ?? a.Argument.Name}, {a.Argument.Description}. {help}",
            _ when error.Message.StartsWith("nabla", StringComparison.Ordinal) => error.Message,
            _ => $"{path}: {error.Message} {help}",
        };
    }

    /// <summary>
    /// A "--name" that System.CommandLine gave to a command's argument (`nabla eval --bset DIR` makes "--bset" the
    /// run folder): an unknown option, unless it follows "--".
    /// </summary>
    private static string? OptionLikeArgument(ParseResult result)
    {
        if (result.Tokens.Any(t => t.Type == TokenType.DoubleDash)) return null;
        return result.CommandResult.Children.OfType<ArgumentResult>().SelectMany(a => a.Tokens)
            .Select(t => t.Value).FirstOrDefault(v => v.Length > 2 && v.StartsWith("--", StringComparison.Ordinal));
    }

    /// <summary>" (did you mean --epochs?)" when one known name is within a small edit distance of <paramref name="typed"/>.</summary>
    internal static string DidYouMean(string typed, IEnumerable<string> known)
    {
        string bare = typed.TrimStart('-');
        int limit = Math.Clamp(bare.Length / 3, 1, 3);
        var best = known.Distinct().Select(k => (Name: k, Distance: Distance(bare, k.TrimStart('-'))))
            .Where(k => k.Distance <= limit).OrderBy(k => k.Distance).ThenBy(k => k.Name, StringComparer.Ordinal).FirstOrDefault();
        return best.Name is null ? "" : $" (did you mean {best.Name}?)";
    }

    // Levenshtein distance, with a swap of two neighbouring letters counting as one edit (optimal string alignment)
    private static int Distance(string a, string b)
    {
        var d = new int[a.Length + 1, b.Length + 1];
        for (int i = 0; i <= a.Length; i++) d[i, 0] = i;
        for (int j = 0; j <= b.Length; j++) d[0, j] = j;
        for (int i = 1; i <= a.Length; i++)
            for (int j = 1; j <= b.Length; j++)
            {
                int cost = a[i - 1] == b[j - 1] ? 0 : 1;
                d[i, j] = Math.Min(Math.Min(d[i - 1, j] + 1, d[i, j - 1] + 1), d[i - 1, j - 1] + cost);
                if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) d[i, j] = Math.Min(d[i, j], d[i - 2, j - 2] + 1);
            }
        return d[a.Length, b.Length];
    }

    private sealed class VersionAction : SynchronousCommandLineAction
    {
        public override int Invoke(ParseResult parseResult) => About.Version(parseResult.InvocationConfiguration.Output);
    }
}
