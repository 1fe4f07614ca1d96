using Microsoft.AspNetCore.Builder;

namespace PgAutoFailover.ServiceDefaults;

public static class ServiceHostBuilder
{
    /// <summary>
    /// A web host builder whose content root is the service's own folder, so appsettings.json is found
    /// wherever the service is started from (the default content root is the working directory).
    /// </summary>
    public static WebApplicationBuilder Create(string[] args) =>
        WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
}
