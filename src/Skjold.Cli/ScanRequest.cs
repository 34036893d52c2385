namespace Skjold.Cli;

internal sealed record ScanRequest(
    string[] Paths,
    string Format,
    string? Output,
    string FailOn,
    string? PssLevel,
    string? PssVersion,
    string? Config,
    string MaxFileSize,
    string? Severity,
    string DefaultNamespace = "default",
    int? KubeMinor = null,
    bool AllowEmpty = false,
    string? StdinName = null,
    bool Quiet = false,
    bool VerifyImages = false);
