namespace Skjold.Engine.Rbac;

/// <summary>One hop of an escalation: what the subject can do (the request the authorizer allows, and the grant that allows it) and whom it becomes.</summary>
public sealed record EscalationStep(RbacSubject From, string Action, RbacSubject? To, RbacGrant Grant, RbacRequest Request);

/// <summary>How <see cref="Start"/> reaches <see cref="Goal"/>, hop by hop.</summary>
public sealed record EscalationPath(RbacSubject Start, IReadOnlyList<EscalationStep> Steps, string Goal)
{
    public override string ToString() =>
        $"{Start} -> " + string.Join(" -> ", Steps.Select(s => s.To is null ? s.Action : $"{s.Action} -> becomes {s.To}")) + $" => {Goal}";
}
