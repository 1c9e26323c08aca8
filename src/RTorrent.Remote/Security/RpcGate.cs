using System.Security.Cryptography;
using Microsoft.AspNetCore.Http;

namespace RTorrent.Remote.Security;

/// <summary>
/// Every request passes these checks, in Transmission's order, before anything else sees it:
/// <list type="number">
/// <item>the client's address is allowed (else 403);</item>
/// <item>the Host header names this server (else 421: DNS rebinding);</item>
/// <item>the credentials are right, when a user is set (else 401, slowed down; 403 once an address is blocked);</item>
/// <item>for the RPC paths, the <c>X-Transmission-Session-Id</c> header matches (else 409 carrying the right id: CSRF).</item>
/// </list>
/// Requests through the Unix socket in the session folder skip the address and credential checks: only the folder's
/// owner can open the socket (its mode is 0600), which is the check.
/// </summary>
public sealed class RpcGate
{
    /// <summary>The CSRF header (Transmission's name, which every client knows).</summary>
    public const string SessionIdHeader = "X-Transmission-Session-Id";

    private readonly AddressAllowList? _addresses;
    private readonly HostAllowList? _hosts;
    private readonly RpcAuthenticator _auth;

    /// <summary>Applies <paramref name="options"/>.</summary>
    /// <exception cref="FormatException">An address allow-list entry is not valid.</exception>
    public RpcGate(RpcSecurityOptions options, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        _addresses = options.AddressAllowListEnabled ? new AddressAllowList(options.AddressAllowList) : null;
        _hosts = options.HostAllowListEnabled ? new HostAllowList(options.HostAllowList) : null;
        _auth = new RpcAuthenticator(options.Username, options.PasswordHash, time);
        SessionId = NewSessionId();
    }

    /// <summary>The current session id (a new one each time the daemon starts).</summary>
    public string SessionId { get; }

    /// <summary>Whether a request came through the owner-only Unix socket rather than TCP.</summary>
    public static bool IsLocalSocket(HttpContext context) => context.Connection.RemoteIpAddress is null;

    /// <summary>
    /// Runs the first three checks; returns false after writing the refusal. <paramref name="needsSessionId"/> adds the
    /// fourth (the RPC paths; the static web client does not need it).
    /// </summary>
    public async Task<bool> AdmitAsync(HttpContext context, bool needsSessionId)
    {
        bool local = IsLocalSocket(context);
        if (!local && _addresses is not null && !_addresses.Allows(context.Connection.RemoteIpAddress))
        {
            await RefuseAsync(context, StatusCodes.Status403Forbidden,
                "<p>Unauthorized IP Address.</p><p>Either disable the address allow-list or add your address to it " +
                "(settings.json: rpcAddressAllowList, rpcAddressAllowListEnabled).</p>").ConfigureAwait(false);
            return false;
        }
        if (_hosts is not null && !_hosts.Allows(context.Request.Host.HasValue ? context.Request.Host.Value : null))
        {
            await RefuseAsync(context, StatusCodes.Status421MisdirectedRequest,
                "<p>RTorrent received your request, but the host name was not recognized.</p>" +
                "<p>Add the name you use to rpcHostAllowList in settings.json (or reach the daemon by its address). " +
                "This check prevents <a href=\"https://en.wikipedia.org/wiki/DNS_rebinding\">DNS rebinding</a> attacks.</p>")
                .ConfigureAwait(false);
            return false;
        }
        if (!local && _auth.IsRequired)
        {
            AuthResult result = await _auth.CheckAsync(context.Request.Headers.Authorization.ToString() is { Length: > 0 } a ? a : null,
                context.Connection.RemoteIpAddress, context.RequestAborted).ConfigureAwait(false);
            if (result == AuthResult.Blocked)
            {
                await RefuseAsync(context, StatusCodes.Status403Forbidden,
                    "<p>Too many unsuccessful login attempts from your address. Try again later.</p>").ConfigureAwait(false);
                return false;
            }
            if (result == AuthResult.Unauthorized)
            {
                context.Response.Headers.WWWAuthenticate = "Basic realm=\"RTorrent\", charset=\"UTF-8\"";
                await RefuseAsync(context, StatusCodes.Status401Unauthorized, "<p>Unauthorized User</p>").ConfigureAwait(false);
                return false;
            }
        }
        if (needsSessionId && !string.Equals(context.Request.Headers[SessionIdHeader].ToString(), SessionId, StringComparison.Ordinal))
        {
            context.Response.Headers[SessionIdHeader] = SessionId;
            context.Response.Headers.AccessControlExposeHeaders = SessionIdHeader;
            await RefuseAsync(context, StatusCodes.Status409Conflict,
                "<p>Your request had an invalid session-id header.</p><p>To fix this, follow these steps:<ol>" +
                "<li>When reading a response, get its X-Transmission-Session-Id header and remember it</li>" +
                "<li>Add the updated header to your outgoing requests</li>" +
                "<li>When you get this 409 error message, resend your request with the updated header</li></ol></p>" +
                "<p>This requirement has been added to help prevent <a href=\"https://en.wikipedia.org/wiki/Cross-site_request_forgery\">CSRF</a> attacks.</p>" +
                $"<p><code>{SessionIdHeader}: {SessionId}</code></p>").ConfigureAwait(false);
            return false;
        }
        return true;
    }

    /// <summary>Writes a small HTML page with <paramref name="status"/>, as Transmission does.</summary>
    public static Task RefuseAsync(HttpContext context, int status, string bodyHtml)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "text/html; charset=UTF-8";
        string reason = Microsoft.AspNetCore.WebUtilities.ReasonPhrases.GetReasonPhrase(status);
        return context.Response.WriteAsync($"<h1>{status}: {reason}</h1>{bodyHtml}", context.RequestAborted);
    }

    private static string NewSessionId()
    {
        const string alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
        return RandomNumberGenerator.GetString(alphabet, 48);
    }
}
