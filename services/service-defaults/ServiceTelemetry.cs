namespace PgAutoFailover.ServiceDefaults;

/// <summary>The name under which a service's traces, metrics and logs are exported.</summary>
/// <param name="ServiceName">Also the name of the service's ActivitySource and Meter.</param>
public sealed record ServiceTelemetry(string ServiceName);
