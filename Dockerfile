# KeypointService: the inference API (target "api", default), the API on ONNX Runtime's CUDA build
# (target "api-gpu") and the training worker (target "trainer").
# Not buildable on the development machines (no Docker engine there); the same topology is exercised
# with plain processes by deploy/local-topology.sh.

# CUDA 13 + cuDNN 9 runtime for api-gpu (ARGs used in FROM must come before the first FROM).
ARG CUDA_IMAGE=nvidia/cuda:13.0.1-cudnn-runtime-ubuntu24.04

# --- build ---
FROM mcr.microsoft.com/dotnet/sdk:10.0-noble AS build
WORKDIR /src
COPY Directory.Build.props KeypointService.sln ./
COPY schemas/ schemas/
COPY src/Models/ src/Models/
COPY src/Api/ src/Api/
# ONNX Runtime comes from NuGet (Microsoft.ML.OnnxRuntime); the linux-x64 RuntimeIdentifier in
# Directory.Build.props keeps other platforms' natives out of /app.
RUN dotnet publish src/Api/KeypointService.Api.csproj -c Release -o /app --nologo

# --- build with ONNX Runtime's CUDA package (Microsoft.ML.OnnxRuntime.Gpu.Linux, 245 MB) ---
FROM build AS build-gpu
RUN dotnet publish src/Api/KeypointService.Api.csproj -c Release -p:OnnxRuntimePackage=gpu -o /app-gpu --nologo

# --- API runtime ---
FROM mcr.microsoft.com/dotnet/aspnet:10.0-noble AS api
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends libpng16-16t64 libturbojpeg curl \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY --from=build /app ./
COPY models/ /models/
ENV ModelStore__Path=/models \
    ASPNETCORE_ENVIRONMENT=Production \
    ASPNETCORE_URLS=http://0.0.0.0:8080 \
    Grpc__Url=http://0.0.0.0:8081 \
    Serilog__ConsoleFormat=json
USER app
EXPOSE 8080 8081
HEALTHCHECK --interval=10s --timeout=3s CMD curl -fs http://127.0.0.1:8080/health/live || exit 1
ENTRYPOINT ["dotnet", "KeypointService.Api.dll"]

# --- API runtime on the GPU: CUDA 13 + cuDNN 9 (what ONNX Runtime 1.31's CUDA provider loads) ---
# Run with the NVIDIA container toolkit: docker run --gpus all -p 8080:8080 keypointservice:gpu
# OnnxRuntime__ProviderRequired=true makes a container without a usable GPU exit at start-up instead of
# serving on CPU; set it to false to accept the CPU fallback (one warning, GET /v1/models shows it).
FROM ${CUDA_IMAGE} AS api-gpu
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends libpng16-16t64 libturbojpeg curl ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 1654 --no-create-home app
# The ASP.NET Core 10 runtime from Microsoft's image (the CUDA image has no .NET); the service runs with
# InvariantGlobalization, so no ICU is needed.
COPY --from=mcr.microsoft.com/dotnet/aspnet:10.0-noble /usr/share/dotnet /usr/share/dotnet
RUN ln -s /usr/share/dotnet/dotnet /usr/bin/dotnet
WORKDIR /app
COPY --from=build-gpu /app-gpu ./
COPY models/ /models/
ENV DOTNET_ROOT=/usr/share/dotnet \
    ModelStore__Path=/models \
    ASPNETCORE_ENVIRONMENT=Production \
    ASPNETCORE_URLS=http://0.0.0.0:8080 \
    Grpc__Url=http://0.0.0.0:8081 \
    Serilog__ConsoleFormat=json \
    OnnxRuntime__ExecutionProvider=cuda \
    OnnxRuntime__ProviderRequired=true
USER app
EXPOSE 8080 8081
HEALTHCHECK --interval=10s --timeout=3s CMD curl -fs http://127.0.0.1:8080/health/live || exit 1
ENTRYPOINT ["dotnet", "KeypointService.Api.dll"]

# --- training worker: PyTorch from Debian, as on the development machines ---
FROM debian:bookworm-slim AS trainer
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      python3-torch python3-torchvision python3-onnx python3-numpy python3-matplotlib python3-jsonschema python3-pil libopenblas0-pthread \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /worker
COPY schemas/ schemas/
COPY src/Training/ src/Training/
ENV PYTHONPATH=/worker/src/Training
ENTRYPOINT ["python3", "-m", "keypoint_trainer"]
CMD ["--help"]
