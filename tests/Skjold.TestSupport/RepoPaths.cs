namespace Skjold.TestSupport;

/// <summary>Locates the repository root (the folder holding Skjold.slnx) and the shared folder beside it.</summary>
public static class RepoPaths
{
    private static readonly Lazy<string> LazyRoot = new(() =>
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Skjold.slnx")))
        {
            dir = dir.Parent;
        }

        return dir?.FullName ?? throw new InvalidOperationException("cannot find the repository root (Skjold.slnx) above " + AppContext.BaseDirectory);
    });

    public static string Root => LazyRoot.Value;

    /// <summary>../shared next to the repository (CI has the same layout). SKJOLD_SHARED overrides.</summary>
    public static string Shared =>
        Environment.GetEnvironmentVariable("SKJOLD_SHARED") is { Length: > 0 } env ? env : Path.GetFullPath(Path.Combine(Root, "..", "shared"));

    public static string Peers => Path.Combine(Shared, "peers");

    public static string TestData(params string[] parts) => Path.Combine([Root, "testdata", .. parts]);

    /// <summary>Where a test keeps an artifact for CI to show (artifacts/NAME); the directory is created.</summary>
    public static string Artifact(string name)
    {
        var dir = Path.Combine(Root, "artifacts");
        Directory.CreateDirectory(dir);
        return Path.Combine(dir, name);
    }
}
