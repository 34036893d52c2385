using System.Text.Json.Nodes;
using Skjold.Kubernetes.Loading;

namespace Skjold.Server.Deployment;

public static partial class InstallManifests
{
    /// <summary>The file that holds the webhook's private key when Skjold generates the certificate.</summary>
    public const string CertificateFile = "30-certificate.yaml";

    /// <summary>
    /// Writes one file per component into <paramref name="directory"/> (created if missing). A file
    /// that holds a Secret is created readable by its owner only from the start, never chmod-ed after.
    /// </summary>
    public static void WriteTo(string directory, IEnumerable<(string File, string Yaml)> files)
    {
        Directory.CreateDirectory(directory);
        foreach (var (name, yaml) in files)
        {
            var path = Path.Combine(directory, name);
            if (yaml.Contains("\nkind: Secret\n", StringComparison.Ordinal) && !OperatingSystem.IsWindows())
            {
                File.Delete(path);
                using var stream = new FileStream(path, new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite });
                using var writer = new StreamWriter(stream);
                writer.Write(yaml);
            }
            else
            {
                File.WriteAllText(path, yaml);
            }
        }
    }

    /// <summary>The manifests as one YAML stream, documents separated by <c>---</c>.</summary>
    public static string AsYamlStream(IEnumerable<(string File, string Yaml)> files) =>
        string.Join("---\n", files.Select(f => f.Yaml.EndsWith('\n') ? f.Yaml : f.Yaml + "\n"));

    /// <summary>The manifests as one <c>v1 List</c>, as <c>kubectl create --dry-run=client -o json</c> prints several objects.</summary>
    public static JsonObject AsList(IEnumerable<(string File, string Yaml)> files)
    {
        var items = new JsonArray();
        foreach (var (name, yaml) in files)
        {
            var loaded = new ManifestLoader().LoadText(name, yaml);
            if (loaded.Diagnostics.Count > 0)
            {
                throw new InvalidOperationException($"{name}: {loaded.Diagnostics[0].Message}");
            }

            foreach (var resource in loaded.Resources)
            {
                items.Add(JsonNode.Parse(resource.Root.GetRawText()));
            }
        }

        return new JsonObject { ["apiVersion"] = "v1", ["kind"] = "List", ["items"] = items };
    }
}
