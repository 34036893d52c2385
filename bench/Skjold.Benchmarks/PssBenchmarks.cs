using BenchmarkDotNet.Attributes;
using Skjold.Engine.Checks;
using Skjold.Engine.Model;
using Skjold.Engine.Pss;
using Skjold.Kubernetes.Loading;

namespace Skjold.Benchmarks;

/// <summary>
/// Pod Security evaluation of a typical Deployment's pod template (two containers, restricted-
/// compliant), parsed once. Measures reading the template and running every check of the level.
/// </summary>
[MemoryDiagnoser]
public class PssBenchmarks
{
    private readonly PodTemplateView _view = new();
    private readonly ViolationSink _sink = new();
    private Resource _deployment = null!;
    private JsonTemplate _template;

    [GlobalSetup]
    public void Setup()
    {
        _deployment = new ManifestLoader().LoadText("deployment.yaml", Corpus.TypicalDeployment).Resources[0];
        PodTemplateView.TryLocate(_deployment.Root, "Deployment", out var t, out var path);
        _template = new JsonTemplate(t, path);
    }

    [Benchmark(Description = "restricted:latest")]
    public int RestrictedLatest() => Evaluate(PssLevel.Restricted);

    [Benchmark(Description = "baseline:latest")]
    public int BaselineLatest() => Evaluate(PssLevel.Baseline);

    [Benchmark(Description = "baseline + restricted (as upstream's 4.8 us)")]
    public int BaselinePlusRestricted() => Evaluate(PssLevel.Baseline) + Evaluate(PssLevel.Restricted);

    private int Evaluate(PssLevel level)
    {
        _sink.Clear();
        _view.Read(_template.Element, _template.Path);
        PodSecurityEvaluator.Instance.Evaluate(_view, level, PssVersion.Latest, _sink);
        return _sink.Items.Count;
    }

    private readonly record struct JsonTemplate(System.Text.Json.JsonElement Element, string Path);
}
