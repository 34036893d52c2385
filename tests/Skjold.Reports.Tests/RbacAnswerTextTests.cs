using Skjold.Engine.Rbac;
using Skjold.Reports.Rbac;

namespace Skjold.Reports.Tests;

public sealed class RbacAnswerTextTests
{
    private static readonly RbacModel Empty = RbacModel.Build([], new RbacModelOptions());

    [Theory]
    [InlineData("get", "nodes", "payments", "nodes is cluster-scoped")]
    [InlineData("get", "/metrics", "payments", "non-resource URLs are not namespaced")]
    [InlineData("get", "pods", "payments", null)]
    [InlineData("get", "nodes", null, null)]
    public void NamespaceNote_OnlyWhenTheNamespaceCannotNarrowTheAnswer(string verb, string resource, string? ns, string? expected)
    {
        var note = RbacAnswerText.NamespaceNote(Empty.Query(verb, resource, ns: ns), ns);
        if (expected is null)
        {
            Assert.Null(note);
        }
        else
        {
            Assert.StartsWith(expected, note, StringComparison.Ordinal);
            Assert.Contains("only ClusterRoleBindings grant it", note, StringComparison.Ordinal);
        }
    }
}
