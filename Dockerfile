# PgAutoFailover images: one build stage publishes the four services once, and one target per image copies its
# service out of it (docker-compose.yml builds each target; the build stage is shared through the layer cache).
#   docker build --target monitor -t pgaf/monitor .      # targets: monitor, health-checker, uri-service, node
# The base images are build arguments: the official ones by default; scripts/docker/standin-images.sh builds
# local stand-ins under the same names for machines without a registry (docs/operations.md, "Docker").
ARG DOTNET_SDK_IMAGE=mcr.microsoft.com/dotnet/sdk:10.0
ARG DOTNET_RUNTIME_IMAGE=mcr.microsoft.com/dotnet/aspnet:10.0
ARG POSTGRES_IMAGE=postgres:15

FROM ${DOTNET_SDK_IMAGE} AS build
WORKDIR /src
COPY Directory.Build.props Directory.Build.targets Directory.Packages.props ./
COPY contracts/ contracts/
COPY services/ services/
# Precompiled (ReadyToRun) for linux-x64, framework-dependent: the services start without JIT-compiling their
# libraries first, which matters for a keeper restarted in the middle of a failover.
RUN set -e; \
    for project in monitor/PgAutoFailover.Monitor health-checker/PgAutoFailover.HealthChecker \
                   uri-service/PgAutoFailover.UriService keeper/PgAutoFailover.Keeper; do \
      name=${project#*/}; \
      dotnet publish "services/$project/$name.csproj" -c Release -r linux-x64 --self-contained false \
        -p:PublishReadyToRun=true -o "/out/$name" -v q -nologo; \
    done

FROM ${DOTNET_RUNTIME_IMAGE} AS runtime
COPY scripts/docker/healthcheck.sh /usr/local/bin/pgaf-healthcheck
# Parks a service that cannot start (exit 77/78) instead of letting restart: unless-stopped loop it (docs/operations.md).
COPY scripts/docker/run.sh /usr/local/bin/pgaf-run
ENV DOTNET_CLI_TELEMETRY_OPTOUT=1

FROM runtime AS monitor
WORKDIR /app
COPY --from=build /out/PgAutoFailover.Monitor ./
# Every interface inside the container (appsettings.json says loopback, for local runs).
ENV Urls=http://0.0.0.0:7101
EXPOSE 7101
HEALTHCHECK --interval=5s --timeout=5s --start-period=20s --retries=12 CMD ["pgaf-healthcheck", "7101", "/health"]
USER $APP_UID
ENTRYPOINT ["pgaf-run", "dotnet", "PgAutoFailover.Monitor.dll"]

FROM runtime AS health-checker
WORKDIR /app
COPY --from=build /out/PgAutoFailover.HealthChecker ./
ENV Urls=http://0.0.0.0:7102
EXPOSE 7102
HEALTHCHECK --interval=5s --timeout=5s --start-period=20s --retries=12 CMD ["pgaf-healthcheck", "7102", "/health"]
USER $APP_UID
ENTRYPOINT ["pgaf-run", "dotnet", "PgAutoFailover.HealthChecker.dll"]

FROM runtime AS uri-service
WORKDIR /app
COPY --from=build /out/PgAutoFailover.UriService ./
ENV Urls=http://0.0.0.0:7103
EXPOSE 7103
HEALTHCHECK --interval=5s --timeout=5s --start-period=20s --retries=12 CMD ["pgaf-healthcheck", "7103", "/health"]
USER $APP_UID
ENTRYPOINT ["pgaf-run", "dotnet", "PgAutoFailover.UriService.dll"]

# A data node: PostgreSQL 15 with its keeper beside it in one container (the keeper starts and stops PostgreSQL).
FROM ${POSTGRES_IMAGE} AS node
# What .NET needs from the OS (InvariantGlobalization is on: no ICU).
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates libssl3 libstdc++6 zlib1g \
 && rm -rf /var/lib/apt/lists/*
COPY --from=runtime /usr/share/dotnet /usr/share/dotnet
COPY --from=build /out/PgAutoFailover.Keeper /opt/pgaf
COPY services/keeper/docker-entrypoint.sh /usr/local/bin/pgaf-node-entrypoint
COPY scripts/docker/run.sh /usr/local/bin/pgaf-run
RUN ln -s /opt/pgaf/PgAutoFailover.Keeper /opt/pgaf/pgaf-keeper
ENV PGDATA=/var/lib/postgresql/data/pgdata \
    PGAF_KEEPER_BIN=/opt/pgaf/pgaf-keeper \
    DOTNET_ROOT=/usr/share/dotnet \
    DOTNET_CLI_TELEMETRY_OPTOUT=1
EXPOSE 5432
# The keeper stops PostgreSQL on SIGTERM (docker stop); compose gives it time (stop_grace_period).
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=5s --timeout=5s --start-period=60s --retries=24 CMD ["pg_isready", "-h", "127.0.0.1", "-p", "5432", "-q"]
ENTRYPOINT ["pgaf-run", "pgaf-node-entrypoint"]
