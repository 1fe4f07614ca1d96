using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace PgAutoFailover.ServiceDefaults;

/// <summary>Options that say what is wrong with them (<see cref="PgAutoFailover.Contracts.SettingRules"/>), one sentence per problem.</summary>
public interface IOptionsWithProblems
{
    IEnumerable<string> Problems();
}

/// <summary>Checks options at start (ValidateOnStart): a bad setting stops the host before it connects anywhere.</summary>
public static class OptionsProblems
{
    /// <summary>Binds <typeparamref name="T"/> to <paramref name="section"/> and validates it once, when the host starts.</summary>
    public static OptionsBuilder<T> AddCheckedOptions<T>(this IServiceCollection services, Microsoft.Extensions.Configuration.IConfiguration section)
        where T : class, IOptionsWithProblems
    {
        services.AddSingleton<IValidateOptions<T>, ProblemsValidator<T>>();
        return services.AddOptions<T>().Bind(section).ValidateOnStart();
    }

    /// <summary>For options bound by hand before the host is built: throws the first problem as an <see cref="ArgumentException"/>.</summary>
    public static T Checked<T>(this T options) where T : IOptionsWithProblems =>
        options.Problems().FirstOrDefault() is { } problem ? throw new ArgumentException(problem) : options;

    private sealed class ProblemsValidator<T> : IValidateOptions<T> where T : class, IOptionsWithProblems
    {
        public ValidateOptionsResult Validate(string? name, T options)
        {
            var problems = options.Problems().ToList();
            return problems.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(problems);
        }
    }
}
