namespace Skjold.TestSupport;

/// <summary>Small YAML documents for network policy tests: namespaces, pods with named ports, and policies of each API.</summary>
public static class NetworkYaml
{
    public const string HttpPort = "{name: http, containerPort: 8080}";

    public static string Pod(string ns, string name, string labels, string extra = "", string ports = HttpPort) =>
        $"apiVersion: v1\nkind: Pod\nmetadata: {{name: {name}, namespace: {ns}, labels: {{{labels}}}}}\nspec: {{{extra}containers: [{{name: c, image: 'r.example/a:1', ports: [{ports}]}}]}}\n---\n";

    public static string Ns(string name, string labels = "") => $"apiVersion: v1\nkind: Namespace\nmetadata: {{name: {name}, labels: {{{labels}}}}}\n---\n";

    /// <summary>A namespaced policy: networking.k8s.io/v1 NetworkPolicy unless another API and kind are given.</summary>
    public static string Policy(string ns, string name, string spec, string api = "networking.k8s.io/v1", string kind = "NetworkPolicy") =>
        $"apiVersion: {api}\nkind: {kind}\nmetadata: {{name: {name}, namespace: {ns}}}\nspec: {spec}\n---\n";

    /// <summary>A cluster-scoped policy (Calico GlobalNetworkPolicy, CiliumClusterwideNetworkPolicy).</summary>
    public static string ClusterPolicy(string api, string kind, string name, string spec) =>
        $"apiVersion: {api}\nkind: {kind}\nmetadata: {{name: {name}}}\nspec: {spec}\n---\n";
}
