using System.CommandLine;
using Nabla.Tests.Docs;

namespace Nabla.Tests.Cli;

/// <summary>
/// The command line itself (System.CommandLine): every command's generated --help, usage errors as one `error:` line
/// with exit code 2 and a typo suggestion, response files, and `nabla completion` for each shell.
/// </summary>
public sealed class CommandLineTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("nabla-cmdline-tests").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private static (int Code, string Out, string Err) Run(params string[] args)
    {
        var o = new StringWriter();
        var e = new StringWriter();
        int code = Nabla.Cli.Cli.Run(args, o, e);
        return (code, o.ToString(), e.ToString());
    }

    private static void AssertOneError((int Code, string Out, string Err) r, string expected)
    {
        Assert.True(r.Code == 2, $"exit {r.Code}: {r.Err}{r.Out}");
        Assert.Equal("", r.Out);
        Assert.StartsWith("error: ", r.Err);
        Assert.Single(r.Err.TrimEnd().Split('\n'));
        Assert.Contains(expected, r.Err);
    }

    public static TheoryData<string> Commands() => [.. Nabla.Cli.Cli.Build().Subcommands.Select(c => c.Name)];

    [Theory]
    [MemberData(nameof(Commands))]
    public void EveryCommandsHelpListsItsOptionsIn80Columns(string name)
    {
        var command = Nabla.Cli.Cli.Build().Subcommands.Single(c => c.Name == name);
        foreach (var args in new[] { new[] { name, "--help" }, [name, "-h"] })
        {
            var (code, output, err) = Run(args);
            Assert.True(code == 0, err);
            Assert.Equal("", err);
            Assert.StartsWith($"Usage: nabla {name}", output);
            Assert.EndsWith("\n", output);
            Assert.False(output.EndsWith("\n\n", StringComparison.Ordinal), output);
            foreach (var line in output.Split('\n'))
            {
                Assert.True(line.Length <= 80, $"{line.Length} columns: '{line}'");
                Assert.Equal(line.TrimEnd(), line);
            }
            foreach (var option in command.Options) Assert.Contains($"  {option.Name}", output);
            foreach (var argument in command.Arguments) Assert.Contains(argument.Name, output);
            Assert.Contains("-h, --help", output);
        }
    }

    [Fact]
    public void RootHelpListsEveryCommand()
    {
        var (code, output, _) = Run("--help");
        Assert.Equal(0, code);
        foreach (var name in new[] { "train", "eval", "predict", "summary", "explain", "plot", "export", "adding", "charlm", "bench", "completion" })
            Assert.Matches($"(?m)^  {name}\\b", output);
        Assert.All(output.Split('\n'), line => Assert.True(line.Length <= 80, line));
        // without a command: the same list, and exit code 2 (nothing was done)
        var bare = Run();
        Assert.Equal(2, bare.Code);
        Assert.Equal(output, bare.Out);
    }

    [Theory]
    [InlineData(new[] { "train", "--epoch", "3" }, "nabla train: unknown option '--epoch' (did you mean --epochs?)")]
    [InlineData(new[] { "train", "--bach-size=8" }, "unknown option '--bach-size=8' (did you mean --batch-size?)")]
    [InlineData(new[] { "trian" }, "nabla: unknown command 'trian' (did you mean train?)")]
    [InlineData(new[] { "eval", "--bset", "runs/x" }, "(did you mean --best?)")]
    [InlineData(new[] { "train", "--frobnicate" }, "unknown option '--frobnicate'. See 'nabla train --help'.")]
    [InlineData(new[] { "eval" }, "nabla eval: give DIR, the run folder")]
    [InlineData(new[] { "plot", "a", "b" }, "nabla plot: unexpected argument 'b'")]
    [InlineData(new[] { "summary", "--threads" }, "nabla summary: unknown option '--threads'")]
    [InlineData(new[] { "adding", "--threads", "0" }, "nabla adding: --threads must be at least 1, got 0.")]
    [InlineData(new[] { "explain", "--seed", "x" }, "nabla explain: --seed expects an integer, got 'x'.")]
    [InlineData(new[] { "charlm", "--temperature", "0" }, "nabla charlm: --temperature must be greater than 0, got 0.")]
    [InlineData(new[] { "completion", "fish" }, "nabla completion: the shell must be one of bash, zsh, pwsh, got 'fish'.")]
    [InlineData(new[] { "completion" }, "nabla completion: give SHELL, bash, zsh or pwsh.")]
    public void UsageErrorsAreOneLineWithExitCode2(string[] args, string expected) => AssertOneError(Run(args), expected);

    [Fact]
    public void TypoSuggestionComesFromTheBuiltCommand()
    {
        var r = CliProcess.Run("train", "--epoch", "3");
        AssertOneError(r, "did you mean --epochs?");
    }

    [Fact]
    public void ResponseFilesExpandIntoArguments()
    {
        string rsp = Path.Combine(_root, "args.rsp");
        File.WriteAllText(rsp, "--model mlp\n--hidden 32\n");
        var (code, output, err) = CliProcess.Run("summary", "@" + rsp);
        Assert.True(code == 0, err);
        Assert.Contains("Total params: 25,450", output); // 784·32 + 32 + 32·10 + 10: the file's --hidden was read
        AssertOneError(CliProcess.Run("summary", "@" + Path.Combine(_root, "missing.rsp")), "missing.rsp");
    }

    [Fact]
    public void SuggestDirectiveCompletesOptionsAndValues()
    {
        var (code, output, _) = Run("[suggest:9]", "train --e");
        Assert.Equal(0, code);
        Assert.Equal(["--early-stopping", "--epochs"], output.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains("lenet", Run("[suggest:14]", "train --model ").Out.Split('\n'));
        Assert.Contains("adamw", Run("[suggest:18]", "train --optimizer ").Out.Split('\n'));
        Assert.Contains("predict", Run("[suggest:3]", "pre").Out.Split('\n'));
        Assert.Equal(["zsh"], Run("[suggest:12]", "completion z").Out.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    [Theory]
    [InlineData("bash", "complete -o default -F _nabla_complete nabla")]
    [InlineData("zsh", "compdef _nabla nabla")]
    [InlineData("pwsh", "Register-ArgumentCompleter -Native -CommandName nabla")]
    public void CompletionPrintsAScriptForEachShell(string shell, string registers)
    {
        var (code, output, err) = Run("completion", shell);
        Assert.True(code == 0, err);
        Assert.Contains(registers, output);
        Assert.Contains("[suggest:", output); // the candidates come from nabla itself
        Assert.EndsWith("\n", output);
    }

    [Fact]
    public void BashCompletionCompletesFromTheBuiltCommand()
    {
        // `nabla` runs the built CLI; the script is loaded as a user loads it, then bash is asked to complete three lines
        string script = """
            nabla() { dotnet "$NABLA_DLL" "$@"; }
            source <(nabla completion bash)
            complete_line() {
                COMP_LINE="$1"; COMP_POINT=${#1}
                read -ra COMP_WORDS <<< "$1"
                [[ "$1" == *" " ]] && COMP_WORDS+=("")
                COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
                _nabla_complete
                printf '%s\n' "${COMPREPLY[@]}"
                echo ---
            }
            complete_line "nabla train --epo"
            complete_line "nabla ev"
            complete_line "nabla train --optimizer ada"
            """;
        var env = new Dictionary<string, string> { ["NABLA_DLL"] = NablaProcess.Dll };
        var (code, output, err) = NablaProcess.Run("bash", ["-c", script], env);
        Assert.True(code == 0, err + output);
        var answers = output.Split("---\n");
        Assert.Equal("--epochs\n", answers[0]);
        Assert.Equal("eval\n", answers[1]);
        Assert.Equal(["adagrad", "adam", "adamw"], answers[2].Split('\n', StringSplitOptions.RemoveEmptyEntries).Order());
    }
    [Fact]
    public void PowerShellCompletesFromTheBuiltCommand()
    {
        // PowerShell 7 (the dotnet tool: .ci/run installs it and sets NABLA_PWSH): the script loaded as its first line
        // says, then PowerShell's own completion entry point (what TAB calls) asked for four lines
        string? pwsh = Environment.GetEnvironmentVariable("NABLA_PWSH") is { Length: > 0 } given ? given
            : (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Select(d => Path.Combine(d, "pwsh")).FirstOrDefault(File.Exists);
        if (pwsh is null || !File.Exists(pwsh))
        {
            Assert.False(Environment.GetEnvironmentVariable("NABLA_REQUIRE_PWSH") == "1", $"NABLA_REQUIRE_PWSH=1 but there is no pwsh ({pwsh ?? "not on PATH"}; dotnet tool install PowerShell)");
            Console.WriteLine("note: no pwsh: the PowerShell completion test did not run (dotnet tool install --global PowerShell)");
            return;
        }
        string script = Path.Combine(_root, "complete.ps1");
        File.WriteAllText(script, """
            function nabla { dotnet $env:NABLA_DLL @args }
            nabla completion pwsh | Out-String | Invoke-Expression
            foreach ($line in 'nabla tr', 'nabla train --epo', 'nabla train --optimizer ada', 'nabla completion z') {
                $r = TabExpansion2 -inputScript $line -cursorColumn $line.Length
                '[' + (($r.CompletionMatches | ForEach-Object { $_.CompletionText }) -join ',') + ']'
            }
            """);
        var env = new Dictionary<string, string> { ["NABLA_DLL"] = NablaProcess.Dll };
        var (code, output, err) = NablaProcess.Run(pwsh, ["-NoProfile", "-NonInteractive", "-File", script], env);
        Assert.True(code == 0, err + output);
        Assert.Equal(["[train]", "[--epochs]", "[adagrad,adam,adamw]", "[zsh]"], output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.TrimEnd('\r')));
    }

    [Fact]
    public void ZshCompletesTabInAnInteractiveShell()
    {
        // a real interactive zsh on a pseudo-terminal (zsh/zpty), compinit and the script loaded as a user loads them;
        // each line is typed with a TAB, then Ctrl+X runs a widget that appends the edited line to a file
        string? zsh = new[] { "/usr/bin/zsh", "/bin/zsh" }.FirstOrDefault(File.Exists);
        if (zsh is null)
        {
            Assert.False(Environment.GetEnvironmentVariable("NABLA_REQUIRE_ZSH") == "1", "NABLA_REQUIRE_ZSH=1 but there is no zsh (apt-get install zsh)");
            Console.WriteLine("note: no zsh: the interactive zsh completion test did not run (apt-get install zsh)");
            return;
        }
        string lines = Path.Combine(_root, "lines.txt");
        string script = """
            zmodload zsh/zpty
            : > "$LINES_FILE"
            zpty -b z zsh -f -i
            zpty -w z 'PS1="> "; nabla() { dotnet "$NABLA_DLL" "$@" }; autoload -Uz compinit; compinit -u -D; source <(nabla completion zsh)'
            zpty -w z 'dump() { print -r -- "[$BUFFER]" >> "$LINES_FILE"; BUFFER=; }; zle -N dump; bindkey "^X" dump'
            n=0
            for line in 'nabla tr' 'nabla train --epo' 'nabla completion z'; do
              zpty -w -n z "$line"$'\t'$'\x18'
              n=$((n + 1))
              for i in {1..600}; do [[ $(wc -l < "$LINES_FILE") -ge $n ]] && break; sleep 0.1; done
            done
            zpty -d z
            cat "$LINES_FILE"
            """;
        var env = new Dictionary<string, string> { ["NABLA_DLL"] = NablaProcess.Dll, ["LINES_FILE"] = lines };
        var (code, output, err) = NablaProcess.Run(zsh, ["-f", "-c", script], env);
        Assert.True(code == 0, err + output);
        Assert.Equal(["[nabla train ]", "[nabla train --epochs ]", "[nabla completion zsh ]"], output.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }
}
