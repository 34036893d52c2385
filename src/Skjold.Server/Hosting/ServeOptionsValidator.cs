namespace Skjold.Server.Hosting;

/// <summary>Checks <see cref="ServeOptions"/> at start: every problem, each naming its property.</summary>
public sealed class ServeOptionsValidator : OptionsValidator<ServeOptions>
{
    public static ServeOptionsValidator Instance { get; } = new();

    public override IEnumerable<OptionProblem> Problems(ServeOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.Listen.Scheme != Uri.UriSchemeHttps)
        {
            yield return new(nameof(ServeOptions.Listen), $"must be an https:// URL (the API server calls webhooks over TLS only), not '{options.Listen}'");
        }

        if (options.MaxRequestBodyBytes <= 0)
        {
            yield return new(nameof(ServeOptions.MaxRequestBodyBytes), "must be positive");
        }

        if (options.RequestTimeout <= TimeSpan.Zero)
        {
            yield return new(nameof(ServeOptions.RequestTimeout), "must be positive");
        }

        if (options.ShutdownTimeout < TimeSpan.Zero)
        {
            yield return new(nameof(ServeOptions.ShutdownTimeout), "must not be negative");
        }
    }
}
