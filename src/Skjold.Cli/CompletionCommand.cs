using System.CommandLine;

namespace Skjold.Cli;

/// <summary>
/// <c>skjold completion SHELL</c>: a completion script for bash, zsh, fish or PowerShell. Each
/// script asks the command itself what may come next (System.CommandLine's <c>[suggest:N]</c>
/// directive), so completions always match this build's commands and options.
/// </summary>
internal static class CompletionCommand
{
    public static Command Create(CliContext context)
    {
        var shell = new Argument<string>("SHELL") { Description = "bash, zsh, fish or powershell" };
        shell.AcceptOnlyFromAmong("bash", "zsh", "fish", "powershell");
        var command = new Command("completion", """
            Print a shell completion script for skjold (and kubectl-skjold).
            Examples:
              source <(skjold completion bash)                # bash, this shell; add it to ~/.bashrc to keep it
              skjold completion zsh > "${fpath[1]}/_skjold"   # zsh
              skjold completion fish > ~/.config/fish/completions/skjold.fish
              skjold completion powershell | Out-String | Invoke-Expression
            Exit codes: 0 printed; 2 unknown shell.
            """) { shell };
        command.SetAction(parse =>
        {
            context.Out.Write(Script(parse.GetValue(shell)!));
            return ExitCodes.Ok;
        });
        return command;
    }

    public static string Script(string shell) => shell switch
    {
        "bash" => """
            # skjold completion for bash: source <(skjold completion bash)
            _skjold_complete() {
                local line="${COMP_LINE:0:COMP_POINT}"
                line="${line#*[[:space:]]}"
                [[ "$line" == "${COMP_LINE:0:COMP_POINT}" ]] && line=""
                local IFS=$'\n'
                COMPREPLY=($(compgen -W "$("${COMP_WORDS[0]}" "[suggest:${#line}]" "$line" 2>/dev/null)" -- "${COMP_WORDS[COMP_CWORD]}"))
            }
            complete -o default -F _skjold_complete skjold kubectl-skjold

            """,
        "zsh" => """
            #compdef skjold kubectl-skjold
            # skjold completion for zsh: skjold completion zsh > "${fpath[1]}/_skjold"
            _skjold() {
                local line="${BUFFER[1,CURSOR]}"
                line="${line#*[[:space:]]}"
                local -a suggestions
                suggestions=("${(@f)$(${words[1]} "[suggest:${#line}]" "$line" 2>/dev/null)}")
                compadd -a suggestions
            }
            compdef _skjold skjold kubectl-skjold

            """,
        "fish" => """
            # skjold completion for fish: skjold completion fish > ~/.config/fish/completions/skjold.fish
            function __skjold_complete
                set -l line (commandline -cp | string replace -r '^\S+\s*' '')
                set -l exe (commandline -opc)[1]
                $exe "[suggest:"(string length -- "$line")"]" "$line" 2>/dev/null
            end
            complete -c skjold -f -a '(__skjold_complete)'
            complete -c kubectl-skjold -f -a '(__skjold_complete)'

            """,
        _ => """
            # skjold completion for PowerShell: skjold completion powershell | Out-String | Invoke-Expression
            Register-ArgumentCompleter -Native -CommandName skjold, kubectl-skjold -ScriptBlock {
                param($wordToComplete, $commandAst, $cursorPosition)
                $text = $commandAst.Extent.Text.Substring(0, [Math]::Min($commandAst.Extent.Text.Length, $cursorPosition - $commandAst.Extent.StartOffset))
                $exe = $commandAst.CommandElements[0].Extent.Text
                $line = $text.Substring([Math]::Min($text.Length, $exe.Length)).TrimStart()
                & $exe "[suggest:$($line.Length)]" "$line" 2>$null | ForEach-Object {
                    [System.Management.Automation.CompletionResult]::new($_, $_, 'ParameterValue', $_)
                }
            }

            """,
    };
}
