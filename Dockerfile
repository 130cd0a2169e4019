# KeypointService: the inference API (target "api", default) and the training worker (target "trainer").
# Not buildable on the development machines (no Docker engine there); the same topology is exercised
# with plain processes by deploy/local-topology.sh.

# --- ONNX Runtime native library: the official CPU build inside the onnxruntime-node npm tarball ---
FROM node:20-bookworm-slim AS onnxruntime
ARG ORT_VERSION=1.30.0
ARG ORT_TARBALL_SHA256=6e3390d6b783e7be946fad629292799da28d0b42f84856e50d2c1b0383291e75
ARG ORT_LIBRARY_SHA256=ffb75a925ba05e47b235bb66e3e3911714a80b328a9c9425539feb204aa32a23
WORKDIR /ort
RUN npm pack --silent "onnxruntime-node@${ORT_VERSION}" \
 && echo "${ORT_TARBALL_SHA256}  onnxruntime-node-${ORT_VERSION}.tgz" | sha256sum --check \
 && tar -xzf "onnxruntime-node-${ORT_VERSION}.tgz" package/bin/napi-v6/linux/x64/libonnxruntime.so.1 \
 && mv package/bin/napi-v6/linux/x64/libonnxruntime.so.1 . \
 && echo "${ORT_LIBRARY_SHA256}  libonnxruntime.so.1" | sha256sum --check

# --- build ---
FROM mcr.microsoft.com/dotnet/sdk:10.0-noble AS build
WORKDIR /src
COPY Directory.Build.props KeypointService.sln ./
COPY schemas/ schemas/
COPY src/Models/ src/Models/
COPY src/Api/ src/Api/
RUN dotnet publish src/Api/KeypointService.Api.csproj -c Release -o /app --nologo

# --- API runtime ---
FROM mcr.microsoft.com/dotnet/aspnet:10.0-noble AS api
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends libpng16-16t64 libturbojpeg curl \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY --from=build /app ./
COPY --from=onnxruntime /ort/libonnxruntime.so.1 /opt/onnxruntime/libonnxruntime.so.1
COPY models/ /models/
ENV KPS_ONNXRUNTIME_LIBRARY=/opt/onnxruntime/libonnxruntime.so.1 \
    ModelStore__Path=/models \
    ASPNETCORE_URLS=http://0.0.0.0:8080 \
    Grpc__Url=http://0.0.0.0:8081 \
    Serilog__ConsoleFormat=json
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
