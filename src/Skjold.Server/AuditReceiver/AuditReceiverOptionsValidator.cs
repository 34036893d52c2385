using Skjold.Server.Hosting;

namespace Skjold.Server.AuditReceiver;

/// <summary>Checks <see cref="AuditReceiverOptions"/> at start: the receiver never accepts unauthenticated input, and readers never hold the writer's token.</summary>
public sealed class AuditReceiverOptionsValidator : OptionsValidator<AuditReceiverOptions>
{
    public static AuditReceiverOptionsValidator Instance { get; } = new();

    public override IEnumerable<OptionProblem> Problems(AuditReceiverOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (string.IsNullOrEmpty(options.Token) && options.ClientCa is null)
        {
            yield return new("Authentication", "the audit receiver needs a bearer token or a client CA: unauthenticated audit input is refused");
        }

        if (options.Token is { Length: < 16 })
        {
            yield return new(nameof(AuditReceiverOptions.Token), "the audit bearer token must be at least 16 characters");
        }

        if (options.QueryToken is { Length: < 16 })
        {
            yield return new(nameof(AuditReceiverOptions.QueryToken), "the audit query token must be at least 16 characters");
        }

        if (options.QueryToken is not null && options.QueryToken == options.Token)
        {
            yield return new(nameof(AuditReceiverOptions.QueryToken), "the audit query token must differ from the token the API server sends");
        }

        if (options.MaxBodyBytes <= 0)
        {
            yield return new(nameof(AuditReceiverOptions.MaxBodyBytes), "must be positive");
        }
    }
}
