namespace Skjold.TestSupport;

/// <summary>
/// Compares output with a golden file under testdata/, line by line and in order. Set
/// SKJOLD_UPDATE_GOLDEN=1 to rewrite the file from the actual output (then review the diff
/// before committing); without it a missing golden file fails.
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
        for (var i = 0; i < Math.Max(expected.Length, actual.Count); i++)
        {
            var e = i < expected.Length ? expected[i] : "(end of file)";
            var a = i < actual.Count ? actual[i] : "(end of output)";
            if (e != a)
            {
                throw new InvalidOperationException($"output differs from {path} at line {i + 1}:\n  expected: {e}\n  actual:   {a}");
            }
        }
    }

    /// <summary>Compares text (split into lines) with a golden file.</summary>
    public static void AssertText(string path, string actual) =>
        AssertMatches(path, actual.Replace("\r\n", "\n", StringComparison.Ordinal).TrimEnd('\n').Split('\n'));
}
