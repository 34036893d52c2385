namespace Skjold.Audit;

/// <summary>The trail's directories are the owner's alone: the keys and the events name who did what.</summary>
internal static class PrivateDirectory
{
    /// <summary>Creates <paramref name="directory"/> with mode 0700 when it does not exist (an existing one is left as it is).</summary>
    public static void Create(string directory)
    {
        if (OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(directory);
        }
        else if (!Directory.Exists(directory))
        {
            Directory.CreateDirectory(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
    }
}
