using System.Diagnostics.CodeAnalysis;
using Microsoft.Extensions.Options;

namespace Skjold.Server.Hosting;

/// <summary>A problem with one option, named by its property (hosts map it to their own flag or key).</summary>
public sealed record OptionProblem(string Property, string Message);

/// <summary>Validators that report every problem at once, for <see cref="IValidateOptions{TOptions}"/> and for hosts that check before building.</summary>
public abstract class OptionsValidator<T> : IValidateOptions<T>
    where T : class
{
    public abstract IEnumerable<OptionProblem> Problems(T options);

    public ValidateOptionsResult Validate(string? name, T options)
    {
        var problems = Problems(options).Select(p => $"{p.Property}: {p.Message}").ToList();
        return problems.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(problems);
    }

    /// <summary>Throws an <see cref="ArgumentException"/> for the first problem, its parameter name the property.</summary>
    public void ThrowIfInvalid(T options)
    {
        if (Problems(options).FirstOrDefault() is { } p)
        {
            throw new ArgumentException(p.Message, p.Property);
        }
    }
}

/// <summary>
/// Hands out one given instance as the options (they are built by the host, with init-only
/// properties) and runs the registered validators on it, so <c>ValidateOnStart</c> checks it.
/// </summary>
internal sealed class InstanceOptionsFactory<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicParameterlessConstructor)] T>(T instance, IEnumerable<IValidateOptions<T>> validators) : IOptionsFactory<T>
    where T : class
{
    public T Create(string name)
    {
        var failures = new List<string>();
        foreach (var v in validators)
        {
            if (v.Validate(name, instance) is { Failed: true } result)
            {
                failures.AddRange(result.Failures ?? []);
            }
        }

        return failures.Count == 0 ? instance : throw new OptionsValidationException(name, typeof(T), failures);
    }
}
