using System.CommandLine;

namespace Nabla.Cli;

/// <summary>
/// `nabla completion bash|zsh|pwsh`: a script that makes the shell complete nabla's commands, options and values.
/// Each script hands the line typed so far (less the word `nabla`) to `nabla [suggest:POSITION] "LINE"`,
/// System.CommandLine's completion directive, which prints one candidate a line.
/// </summary>
internal static class CompletionCommand
{
    public static readonly string[] Shells = ["bash", "zsh", "pwsh"];

    public static Command Create()
    {
        var shell = new Argument<string>("SHELL") { Description = "bash, zsh or pwsh" };
        shell.CompletionSources.Add(Shells);
        shell.Validators.Add(r =>
        {
            string s = r.Tokens.Count > 0 ? r.Tokens[0].Value : "";
            if (!Shells.Contains(s)) r.AddError($"nabla completion: the shell must be one of {string.Join(", ", Shells)}, got '{s}'.");
        });
        var command = new Command("completion", """
            print a script that completes nabla's commands and options in a shell

            Prints a completion script for SHELL on stdout. Load it in the current shell, or from the shell's start-up file:
              bash:  source <(nabla completion bash)        (in ~/.bashrc)
              zsh:   source <(nabla completion zsh)         (in ~/.zshrc, after compinit)
              pwsh:  nabla completion pwsh | Out-String | Invoke-Expression    (in $PROFILE)
            The script asks nabla itself for the candidates (nabla [suggest:N] "LINE"), so they always match this version.
            """) { shell };
        command.SetAction(r =>
        {
            r.InvocationConfiguration.Output.Write(Script(r.GetValue(shell)!));
            return 0;
        });
        return command;
    }

    /// <summary>The completion script for <paramref name="shell"/> (bash, zsh or pwsh).</summary>
    public static string Script(string shell) => shell switch
    {
        "bash" => """
            # bash completion for nabla: source <(nabla completion bash)
            _nabla_complete() {
                local line="${COMP_LINE:0:COMP_POINT}"
                local rest="${line#*"${COMP_WORDS[0]}"}"
                rest="${rest#"${rest%%[![:space:]]*}"}"
                local IFS=$'\n'
                COMPREPLY=($(compgen -W "$("${COMP_WORDS[0]}" "[suggest:${#rest}]" "$rest" 2>/dev/null)" -- "${COMP_WORDS[COMP_CWORD]}"))
            }
            complete -o default -F _nabla_complete nabla

            """,
        "zsh" => """
            #compdef nabla
            # zsh completion for nabla: source <(nabla completion zsh)   (after compinit)
            _nabla() {
                local line="${BUFFER[1,CURSOR]}"
                local rest="${line#*${words[1]}}"
                rest="${rest#"${rest%%[![:space:]]*}"}"
                local -a candidates
                candidates=("${(@f)$(${words[1]} "[suggest:${#rest}]" "$rest" 2>/dev/null)}")
                compadd -- ${candidates:#}
            }
            compdef _nabla nabla

            """,
        "pwsh" => """
            # PowerShell completion for nabla: nabla completion pwsh | Out-String | Invoke-Expression
            Register-ArgumentCompleter -Native -CommandName nabla -ScriptBlock {
                param($wordToComplete, $commandAst, $cursorPosition)
                $line = $commandAst.ToString()
                $cursor = $cursorPosition - $commandAst.Extent.StartOffset
                if ($cursor -gt $line.Length) { $line = $line.PadRight($cursor) }
                $line = $line.Substring(0, $cursor)
                $rest = $line.Substring($commandAst.CommandElements[0].Extent.Text.Length).TrimStart()
                & $commandAst.CommandElements[0].Extent.Text "[suggest:$($rest.Length)]" "$rest" 2>$null | ForEach-Object {
                    [System.Management.Automation.CompletionResult]::new($_, $_, 'ParameterValue', $_)
                }
            }

            """,
        _ => throw new CliException($"nabla completion: the shell must be one of {string.Join(", ", Shells)}, got '{shell}'."),
    };
}
