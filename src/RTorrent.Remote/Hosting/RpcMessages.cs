using System.Buffers;
using System.IO.Pipelines;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace RTorrent.Remote.Hosting;

/// <summary>One request in Transmission's envelope: <c>{"method": ..., "arguments": {...}, "tag": n}</c>.</summary>
/// <param name="Method">The method name, or null when the request has none.</param>
/// <param name="Arguments">The arguments object (an empty object when absent).</param>
/// <param name="IsLocalSocket">It came through the owner-only Unix socket.</param>
public readonly record struct RpcCall(string? Method, JsonElement Arguments, bool IsLocalSocket)
{
    /// <summary>The CSRF session id the request carried (it passed the check, so it is the daemon's), or null.</summary>
    public string? SessionId { get; init; }
}

/// <summary>
/// A refusal with a message for the caller: becomes the response's <c>result</c> string (Transmission's convention
/// for errors, with HTTP 200), never an HTTP error.
/// </summary>
public sealed class RpcException(string message) : Exception(message);

/// <summary>Serves one RPC path (Transmission's, or RTorrent's own).</summary>
public interface IRpcHandler
{
    /// <summary>
    /// Runs <paramref name="call"/>: writes the response's <c>arguments</c> object into <paramref name="arguments"/>
    /// (nothing for none) and returns the <c>result</c>: "success", or an error text. Throwing
    /// <see cref="RpcException"/> is the same as returning its message.
    /// </summary>
    ValueTask<string> HandleAsync(RpcCall call, Utf8JsonWriter arguments, CancellationToken cancellationToken);
}

/// <summary>
/// Reads a request envelope and writes a response envelope around an <see cref="IRpcHandler"/>. Whatever a caller
/// sends — no body, not JSON, no method, a handler bug — the answer is an envelope with a result string, never an
/// HTTP 500: scripts and web clients show <c>result</c> and carry on.
/// </summary>
internal static class RpcMessages
{
    private static readonly JsonDocumentOptions ParseOptions = new() { MaxDepth = 64 };

    public static async Task HandleAsync(HttpContext context, IRpcHandler handler, ILogger logger)
    {
        if (!HttpMethods.IsPost(context.Request.Method))
        {
            context.Response.StatusCode = StatusCodes.Status405MethodNotAllowed;
            context.Response.Headers.Allow = "POST";
            return;
        }

        JsonDocument? document = null;
        string? method = null;
        JsonElement arguments = default;
        JsonElement tag = default;
        string? parseProblem = null;
        try
        {
            // Read the whole body (Kestrel ends it at the size limit with BadHttpRequestException: 413).
            ReadResult read;
            while (true)
            {
                read = await context.Request.BodyReader.ReadAsync(context.RequestAborted).ConfigureAwait(false);
                if (read.IsCompleted) break;
                context.Request.BodyReader.AdvanceTo(read.Buffer.Start, read.Buffer.End);
            }
            try
            {
                if (!read.Buffer.IsEmpty) document = JsonDocument.Parse(read.Buffer, ParseOptions);
            }
            catch (JsonException e)
            {
                parseProblem = $"no method name (the request is not valid JSON: {e.Message})";
            }
            finally
            {
                context.Request.BodyReader.AdvanceTo(read.Buffer.End);
            }
        }
        catch (BadHttpRequestException e)
        {
            context.Response.StatusCode = e.StatusCode;
            return;
        }

        using (document)
        {
            if (document is { RootElement.ValueKind: JsonValueKind.Object } doc)
            {
                if (doc.RootElement.TryGetProperty("method", out var m) && m.ValueKind == JsonValueKind.String) method = m.GetString();
                if (doc.RootElement.TryGetProperty("arguments", out var a) && a.ValueKind == JsonValueKind.Object) arguments = a;
                if (doc.RootElement.TryGetProperty("tag", out var t) && t.ValueKind == JsonValueKind.Number) tag = t;
            }
            if (arguments.ValueKind != JsonValueKind.Object) arguments = EmptyObject.RootElement;

            var buffer = new ArrayBufferWriter<byte>(4096);
            string result;
            if (method is null)
            {
                result = parseProblem ?? "no method name";
            }
            else
            {
                await using var args = new Utf8JsonWriter(buffer);
                try
                {
                    var call = new RpcCall(method, arguments, Security.RpcGate.IsLocalSocket(context))
                    {
                        SessionId = context.Request.Headers[Security.RpcGate.SessionIdHeader].FirstOrDefault(),
                    };
                    result = await handler.HandleAsync(call, args, context.RequestAborted).ConfigureAwait(false);
                    await args.FlushAsync(context.RequestAborted).ConfigureAwait(false);
                }
                catch (RpcException e)
                {
                    result = e.Message;
                    Discard(args, buffer);
                }
                catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
                {
                    return;
                }
                catch (Exception e)
                {
                    // A bug of ours: the caller gets a readable result, the log gets the stack.
                    logger.LogError(e, "RPC method {Method} failed", method);
                    result = $"internal error in {method}: {e.Message}";
                    Discard(args, buffer);
                }
            }

            context.Response.StatusCode = StatusCodes.Status200OK;
            context.Response.ContentType = "application/json; charset=UTF-8";
            await using var writer = new Utf8JsonWriter(context.Response.BodyWriter);
            writer.WriteStartObject();
            writer.WritePropertyName("arguments");
            if (buffer.WrittenCount > 0) writer.WriteRawValue(buffer.WrittenSpan, skipInputValidation: true);
            else
            {
                writer.WriteStartObject();
                writer.WriteEndObject();
            }
            writer.WriteString("result", result);
            if (tag.ValueKind == JsonValueKind.Number)
            {
                writer.WritePropertyName("tag");
                tag.WriteTo(writer);
            }
            writer.WriteEndObject();
            await writer.FlushAsync(context.RequestAborted).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Drops what a failed handler wrote: the writer's unflushed bytes too, or disposing it would commit half an
    /// object into the answer (invalid JSON).
    /// </summary>
    private static void Discard(Utf8JsonWriter args, ArrayBufferWriter<byte> buffer)
    {
        args.Reset();
        buffer.Clear();
    }

    private static readonly JsonDocument EmptyObject = JsonDocument.Parse("{}");
}
