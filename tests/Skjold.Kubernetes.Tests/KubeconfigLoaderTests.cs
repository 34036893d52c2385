using Skjold.Kubernetes.Live;

namespace Skjold.Kubernetes.Tests;

/// <summary>kubectl's namespace and context rules, decided without talking to a cluster.</summary>
public sealed class KubeconfigLoaderTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("skjold-kcl-").FullName;

    public void Dispose() => Directory.Delete(_dir, true);

    private string Write(string name, string text)
    {
        var path = Path.Combine(_dir, name);
        File.WriteAllText(path, text);
        return path;
    }

    private const string Config = """
        apiVersion: v1
        kind: Config
        clusters:
        - name: c
          cluster: {server: "https://127.0.0.1:6443", insecure-skip-tls-verify: true}
        - name: d
          cluster: {server: "https://10.0.0.1:6443", insecure-skip-tls-verify: true}
        users:
        - name: u
          user: {token: abc}
        contexts:
        - name: with-ns
          context: {cluster: c, user: u, namespace: payments}
        - name: without-ns
          context: {cluster: d, user: u}
        current-context: with-ns
        """;

    private KubeconfigLoader Loader(string? kubeconfigVariable = null, bool inCluster = false) =>
        new(name => name == "KUBECONFIG" ? kubeconfigVariable : null, home: Path.Combine(_dir, "home"), inCluster: () => inCluster);

    [Fact]
    public void Namespace_IsTheFlag_ElseTheContexts_ElseDefault()
    {
        var path = Write("kc.yaml", Config);
        var loader = Loader(path);

        var fromContext = loader.Load(new KubeconfigRequest());
        Assert.Equal("payments", fromContext.Namespace);
        Assert.False(fromContext.NamespaceFromFlag);
        Assert.Equal("with-ns", fromContext.ContextName);
        Assert.Equal("https://127.0.0.1:6443/", fromContext.Configuration.Host.TrimEnd('/') + "/");

        var fromFlag = loader.Load(new KubeconfigRequest { Namespace = "ops" });
        Assert.Equal("ops", fromFlag.Namespace);
        Assert.True(fromFlag.NamespaceFromFlag);

        var other = loader.Load(new KubeconfigRequest { Context = "without-ns" });
        Assert.Equal("default", other.Namespace);
        Assert.StartsWith("https://10.0.0.1:6443", other.Configuration.Host, StringComparison.Ordinal);
        Assert.True(other.Configuration.SkipTlsVerify);
    }

    [Fact]
    public void ClusterOverride_KeepsTheContextsUserAndNamespace()
    {
        var loaded = Loader(Write("kc.yaml", Config)).Load(new KubeconfigRequest { Cluster = "d" });

        Assert.StartsWith("https://10.0.0.1:6443", loaded.Configuration.Host, StringComparison.Ordinal);
        Assert.Equal("abc", loaded.Configuration.AccessToken);
        Assert.Equal("payments", loaded.Namespace);
    }

    [Fact]
    public void InCluster_IsTheLastResort_NotTheFirst()
    {
        // A home kubeconfig exists: it wins even where a service account is mounted (kubectl's order).
        Directory.CreateDirectory(Path.Combine(_dir, "home", ".kube"));
        File.WriteAllText(Path.Combine(_dir, "home", ".kube", "config"), Config);
        var loaded = Loader(inCluster: true).Load(new KubeconfigRequest());
        Assert.Equal(Path.Combine(_dir, "home", ".kube", "config"), loaded.Source);

        // Nothing at all and no service account: an error that says where it looked.
        File.Delete(Path.Combine(_dir, "home", ".kube", "config"));
        var ex = Assert.Throws<KubeconfigException>(() => Loader().Load(new KubeconfigRequest()));
        Assert.Contains(".kube", ex.Message, StringComparison.Ordinal);
        Assert.Contains("$KUBECONFIG is not set", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ContextFlag_WithOnlyAServiceAccount_IsRefused()
    {
        var ex = Assert.Throws<KubeconfigException>(() => Loader(inCluster: true).Load(new KubeconfigRequest { Context = "prod" }));
        Assert.Contains("need a kubeconfig", ex.Message, StringComparison.Ordinal);
    }
}
