namespace KeypointService.Api.Apis;

/// <summary>Long endpoint descriptions for the OpenAPI document.</summary>
internal static class ApiDocs
{
    public const string ServiceDescription = """
        Keypoint inference for pressure maps and images, on ONNX Runtime.

        **Models** (the default store; GET /v1/models lists what this service serves, with each model's held-out metrics):
        `heatmap` (U-Net heatmaps, 5-keypoint stick figures in grayscale images, resized to 128×128; the accurate one),
        `regression` (direct coordinate regression, same figures; the seed's weak baseline, kept for comparison),
        `spmkd` (self-supervised pressure-map keypoints for bed pressure maps in the mat's own units; also returns 14 named body joints
        and the reconstructed pressure map), `multi` (several stick figures per image grouped by link prediction; experimental, low accuracy).
        Image models expect grayscale images (PNG/JPEG, or numbers 0..255); `spmkd` expects pressure readings (CSV, .npy, raw float32, JSON rows).
        An input of the other kind is still run, with a `warnings` entry in the response.

        **Coordinates.** x to the right, y down, in the caller's own input pixels; pixel (i, j) has its centre at (i + 0.5, j + 0.5),
        so the image spans [0, width] × [0, height]. `x_norm = x / width`, `y_norm = y / height`.

        **Pre-processing.** Any input size is accepted: it is resized to the model's input with bilinear interpolation
        (half-pixel centres, no antialiasing; torch `align_corners=False`) and normalised as the model's manifest says (GET /v1/models/{name}).
        Images (PNG/JPEG, 8/16-bit, grey or colour) become grayscale 0..255.

        **Errors** are RFC 7807 problem documents (`application/problem+json`).
        """;

    public const string PredictDescription = """
        Predicts keypoints for one input. Body types (Content-Type):

        * `application/json`: `{"data": [[...], ...]}` (rows of numbers), `{"image": "<base64 PNG/JPEG>"}`,
          or `{"data_b64": "<base64 little-endian float32>", "width": W, "height": H}`; optional `"include"` and `"map_format"`.
        * `image/png`, `image/jpeg`: the image file.
        * `text/csv`: a pressure-mat export, one row of numbers per line (comma, semicolon, tab or space separated; a header line is skipped).
        * `application/x-npy`: a NumPy .npy file, 2-D, float32/float64/uint8/uint16.
        * `application/octet-stream`: float32 little-endian, row-major, with `?width=&height=`.
        * `multipart/form-data`: one file of any of the above types (the part's Content-Type or its file extension decides).

        Query `include=heatmaps,reconstruction` and `map_format=array|png` work for every body type.
        Errors: 400 bad input, 404 unknown model, 413 body too large, 415 unsupported media type, 503 model not loaded or service overloaded (with Retry-After).
        """;

    public const string PredictBatchDescription = """
        Runs several JSON inputs (each as in the single-input JSON body) as one batched inference.
        A bad item is reported in its own `error` (an RFC 7807 problem) without failing the others; results keep the request order.
        """;
}
