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
ENV ASPNETCORE_URLS=http://+:8080 \
    ExBuy__DataDirectory=/data/files
VOLUME /data
EXPOSE 8080
ENTRYPOINT ["dotnet", "ExBuy.dll"]
