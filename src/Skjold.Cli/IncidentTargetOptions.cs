using System.CommandLine;
using Skjold.Incidents;

namespace Skjold.Cli;

/// <summary>The TYPE and TARGET of an incident (with --user, --sa and --source-ip for unauthorized access), read the same way by every incident command.</summary>
internal sealed class IncidentTargetOptions
{
    private readonly Argument<string> _type = new("TYPE") { Description = "pod-compromise, secret-exposed, unauthorized-access or node-compromise" };
    private readonly Argument<string?> _target = new("TARGET") { Description = "NS/POD, NS/SECRET or NODE (unauthorized-access takes --user, --sa or --source-ip)", Arity = ArgumentArity.ZeroOrOne };
    private readonly Option<string?> _user = new("--user") { Description = "unauthorized-access: the user name" };
    private readonly Option<string?> _sa = new("--sa") { Description = "unauthorized-access: the service account, NS/NAME" };
    private readonly Option<string?> _ip = new("--source-ip") { Description = "unauthorized-access: the client address" };

    public IncidentTargetOptions() => _type.AcceptOnlyFromAmong(Enum.GetValues<IncidentType>().Select(IncidentTypes.Name).ToArray());

    public void AddTo(Command c)
    {
        c.Arguments.Add(_type);
        c.Arguments.Add(_target);
        c.Options.Add(_user);
        c.Options.Add(_sa);
        c.Options.Add(_ip);
    }

    /// <summary>The incident's type and its one target; null (the problem written to stderr) when the target does not fit the type.</summary>
    public async Task<(IncidentType Kind, IncidentTarget Target)?> ParseAsync(ParseResult parse, CliContext context)
    {
        var kind = IncidentTypes.TryParse(parse.GetValue(_type), out var t) ? t : IncidentType.PodCompromise;
        if (IncidentTargetParser.Parse(kind, new(parse.GetValue(_target), parse.GetValue(_user), parse.GetValue(_sa), parse.GetValue(_ip)), out var problem) is not { } target)
        {
            await context.Error.WriteLineAsync($"error: {problem}").ConfigureAwait(false);
            return null;
        }

        return (kind, target);
    }
}
