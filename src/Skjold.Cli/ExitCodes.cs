namespace Skjold.Cli;

/// <summary>Exit codes CI can rely on.</summary>
internal static class ExitCodes
{
    /// <summary>No finding at or above --fail-on, no input error.</summary>
    public const int Ok = 0;

    /// <summary>At least one finding at or above --fail-on.</summary>
    public const int Findings = 1;

    /// <summary>Usage error, invalid configuration or input that could not be read (the scan is incomplete).</summary>
    public const int UsageOrInputError = 2;

    public const string HelpText =
        "Exit codes: 0 no finding at or above --fail-on; 1 findings at or above --fail-on; " +
        "2 usage error, invalid config or unreadable input (takes precedence over 1).";
}
