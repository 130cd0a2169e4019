using Google.Protobuf;
using Grpc.Core;
using Inference;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.RateLimiting;

namespace KeypointService.Api.Apis.Oip;

/// <summary>
/// Open Inference Protocol v2 over gRPC (Protos/grpc_service.proto, the protocol's own definition):
/// a translation of messages to and from <see cref="OipInference"/>, the same semantics as REST.
/// Inputs come as typed contents or raw_input_contents; outputs always go back as raw_output_contents
/// (as Triton does), little-endian and row-major. Errors: INVALID_ARGUMENT, NOT_FOUND, UNAVAILABLE.
/// </summary>
public sealed class OipGrpcService(OipInference oip) : GRPCInferenceService.GRPCInferenceServiceBase
{
    // The probes stay open for orchestrators, like /health and /v2/health (docs/security.md).
    [AllowAnonymous, DisableRateLimiting]
    public override Task<ServerLiveResponse> ServerLive(ServerLiveRequest request, ServerCallContext context) =>
        Task.FromResult(new ServerLiveResponse { Live = true });

    [AllowAnonymous, DisableRateLimiting]
    public override Task<ServerReadyResponse> ServerReady(ServerReadyRequest request, ServerCallContext context) =>
        Task.FromResult(new ServerReadyResponse { Ready = oip.IsReady });

    public override Task<ModelReadyResponse> ModelReady(ModelReadyRequest request, ServerCallContext context) =>
        Task.FromResult(Translate(() => new ModelReadyResponse { Ready = oip.IsModelReady(request.Name, request.Version) }));

    public override Task<ServerMetadataResponse> ServerMetadata(ServerMetadataRequest request, ServerCallContext context)
    {
        var metadata = OipInference.ServerMetadata;
        return Task.FromResult(new ServerMetadataResponse { Name = metadata.Name, Version = metadata.Version, Extensions = { metadata.Extensions } });
    }

    public override Task<ModelMetadataResponse> ModelMetadata(ModelMetadataRequest request, ServerCallContext context) =>
        Task.FromResult(Translate(() =>
        {
            var m = oip.Metadata(request.Name, request.Version);
            return new ModelMetadataResponse
            {
                Name = m.Name,
                Versions = { m.Versions },
                Platform = m.Platform,
                Inputs = { m.Inputs.Select(Tensor) },
                Outputs = { m.Outputs.Select(Tensor) },
                Properties = { m.Properties.ToDictionary() },
            };
        }));

    private static ModelMetadataResponse.Types.TensorMetadata Tensor(OipTensorMetadata t) =>
        new() { Name = t.Name, Datatype = t.Datatype, Shape = { t.Shape } };

    public override async Task<ModelInferResponse> ModelInfer(ModelInferRequest request, ServerCallContext context)
    {
        try
        {
            oip.EnsureServed(request.ModelName, request.ModelVersion);
            var result = await oip.InferAsync(ToRequest(request), context.CancellationToken);
            var response = new ModelInferResponse { ModelName = result.ModelName, ModelVersion = result.ModelVersion, Id = result.Id ?? "" };
            foreach (var output in result.Outputs)
            {
                response.Outputs.Add(new ModelInferResponse.Types.InferOutputTensor
                {
                    Name = output.Name, Datatype = OipDataTypes.Name(output.Datatype), Shape = { output.Shape },
                });
                response.RawOutputContents.Add(UnsafeByteOperations.UnsafeWrap(OipTensorCodec.ToBytes(output)));
            }
            return response;
        }
        catch (OipException e) { throw ToRpc(e); }
    }

    private static OipInferRequest ToRequest(ModelInferRequest request)
    {
        var raw = request.RawInputContents;
        if (raw.Count > 0 && raw.Count != request.Inputs.Count)
            throw OipException.BadRequest($"raw_input_contents has {raw.Count} entries for {request.Inputs.Count} inputs; it needs one per input, in order");
        if (raw.Count > 0 && request.Inputs.Any(i => i.Contents is not null))
            throw OipException.BadRequest("an input has contents while raw_input_contents is used; send every input one way");
        var inputs = request.Inputs.Select((input, i) => new OipInput(input.Name, input.Datatype, input.Shape.ToArray(),
            raw.Count > 0 ? new RawTensorData(raw[i].Memory) : new GrpcTensorData(input.Contents ?? new InferTensorContents()))).ToList();
        var outputs = request.Outputs.Select(o => new OipRequestedOutput(o.Name)).ToList();
        return new OipInferRequest(request.ModelName, request.ModelVersion, request.Id.Length > 0 ? request.Id : null, inputs, outputs);
    }

    private static T Translate<T>(Func<T> call)
    {
        try { return call(); }
        catch (OipException e) { throw ToRpc(e); }
    }

    // An overload tells the client when to retry the way gRPC's retry policy reads it (gRFC A6: server pushback).
    private static RpcException ToRpc(OipException e) => new(new Status(e.Kind switch
    {
        OipErrorKind.NotFound => StatusCode.NotFound,
        OipErrorKind.Unavailable => StatusCode.Unavailable,
        _ => StatusCode.InvalidArgument,
    }, e.Message), e.RetryAfterSeconds is { } seconds ? new Metadata { { PushbackTrailer, (seconds * 1000).ToString(System.Globalization.CultureInfo.InvariantCulture) } } : Metadata.Empty);

    public const string PushbackTrailer = "grpc-retry-pushback-ms";
}
