using System.Text;
using BenchmarkDotNet.Attributes;
using Skjold.Engine.Admission;
using Skjold.Engine.Policy;
using Skjold.Server.Admission;

namespace Skjold.Benchmarks;

/// <summary>The webhook's work per request without HTTP: parse the AdmissionReview, evaluate, decide.</summary>
[MemoryDiagnoser]
public class AdmissionBenchmarks
{
    private readonly AdmissionEvaluator _evaluator = new(ScanPolicy.Default);
    private byte[] _body = [];
    private NamespacePolicy _ns = null!;

    [GlobalSetup]
    public void Setup()
    {
        _body = Encoding.UTF8.GetBytes(WebhookLoad.ReviewJson.Replace("UID", "bench", StringComparison.Ordinal));
        _ns = NamespacePolicy.From("payments", new Dictionary<string, string> { ["pod-security.kubernetes.io/enforce"] = "restricted" }, AdmissionSettings.Default);
    }

    [Benchmark]
    public bool ParseAndValidate()
    {
        var (_, review, _) = AdmissionHandler.Parse(_body);
        var r = review!.Request!;
        var input = new AdmissionInput(r.Uid!, r.Operation!, r.Kind!.Kind!, "pods", null, r.Namespace, null, r.UserInfo!.Username!, r.UserInfo.Groups!, false, r.Object, r.OldObject);
        return _evaluator.Validate(input, _ns).Allowed;
    }

    [Benchmark]
    public object? ParseOnly() => AdmissionHandler.Parse(_body).Review;
}
