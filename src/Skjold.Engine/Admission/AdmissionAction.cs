namespace Skjold.Engine.Admission;

/// <summary>What admission does with a violation of one of Skjold's own checks.</summary>
public enum AdmissionAction
{
    /// <summary>Not evaluated at admission.</summary>
    Off = 0,

    /// <summary>Recorded in an audit annotation only.</summary>
    Audit = 1,

    /// <summary>Returned to the client as a warning (and audited).</summary>
    Warn = 2,

    /// <summary>The request is rejected.</summary>
    Deny = 3,
}
