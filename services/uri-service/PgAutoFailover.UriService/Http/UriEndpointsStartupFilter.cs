namespace PgAutoFailover.UriService.Http;

/// <summary>
/// Maps the service's endpoints from AddUriService, so that Program.cs (and a test host built
/// the same way) needs nothing beyond MapDefaultEndpoints.
/// </summary>
internal sealed class UriEndpointsStartupFilter : IStartupFilter
{
    public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
    {
        app.UseRouting();
        app.UseEndpoints(endpoints => endpoints.MapUriEndpoints());
        next(app);
    };
}
