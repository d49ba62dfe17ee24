using System.Text.Json.Nodes;
using FastEndpoints;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace ExBuy.Features.Inventory;

/// <summary>
/// Describes the <c>lock_type</c> query parameter on every operation whose request binds it, with the warning
/// about <c>none</c> (<see cref="UnsafeLockTypeGuard.Description"/>) where a caller picks it.
/// </summary>
public static class LockTypeOpenApi
{
    public static Task DescribeAsync(OpenApiOperation operation, OpenApiOperationTransformerContext context, CancellationToken ct)
    {
        var endpoint = context.Description.ActionDescriptor.EndpointMetadata.OfType<EndpointDefinition>().FirstOrDefault();
        if (UnsafeLockTypeGuard.LockTypeProperty(endpoint?.ReqDtoType) is null)
        {
            return Task.CompletedTask;
        }

        operation.Parameters ??= [];
        operation.Parameters.Add(new OpenApiParameter
        {
            Name = LockTypeParameter.Name,
            In = ParameterLocation.Query,
            Required = false,
            Description = UnsafeLockTypeGuard.Description,
            Schema = new OpenApiSchema
            {
                Type = JsonSchemaType.String,
                Enum = LockTypes.Names.Select(name => (JsonNode)JsonValue.Create(name)).ToList(),
            },
        });
        return Task.CompletedTask;
    }
}
