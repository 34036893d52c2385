using Skjold.Engine.Checks;
using Skjold.Engine.Cluster;
using Skjold.Engine.Rbac;

namespace Skjold.Engine;

/// <summary>
/// The embedded data files a scan reads (the check catalog, API resources, the bootstrap RBAC
/// policy, releases and deprecated APIs) are parsed on first use. A short-lived command starts
/// that parsing on the thread pool as it begins, so that it overlaps argument parsing and reading
/// the input instead of following them; each file is still parsed once, whoever asks first waits.
/// </summary>
public static class EngineData
{
    /// <summary>Starts loading what <see cref="Scanner"/> and the manifest loader will need; returns at once.</summary>
    public static void WarmUp()
    {
        ThreadPool.UnsafeQueueUserWorkItem(static _ => _ = CheckCatalog.Default, null);
        ThreadPool.UnsafeQueueUserWorkItem(static _ =>
        {
            _ = ApiResources.BuiltIn;
            _ = ReferenceData.Releases;
            _ = ReferenceData.DeprecatedApis;
            _ = BootstrapPolicy.Objects;
        }, null);
    }
}
