using Skjold.Engine.Checks;
using Skjold.Engine.Cluster;
using Skjold.Engine.Rbac;

namespace Skjold.Engine;

/// <summary>
/// The reference data a scan reads is built on first use: the check catalog (compiled into code,
/// so only its objects are made) and the embedded YAML files (API resources, the bootstrap RBAC
/// policy, releases and deprecated APIs, which are parsed). A short-lived command starts that work
/// on the thread pool as it begins, so that it overlaps argument parsing and reading the input
/// instead of following them; each piece is still built once, whoever asks first waits.
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
