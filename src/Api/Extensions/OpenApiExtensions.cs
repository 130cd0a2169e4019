using System.Reflection;
using System.Text.Json.Nodes;
using KeypointService.Api.Apis;
using Microsoft.OpenApi;
using Swashbuckle.AspNetCore.SwaggerGen;

namespace KeypointService.Api.Extensions;

/// <summary>Swagger UI at /swagger and the OpenAPI document at /swagger/v1/swagger.json, with examples.</summary>
public static class OpenApiExtensions
{
    public static void AddKeypointOpenApi(this IServiceCollection services)
    {
        services.AddEndpointsApiExplorer();
        services.AddSwaggerGen(o =>
        {
            o.SwaggerDoc("v1", new OpenApiInfo { Title = "KeypointService API", Version = "v1", Description = ApiDocs.ServiceDescription });
            var xml = Path.Combine(AppContext.BaseDirectory, $"{Assembly.GetExecutingAssembly().GetName().Name}.xml");
            if (File.Exists(xml)) o.IncludeXmlComments(xml);
            // Manifest metrics and provenance are free-form JSON objects.
            o.MapType<JsonObject>(() => new OpenApiSchema
            {
                Type = JsonSchemaType.Object,
                Description = "Free-form JSON object copied from the model manifest.",
                Examples = [new JsonObject { ["pck_bbox@0.05"] = 0.99 }],
            });
            o.OperationFilter<ExampleOperationFilter>();
            o.SchemaFilter<ExampleSchemaFilter>();
            o.DocumentFilter<ServedModelsDocumentFilter>();
        });
    }

    public static void UseKeypointOpenApi(this WebApplication app)
    {
        app.UseSwagger();
        app.UseSwaggerUI(o =>
        {
            o.SwaggerEndpoint("/swagger/v1/swagger.json", "KeypointService v1");
            o.RoutePrefix = "swagger";
        });
    }

    /// <summary>Documents every predict body type with an example, and gives each parameter and response an example.</summary>
    private sealed class ExampleOperationFilter : IOperationFilter
    {
        public void Apply(OpenApiOperation operation, OperationFilterContext context)
        {
            foreach (var parameter in operation.Parameters?.OfType<OpenApiParameter>() ?? [])
            {
                if (OpenApiExamples.Parameters.TryGetValue(parameter.Name ?? "", out var doc))
                {
                    parameter.Description ??= doc.Description;
                    parameter.Example = doc.Example;
                }
            }

            switch (operation.OperationId)
            {
                case "Predict":
                    operation.RequestBody = PredictBody(context);
                    break;
                case "PredictBatch":
                    operation.RequestBody = new OpenApiRequestBody
                    {
                        Required = true,
                        Description = "A JSON object with the items to predict.",
                        Content = new Dictionary<string, IOpenApiMediaType>
                        {
                            ["application/json"] = new OpenApiMediaType
                            {
                                Schema = context.SchemaGenerator.GenerateSchema(typeof(Contracts.PredictBatchRequest), context.SchemaRepository),
                                Example = OpenApiExamples.BatchRequest(),
                            },
                        },
                    };
                    break;
            }

            operation.Responses ??= new OpenApiResponses();
            foreach (var (status, description) in OpenApiExamples.ErrorResponses(operation.OperationId))
            {
                operation.Responses[status] = new OpenApiResponse
                {
                    Description = description,
                    Content = new Dictionary<string, IOpenApiMediaType>
                    {
                        ["application/problem+json"] = new OpenApiMediaType()
                        {
                            Schema = context.SchemaGenerator.GenerateSchema(typeof(Microsoft.AspNetCore.Mvc.ProblemDetails), context.SchemaRepository),
                            Example = OpenApiExamples.Problem(int.Parse(status), description),
                        },
                    },
                };
            }
            if (operation.Responses.TryGetValue("200", out var ok) && ok is OpenApiResponse okResponse)
                foreach (var media in okResponse.Content?.Values.OfType<OpenApiMediaType>() ?? [])
                    media.Example = OpenApiExamples.Success(operation.OperationId);
        }

        private static OpenApiRequestBody PredictBody(OperationFilterContext context)
        {
            var binary = new OpenApiSchema { Type = JsonSchemaType.String, Format = "binary" };
            var json = context.SchemaGenerator.GenerateSchema(typeof(Contracts.PredictRequest), context.SchemaRepository);
            return new OpenApiRequestBody
            {
                Required = true,
                Description = "One input: JSON, an image, CSV, .npy, raw float32, or a multipart form with one such file.",
                Content = new Dictionary<string, IOpenApiMediaType>
                {
                    ["application/json"] = new OpenApiMediaType()
                    {
                        Schema = json,
                        Examples = new Dictionary<string, IOpenApiExample>
                        {
                            ["data"] = new OpenApiExample { Summary = "Rows of numbers (a 4×3 map; real requests send the whole mat)", Value = OpenApiExamples.DataRequest() },
                            ["image"] = new OpenApiExample { Summary = "Base64 PNG (a 2×2 grey image)", Value = OpenApiExamples.ImageRequest() },
                            ["data_b64"] = new OpenApiExample { Summary = "Base64 little-endian float32 (2×1)", Value = OpenApiExamples.RawRequest() },
                        },
                    },
                    ["image/png"] = Binary(binary, "A PNG file, 8- or 16-bit, grey or colour."),
                    ["image/jpeg"] = Binary(binary, "A JPEG file, grey or colour."),
                    ["text/csv"] = new OpenApiMediaType() { Schema = new OpenApiSchema { Type = JsonSchemaType.String, Description = "Rows of numbers." }, Example = JsonValue.Create("0,0.5,1.2\n0.1,3.4,2.0\n0,0.2,0.1\n") },
                    ["application/x-npy"] = Binary(binary, "A NumPy .npy file: 2-D, float32, float64, uint8 or uint16."),
                    ["application/octet-stream"] = Binary(binary, "float32 little-endian, row-major; needs ?width=&height=."),
                    ["multipart/form-data"] = new OpenApiMediaType()
                    {
                        Schema = new OpenApiSchema
                        {
                            Type = JsonSchemaType.Object,
                            Properties = new Dictionary<string, IOpenApiSchema> { ["file"] = new OpenApiSchema { Type = JsonSchemaType.String, Format = "binary", Description = "One file: PNG, JPEG, CSV, .npy, JSON or raw float32." } },
                            Required = new HashSet<string> { "file" },
                        },
                    },
                },
            };
        }

        private static OpenApiMediaType Binary(OpenApiSchema schema, string description) =>
            new OpenApiMediaType() { Schema = new OpenApiSchema { Type = schema.Type, Format = schema.Format, Description = description } };
    }

    /// <summary>Attaches an example to each contract schema.</summary>
    private sealed class ExampleSchemaFilter : ISchemaFilter
    {
        public void Apply(IOpenApiSchema schema, SchemaFilterContext context)
        {
            if (schema is OpenApiSchema s && OpenApiExamples.ForType(context.Type) is { } example) s.Examples = [example];
        }
    }
}
