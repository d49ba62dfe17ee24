# ExBuy API image. Built by compose.yaml; see README "Docker".
FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /src
COPY nuget.config global.json Directory.Build.props Directory.Packages.props ./
COPY build/local-packages/ build/local-packages/
COPY src/ExBuy/ExBuy.csproj src/ExBuy/
RUN dotnet restore src/ExBuy/ExBuy.csproj
COPY src/ src/
RUN dotnet publish src/ExBuy/ExBuy.csproj -c Release -o /app --no-restore

FROM mcr.microsoft.com/dotnet/aspnet:10.0
WORKDIR /app
COPY --from=build /app ./
# The image listens on ASPNETCORE_HTTP_PORTS (8080 in the .NET images; set here so the healthcheck, which reads it,
# never depends on the base image's default). Uploads go to /data/files, owned by the image's non-root user, so a
# new named volume mounted on /data starts with that owner. The profile is a closed one: in a container every
# caller comes over the network, so the admin routes need ExBuy__AdminKey (24+ characters, or the API does not
# start); only ./exbuy up runs the local profile.
ENV ASPNETCORE_HTTP_PORTS=8080 \
    ExBuy__DataDirectory=/data/files \
    ExBuy__Profile=container
RUN mkdir -p /data/files && chown -R "$APP_UID" /data
USER $APP_UID
VOLUME /data
EXPOSE 8080
ENTRYPOINT ["dotnet", "ExBuy.dll"]
