using System.Data.Common;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace PgAutoFailover.Client;

/// <summary>Registration of a <see cref="PgAutoFailoverDataSource"/> in a host's services.</summary>
public static class ServiceCollectionExtensions
{
    /// <summary>
    /// Registers a <see cref="PgAutoFailoverDataSource"/> (also as <see cref="DbDataSource"/>) that follows
    /// <paramref name="formation"/> through the uri-service at <paramref name="uriServiceUrl"/>, and a hosted service
    /// that starts it with the host: the host does not start until the first hosts are known (or the fallback is taken).
    /// Wrong options stop the host at start with one line per problem; an address that is not http(s) throws here.
    /// </summary>
    public static IServiceCollection AddPgAutoFailoverDataSource(
        this IServiceCollection services, string uriServiceUrl, string formation, Action<PgAutoFailoverClientOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        if (!Uri.TryCreate(uriServiceUrl, UriKind.Absolute, out var url) || url.Scheme is not ("http" or "https"))
            throw new ArgumentException($"the uri-service address must be an absolute http(s) address, got \"{uriServiceUrl}\"", nameof(uriServiceUrl));
        services.AddOptions<PgAutoFailoverClientOptions>()
            .Configure(options =>
            {
                options.UriServiceUrl = url;
                options.Formation = formation;
                configure?.Invoke(options);
            })
            .ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<PgAutoFailoverClientOptions>, OptionsValidator>());
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton(sp => new PgAutoFailoverDataSource(
            sp.GetRequiredService<IOptions<PgAutoFailoverClientOptions>>().Value, http: null,
            sp.GetRequiredService<TimeProvider>(), sp.GetService<ILogger<PgAutoFailoverDataSource>>()));
        services.TryAddSingleton<DbDataSource>(sp => sp.GetRequiredService<PgAutoFailoverDataSource>());
        services.AddHostedService<Starter>();
        return services;
    }

    private sealed class OptionsValidator : IValidateOptions<PgAutoFailoverClientOptions>
    {
        public ValidateOptionsResult Validate(string? name, PgAutoFailoverClientOptions options) =>
            options.Problems() is { Count: > 0 } problems ? ValidateOptionsResult.Fail(problems) : ValidateOptionsResult.Success;
    }

    private sealed class Starter(PgAutoFailoverDataSource source) : IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken) => source.StartAsync(cancellationToken);

        public Task StopAsync(CancellationToken cancellationToken) => source.StopAsync();
    }
}
