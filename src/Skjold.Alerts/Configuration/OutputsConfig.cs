using System.Globalization;
using System.Net;
using System.Text.RegularExpressions;
using Skjold.Alerts.Formats;
using Skjold.Alerts.Outputs;
using Skjold.Detection.Falco;
using Skjold.Engine.Model;
using Skjold.Engine.Policy;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Skjold.Alerts.Configuration;

/// <summary>One configured output: what it is, what it takes, and how to build it.</summary>
public sealed record OutputDefinition(string Name, string Type, string Target, FalcoPriority MinPriority, RateLimit? RateLimit, int BatchSize, Func<TimeProvider, IAlertOutput> Create)
{
    public OutputBinding Bind(TimeProvider time) => new(Create(time), MinPriority, RateLimit, BatchSize);
}

/// <summary>
/// Reads the <c>outputs:</c> section of skjold.yaml. Every problem is reported with file and line
/// (all of them, not just the first); files it names (CAs, tokens, client keys) are read now, so a
/// missing file is a start-up error, not a delivery failure an hour later. Traffic that leaves the
/// machine must use TLS: plain TCP and plain HTTP are refused unless the receiver is on loopback
/// or <c>allowPlaintext: true</c> says so; UDP syslog is plain by nature and allowed (RFC 5426).
/// </summary>
public static partial class OutputsConfig
{
    private static readonly string[] CommonKeys = ["name", "type", "minPriority", "rateLimit", "batchSize", "allowPlaintext"];

    /// <summary>The outputs of a skjold.yaml (none when it has no <c>outputs:</c>); relative paths are relative to <paramref name="baseDirectory"/>.</summary>
    public static IReadOnlyList<OutputDefinition> Parse(string yaml, string file, string baseDirectory)
    {
        var stream = new YamlStream();
        try
        {
            stream.Load(new StringReader(yaml));
        }
        catch (YamlException ex)
        {
            throw new ConfigException($"not valid YAML: {ex.Message}", At(file, ex.Start));
        }

        if (stream.Documents.Count == 0 || stream.Documents[0].RootNode is not YamlMappingNode root
            || !root.Children.TryGetValue(new YamlScalarNode("outputs"), out var section))
        {
            return [];
        }

        var errors = new List<ConfigException>();
        var result = new List<OutputDefinition>();
        if (section is YamlScalarNode { Value: null or "" })
        {
            return [];
        }

        if (section is not YamlSequenceNode list)
        {
            throw new ConfigException("outputs: expected a list of outputs", At(file, section.Start));
        }

        var names = new HashSet<string>(StringComparer.Ordinal);
        var index = 0;
        foreach (var item in list.Children)
        {
            try
            {
                if (item is YamlMappingNode m && m.Children.TryGetValue(new YamlScalarNode("name"), out var n) && n is YamlScalarNode { Value: { Length: > 0 } name }
                    && !names.Add(name))
                {
                    throw new ConfigException($"outputs[{index}]: a second output named '{name}'", At(file, item.Start));
                }

                result.Add(ParseOne(item, file, baseDirectory, index));
            }
            catch (ConfigException ex)
            {
                errors.AddRange(ex.Errors);
            }

            index++;
        }

        return errors.Count == 0 ? result : throw ConfigException.Of(errors);
    }

    private static OutputDefinition ParseOne(YamlNode node, string file, string baseDir, int index)
    {
        var prefix = $"outputs[{index}]";
        if (node is not YamlMappingNode map)
        {
            throw new ConfigException($"{prefix}: expected a mapping with name and type", At(file, node.Start));
        }

        var values = new Dictionary<string, YamlNode>(StringComparer.Ordinal);
        foreach (var (k, v) in map.Children)
        {
            values[(k as YamlScalarNode)?.Value ?? throw new ConfigException($"{prefix}: keys must be plain strings", At(file, k.Start))] = v;
        }

        var name = Required(values, "name", prefix, file, map);
        if (!NamePattern().IsMatch(name))
        {
            throw new ConfigException($"{prefix}.name: '{name}' must be lower-case letters, digits and '-' (at most 63)", At(file, values["name"].Start));
        }

        prefix = $"outputs[{name}]";
        var type = Required(values, "type", prefix, file, map);
        string[] typeKeys = type switch
        {
            "syslog" => ["address", "transport", "format", "caFile", "serverName", "clientCertFile", "clientKeyFile", "facility", "hostname", "enterpriseNumber", "maxMessageBytes", "confirmAfter"],
            "webhook" => ["url", "shape", "tokenFile", "caFile", "clientCertFile", "clientKeyFile", "index", "timeout", "hostname"],
            "alertmanager" => ["url", "tokenFile", "caFile", "clientCertFile", "clientKeyFile", "timeout", "resolveAfter"],
            _ => throw new ConfigException($"{prefix}.type: unknown output type '{type}'; expected syslog, webhook or alertmanager", At(file, values["type"].Start)),
        };
        var errors = new List<ConfigException>();
        foreach (var (k, v) in map.Children)
        {
            var key = ((YamlScalarNode)k).Value!;
            if (!CommonKeys.Contains(key) && !typeKeys.Contains(key))
            {
                errors.Add(new ConfigException($"{prefix}: unknown key '{key}' for a {type} output; expected one of: {string.Join(", ", CommonKeys.Concat(typeKeys))}", At(file, k.Start)));
            }
        }

        var r = new Reader(values, prefix, file, baseDir, errors);
        var minPriority = r.Priority("minPriority") ?? FalcoPriority.Debug;
        var rate = r.RateLimit("rateLimit");
        var batch = r.Int("batchSize", 1, 10_000) ?? 200;
        var plaintext = r.Bool("allowPlaintext") ?? false;
        var cas = r.Certificates("caFile");
        var client = r.ClientCertificate();
        OutputDefinition? def = null;
        switch (type)
        {
            case "syslog":
            {
                var address = Required(values, "address", prefix, file, map);
                var transport = r.Enum("transport", ["tls", "tcp", "udp"]) ?? "tls";
                if (!TrySplitAddress(address, out var host, out var port))
                {
                    errors.Add(new ConfigException($"{prefix}.address: '{address}' must be host:port", At(file, values["address"].Start)));
                    break;
                }

                if (transport == "tcp" && !plaintext && !IsLoopback(host))
                {
                    errors.Add(new ConfigException($"{prefix}.transport: plain TCP to {host} would send alerts unencrypted over the network; use transport: tls (or allowPlaintext: true)", At(file, values.GetValueOrDefault("transport", map).Start)));
                }

                var facilityText = r.String("facility") ?? "local0";
                if (!SyslogFormatter.TryParseFacility(facilityText, out var facility))
                {
                    errors.Add(new ConfigException($"{prefix}.facility: unknown facility '{facilityText}' (kern..local7 or 0-23)", At(file, values["facility"].Start)));
                }

                var settings = new SyslogOutputSettings
                {
                    Host = host,
                    Port = port,
                    Transport = transport switch { "tcp" => SyslogTransport.Tcp, "udp" => SyslogTransport.Udp, _ => SyslogTransport.Tls },
                    Format = (r.Enum("format", ["rfc5424", "cef"]) ?? "rfc5424") == "cef" ? SyslogMessageFormat.Cef : SyslogMessageFormat.Rfc5424,
                    TrustedCas = cas,
                    ServerName = r.String("serverName"),
                    ClientCertificate = client,
                    Facility = facility,
                    Hostname = r.String("hostname") ?? Environment.MachineName,
                    EnterpriseNumber = r.Int("enterpriseNumber", 1, int.MaxValue) ?? SyslogFormatter.DefaultEnterpriseNumber,
                    MaxMessageBytes = r.Int("maxMessageBytes", 480, 65_000) ?? 8192,
                    ConfirmAfter = r.Duration("confirmAfter") ?? TimeSpan.FromSeconds(2),
                };
                def = new OutputDefinition(name, type, $"syslog+{transport}://{address}", minPriority, rate, batch, t => new SyslogOutput(name, settings, t));
                break;
            }

            default:
            {
                var urlText = Required(values, "url", prefix, file, map);
                if (!Uri.TryCreate(urlText, UriKind.Absolute, out var url) || (url.Scheme != Uri.UriSchemeHttps && url.Scheme != Uri.UriSchemeHttp) || !string.IsNullOrEmpty(url.UserInfo))
                {
                    var shown = url is { UserInfo.Length: > 0 } ? "the URL" : $"'{urlText}'"; // never echo a password
                    errors.Add(new ConfigException($"{prefix}.url: {shown} must be an https:// URL without credentials (put the token in tokenFile)", At(file, values["url"].Start)));
                    break;
                }

                if (url.Scheme == Uri.UriSchemeHttp && !plaintext && !IsLoopback(url.Host))
                {
                    errors.Add(new ConfigException($"{prefix}.url: plain HTTP to {url.Host} would send alerts (and the token) unencrypted; use https:// (or allowPlaintext: true)", At(file, values["url"].Start)));
                }

                var token = r.Secret("tokenFile");
                var shape = type == "webhook" ? r.Enum("shape", ["json", "splunk-hec"]) ?? "json" : "json";
                var settings = new HttpOutputSettings
                {
                    Url = url,
                    Token = token,
                    TrustedCas = cas,
                    ClientCertificate = client,
                    Timeout = r.Duration("timeout") ?? TimeSpan.FromSeconds(10),
                    Shape = shape == "splunk-hec" ? WebhookShape.SplunkHec : WebhookShape.Json,
                    Index = r.String("index"),
                    Hostname = r.String("hostname") ?? Environment.MachineName,
                    ResolveAfter = r.Duration("resolveAfter"),
                };
                var target = url.GetLeftPart(UriPartial.Path);
                def = type == "webhook"
                    ? new OutputDefinition(name, type, target, minPriority, rate, batch, _ => new WebhookOutput(name, settings))
                    : new OutputDefinition(name, type, target, minPriority, rate, batch, _ => new AlertmanagerOutput(name, settings));
                break;
            }
        }

        return errors.Count == 0 && def is not null ? def : throw ConfigException.Of(errors);
    }

    private static string Required(Dictionary<string, YamlNode> values, string key, string prefix, string file, YamlNode owner) =>
        values.TryGetValue(key, out var v)
            ? (v as YamlScalarNode)?.Value is { Length: > 0 } s ? s : throw new ConfigException($"{prefix}.{key}: expected a value", At(file, v.Start))
            : throw new ConfigException($"{prefix}: '{key}' is required", At(file, owner.Start));

    internal static bool TrySplitAddress(string address, out string host, out int port)
    {
        host = "";
        port = 0;
        var colon = address.LastIndexOf(':');
        if (colon <= 0 || !int.TryParse(address.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out port) || port is < 1 or > 65535)
        {
            return false;
        }

        host = address[..colon].Trim('[', ']');
        return host.Length > 0;
    }

    internal static bool IsLoopback(string host) =>
        host.Equals("localhost", StringComparison.OrdinalIgnoreCase) || (IPAddress.TryParse(host, out var ip) && IPAddress.IsLoopback(ip));

    /// <summary>A duration: 500ms, 30s, 5m, 2h, 7d.</summary>
    public static bool TryParseDuration(string text, out TimeSpan value) => Skjold.Engine.Text.Durations.TryParse(text, out value);

    [GeneratedRegex("^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$", RegexOptions.CultureInvariant)]
    private static partial Regex NamePattern();

    private static SourceLocation At(string file, Mark mark) => new(file, (int)mark.Line, (int)mark.Column);

}
