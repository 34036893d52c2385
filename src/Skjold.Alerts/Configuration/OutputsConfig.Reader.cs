using System.Globalization;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Skjold.Detection.Falco;
using Skjold.Engine.Policy;
using YamlDotNet.RepresentationModel;

namespace Skjold.Alerts.Configuration;

/// <summary>The typed reader of one output's keys.</summary>
public static partial class OutputsConfig
{
    /// <summary>Typed reads of one output's keys; a bad value is recorded and reading goes on.</summary>
    private sealed class Reader(Dictionary<string, YamlNode> values, string prefix, string file, string baseDir, List<ConfigException> errors)
    {
        public string? String(string key)
        {
            if (!values.TryGetValue(key, out var v))
            {
                return null;
            }

            if (v is YamlScalarNode { Value: { Length: > 0 } s })
            {
                return s;
            }

            Fail(key, v, "expected a value");
            return null;
        }

        public string? Enum(string key, string[] allowed)
        {
            var s = String(key);
            if (s is not null && !allowed.Contains(s))
            {
                Fail(key, values[key], $"'{s}' is not one of: {string.Join(", ", allowed)}");
                return null;
            }

            return s;
        }

        public int? Int(string key, int min, int max)
        {
            var s = String(key);
            if (s is null)
            {
                return null;
            }

            if (int.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n >= min && n <= max)
            {
                return n;
            }

            Fail(key, values[key], $"'{s}' must be a whole number from {min} to {max}");
            return null;
        }

        public bool? Bool(string key)
        {
            var s = String(key);
            if (s is null)
            {
                return null;
            }

            if (bool.TryParse(s, out var b))
            {
                return b;
            }

            Fail(key, values[key], $"'{s}' must be true or false");
            return null;
        }

        public TimeSpan? Duration(string key)
        {
            var s = String(key);
            if (s is null)
            {
                return null;
            }

            if (TryParseDuration(s, out var d))
            {
                return d;
            }

            Fail(key, values[key], $"'{s}' must be a duration such as 500ms, 30s, 5m, 1h or 7d");
            return null;
        }

        public FalcoPriority? Priority(string key)
        {
            var s = String(key);
            if (s is null)
            {
                return null;
            }

            var normal = s.Equals("info", StringComparison.OrdinalIgnoreCase) ? "informational" : s;
            if (System.Enum.TryParse<FalcoPriority>(normal, ignoreCase: true, out var p) && System.Enum.IsDefined(p) && !char.IsDigit(normal[0]))
            {
                return p;
            }

            Fail(key, values[key], $"unknown priority '{s}'; expected emergency, alert, critical, error, warning, notice, informational or debug");
            return null;
        }

        public RateLimit? RateLimit(string key)
        {
            if (!values.TryGetValue(key, out var v))
            {
                return null;
            }

            if (v is not YamlMappingNode m)
            {
                Fail(key, v, "expected a mapping such as {alerts: 100, per: 1m}");
                return null;
            }

            var inner = new Dictionary<string, YamlNode>(StringComparer.Ordinal);
            foreach (var (k, x) in m.Children)
            {
                var name = (k as YamlScalarNode)?.Value ?? "";
                if (name is not ("alerts" or "per"))
                {
                    Fail(key, k, $"unknown key '{name}'; expected alerts and per");
                    continue;
                }

                inner[name] = x;
            }

            var r = new Reader(inner, $"{prefix}.{key}", file, baseDir, errors);
            var alerts = r.Int("alerts", 1, 1_000_000);
            var per = r.Duration("per");
            if (alerts is null || per is null)
            {
                if (!inner.ContainsKey("alerts") || !inner.ContainsKey("per"))
                {
                    Fail(key, v, "needs both alerts and per, such as {alerts: 100, per: 1m}");
                }

                return null;
            }

            return new RateLimit(alerts.Value, per.Value);
        }

        public X509Certificate2Collection? Certificates(string key)
        {
            var path = Path(key);
            if (path is null)
            {
                return null;
            }

            try
            {
                var c = new X509Certificate2Collection();
                c.ImportFromPemFile(path);
                if (c.Count == 0)
                {
                    Fail(key, values[key], $"{path} holds no PEM certificate");
                    return null;
                }

                return c;
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or CryptographicException)
            {
                Fail(key, values[key], $"cannot read CA certificates from {path}: {ex.Message}");
                return null;
            }
        }

        public X509Certificate2? ClientCertificate()
        {
            var cert = Path("clientCertFile");
            var key = Path("clientKeyFile");
            if (cert is null && key is null)
            {
                return null;
            }

            if (cert is null || key is null)
            {
                Fail(cert is null ? "clientKeyFile" : "clientCertFile", values[cert is null ? "clientKeyFile" : "clientCertFile"], "clientCertFile and clientKeyFile go together");
                return null;
            }

            try
            {
                return X509Certificate2.CreateFromPemFile(cert, key);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or CryptographicException or ArgumentException)
            {
                Fail("clientCertFile", values["clientCertFile"], $"cannot load the client certificate and key: {ex.Message}");
                return null;
            }
        }

        /// <summary>A secret read from a file (trimmed); its value never appears in an error.</summary>
        public string? Secret(string key)
        {
            var path = Path(key);
            if (path is null)
            {
                return null;
            }

            try
            {
                var s = File.ReadAllText(path).Trim();
                if (s.Length == 0)
                {
                    Fail(key, values[key], $"{path} is empty");
                    return null;
                }

                return s;
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                Fail(key, values[key], $"cannot read {path}: {ex.Message}");
                return null;
            }
        }

        private string? Path(string key) => String(key) is { } p ? System.IO.Path.GetFullPath(p, baseDir) : null;

        private void Fail(string key, YamlNode at, string message) =>
            errors.Add(new ConfigException($"{prefix}.{key}: {message}", At(file, at.Start)));
    }
}
