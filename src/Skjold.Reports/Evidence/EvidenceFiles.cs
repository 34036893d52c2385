using Skjold.Reports.Compliance;

namespace Skjold.Reports.Evidence;

/// <summary>
/// Reads the files a compliance report is measured on besides the resources: node-check results,
/// the configuration (its exemptions and attestations decide statuses) and a baseline report.
/// </summary>
public static class EvidenceFiles
{
    /// <summary>Reads the given files, relative to <paramref name="baseDirectory"/>.</summary>
    /// <param name="configFile">the configuration in use, or null; a path that does not exist is no configuration (the embedded defaults)</param>
    /// <exception cref="EvidenceInputException">a file cannot be read, or the baseline is not a JSON compliance report; <see cref="EvidenceInputException.File"/> names it</exception>
    public static async Task<EvidenceInputs> ReadAsync(IReadOnlyList<string> nodeFiles, string? configFile, string? baselineFile, string baseDirectory, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(nodeFiles);
        var nodes = new List<EvidenceFile>(nodeFiles.Count);
        foreach (var file in nodeFiles)
        {
            nodes.Add(new EvidenceFile(file, await ReadAsync(EvidenceInputKind.NodeResults, file, baseDirectory, File.ReadAllBytesAsync, ct).ConfigureAwait(false)));
        }

        EvidenceFile? config = null;
        if (configFile is not null && File.Exists(Path.GetFullPath(configFile, baseDirectory)))
        {
            var full = Path.GetFullPath(configFile, baseDirectory);
            config = new EvidenceFile(Path.GetRelativePath(baseDirectory, full), await File.ReadAllBytesAsync(full, ct).ConfigureAwait(false));
        }

        ComplianceBaseline? baseline = null;
        if (baselineFile is not null)
        {
            var text = await ReadAsync(EvidenceInputKind.Baseline, baselineFile, baseDirectory, (f, c) => File.ReadAllTextAsync(f, c), ct).ConfigureAwait(false);
            try
            {
                baseline = ComplianceBaseline.Read(text);
            }
            catch (EvidenceInputException ex)
            {
                throw new EvidenceInputException(EvidenceInputKind.Baseline, ex.Message, ex) { File = baselineFile, NotAReport = true };
            }
        }

        return new EvidenceInputs { NodeResults = nodes, Configuration = config, Baseline = baseline };
    }

    private static async Task<T> ReadAsync<T>(EvidenceInputKind kind, string file, string baseDirectory, Func<string, CancellationToken, Task<T>> read, CancellationToken ct)
    {
        try
        {
            return await read(Path.GetFullPath(file, baseDirectory), ct).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new EvidenceInputException(kind, ex.Message, ex) { File = file };
        }
    }
}
