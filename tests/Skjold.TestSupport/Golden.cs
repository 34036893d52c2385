namespace Skjold.TestSupport;

/// <summary>
/// Compares lines with a golden file under testdata/. Set SKJOLD_UPDATE_GOLDEN=1 to rewrite the
/// file from the actual output (then review the diff before committing).
/// </summary>
public static class Golden
{
    public static void AssertMatches(string path, IReadOnlyList<string> actual)
    {
        if (Environment.GetEnvironmentVariable("SKJOLD_UPDATE_GOLDEN") == "1")
        {
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.WriteAllLines(path, actual);
            return;
        }

        if (!File.Exists(path))
        {
            throw new InvalidOperationException($"golden file {path} is missing; run the tests with SKJOLD_UPDATE_GOLDEN=1 to create it");
        }

        var expected = File.ReadAllLines(path);
        var missing = expected.Except(actual).ToList();
        var extra = actual.Except(expected).ToList();
        if (missing.Count > 0 || extra.Count > 0 || expected.Length != actual.Count)
        {
            throw new InvalidOperationException(
                $"output differs from {path}:\n  missing:\n    {string.Join("\n    ", missing)}\n  unexpected:\n    {string.Join("\n    ", extra)}");
        }
    }
}
