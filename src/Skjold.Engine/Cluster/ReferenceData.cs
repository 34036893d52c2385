using System.Globalization;
using YamlDotNet.RepresentationModel;

namespace Skjold.Engine.Cluster;

/// <summary>The dated data files the posture checks use: cloud regions, Kubernetes releases and deprecated APIs.</summary>
public static class ReferenceData
{
    public sealed record Region(string Provider, string Name, string Country, bool Eu, bool Eea);

    public sealed record Release(int Minor, DateOnly Released, DateOnly EndOfLife, bool Planned);

    /// <summary>An API version of a kind, deprecated in 1.<see cref="DeprecatedIn"/> and removed in 1.<see cref="RemovedIn"/> (null: not scheduled).</summary>
    public sealed record DeprecatedApi(string ApiVersion, string Kind, int DeprecatedIn, int? RemovedIn, string Replacement);

    private static readonly Lazy<IReadOnlyList<Region>> LazyRegions = new(() => Read("regions.yaml", "regions", m => new Region(
        S(m, "provider"), S(m, "region"), S(m, "country"), S(m, "eu") == "true", S(m, "eea") == "true")));

    private static readonly Lazy<IReadOnlyList<Release>> LazyReleases = new(() => Read("kubernetes-releases.yaml", "releases", m => new Release(
        int.Parse(S(m, "minor"), CultureInfo.InvariantCulture), DateOnly.Parse(S(m, "released"), CultureInfo.InvariantCulture),
        DateOnly.Parse(S(m, "endOfLife"), CultureInfo.InvariantCulture), m.Children.ContainsKey("planned"))));

    private static readonly Lazy<IReadOnlyList<DeprecatedApi>> LazyApis = new(() => Read("deprecated-apis.yaml", "apis", m => new DeprecatedApi(
        S(m, "apiVersion"), S(m, "kind"), int.Parse(S(m, "deprecatedIn"), CultureInfo.InvariantCulture), S(m, "removedIn") is { Length: > 0 } removed ? int.Parse(removed, CultureInfo.InvariantCulture) : null, S(m, "replacement"))));

    public static IReadOnlyList<Region> Regions => LazyRegions.Value;

    public static IReadOnlyList<Release> Releases => LazyReleases.Value;

    public static IReadOnlyList<DeprecatedApi> DeprecatedApis => LazyApis.Value;

    private static List<T> Read<T>(string file, string key, Func<YamlMappingNode, T> map)
    {
        using var stream = typeof(ReferenceData).Assembly.GetManifestResourceStream("Skjold.Engine.Data." + file)
            ?? throw new InvalidOperationException($"embedded data file {file} is missing");
        var yaml = new YamlStream();
        yaml.Load(new StreamReader(stream));
        var root = (YamlMappingNode)yaml.Documents[0].RootNode;
        return [.. ((YamlSequenceNode)root.Children[key]).Children.Cast<YamlMappingNode>().Select(map)];
    }

    private static string S(YamlMappingNode m, string key) => m.Children.TryGetValue(key, out var v) ? ((YamlScalarNode)v).Value ?? string.Empty : string.Empty;
}
