namespace Skjold.Engine.Rbac;

/// <summary>A cluster-compromising permission a subject holds directly: what it is, the grant and the request that show it.</summary>
public sealed record EscalationGoal(string Goal, RbacGrant Grant, RbacRequest Request);
