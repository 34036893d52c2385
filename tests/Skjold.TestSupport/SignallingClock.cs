using Microsoft.Extensions.Time.Testing;

namespace Skjold.TestSupport;

/// <summary>
/// A fake clock that says when a timer (a Task.Delay, a CancellationTokenSource with a delay) is
/// registered on it, so a test advances the clock only once the code under test is waiting.
/// </summary>
public sealed class SignallingClock(DateTimeOffset start) : FakeTimeProvider(start)
{
    public SemaphoreSlim TimersCreated { get; } = new(0);

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        var timer = base.CreateTimer(callback, state, dueTime, period);
        TimersCreated.Release();
        return timer;
    }
}
