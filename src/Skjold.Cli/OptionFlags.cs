namespace Skjold.Cli;

/// <summary>
/// Names the command-line flag behind a library option problem: the libraries name properties
/// (Listen, Token), never flags, and each command says which of its flags sets which property.
/// </summary>
internal static class OptionFlags
{
    public static readonly IReadOnlyDictionary<string, string> Serve = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["Listen"] = "--listen",
        ["MaxRequestBodyBytes"] = "--max-request-size",
        ["RequestTimeout"] = "--request-timeout",
        ["Authentication"] = "--audit-token-file or --audit-client-ca",
        ["Token"] = "--audit-token-file",
        ["QueryToken"] = "--audit-query-token-file",
        ["FalcoToken"] = "--falco-token-file",
        ["Falco"] = "--falco-token-file",
    };

    public static readonly IReadOnlyDictionary<string, string> AuditServe = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["Listen"] = "--listen",
        ["Authentication"] = "--token-file or --client-ca",
        ["Token"] = "--token-file",
        ["QueryToken"] = "--query-token-file",
        ["FalcoToken"] = "--falco-token-file",
    };

    public static readonly IReadOnlyDictionary<string, string> Certificate = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["Certificate"] = "--tls-cert and --tls-key, or --self-signed",
        ["CertificateFile"] = "--tls-cert/--tls-key",
    };

    /// <summary>"FLAG: message" for an option problem, else the exception's message.</summary>
    public static string Describe(Exception ex, IReadOnlyDictionary<string, string> flags)
    {
        if (ex is ArgumentException { ParamName: { } property } a)
        {
            var message = a.Message.Replace($" (Parameter '{property}')", string.Empty, StringComparison.Ordinal);
            return flags.TryGetValue(property, out var flag) ? $"{flag}: {message}" : message;
        }

        return ex.Message;
    }
}
