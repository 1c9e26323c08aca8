using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Xunit.Abstractions;

namespace RTorrent.IntegrationTests.Harness;

/// <summary>
/// Debian's Chromium, headless, driven over the DevTools protocol (a WebSocket, from .NET's own ClientWebSocket): open
/// a page, read what it shows, save a screenshot. Started with the flags that keep it off the network (no background
/// requests, no updates, no sync, no QUIC) and a fresh profile; killed by PID on dispose.
/// </summary>
internal sealed class HeadlessChromium : IAsyncDisposable
{
    private readonly RunningProcess _process;
    private readonly string _profile;
    private readonly ClientWebSocket _socket;
    private int _nextId;

    private HeadlessChromium(RunningProcess process, string profile, ClientWebSocket socket)
    {
        _process = process;
        _profile = profile;
        _socket = socket;
    }

    /// <summary>Starts Chromium on about:blank and connects to its page.</summary>
    public static async Task<HeadlessChromium> StartAsync(TempFolder tmp, ITestOutputHelper? log, int width = 1280, int height = 800)
    {
        string chromium = Tools.Require("chromium", "chromium");
        string profile = tmp.Sub("chromium-profile");
        var process = RunningProcess.Start("chromium", chromium,
        [
            "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--disable-extensions", "--disable-default-apps", "--mute-audio",
            "--remote-debugging-address=127.0.0.1", "--remote-debugging-port=0", $"--user-data-dir={profile}",
            $"--window-size={width},{height}", "about:blank",
        ], log);
        try
        {
            string portFile = Path.Combine(profile, "DevToolsActivePort");
            await process.WaitUntilAsync(() => File.Exists(portFile) && File.ReadAllLines(portFile).Length >= 2, Limits.Startup,
                "Chromium's DevTools port");
            int port = int.Parse(File.ReadAllLines(portFile)[0], System.Globalization.CultureInfo.InvariantCulture);
            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
            var targets = JsonNode.Parse(await http.GetStringAsync($"http://127.0.0.1:{port}/json/list"))!.AsArray();
            string page = targets.First(t => t!["type"]!.GetValue<string>() == "page")!["webSocketDebuggerUrl"]!.GetValue<string>();
            var socket = new ClientWebSocket();
            socket.Options.KeepAliveInterval = TimeSpan.Zero;
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            await socket.ConnectAsync(new Uri(page), cts.Token);
            return new HeadlessChromium(process, profile, socket);
        }
        catch
        {
            await process.DisposeAsync();
            throw;
        }
    }

    /// <summary>Opens <paramref name="url"/>.</summary>
    public Task NavigateAsync(string url) => CallAsync("Page.navigate", new JsonObject { ["url"] = url });

    /// <summary>The value of a JavaScript expression in the page (strings, numbers, booleans).</summary>
    public async Task<JsonNode?> EvaluateAsync(string expression)
    {
        var result = await CallAsync("Runtime.evaluate", new JsonObject { ["expression"] = expression, ["returnByValue"] = true });
        return result["result"]?["value"];
    }

    /// <summary>Waits until the page's visible text satisfies <paramref name="condition"/>; returns the text.</summary>
    public async Task<string> WaitForTextAsync(Func<string, bool> condition, TimeSpan timeout, string what)
    {
        using var cts = new CancellationTokenSource(timeout);
        string text = "";
        while (!cts.IsCancellationRequested)
        {
            text = (await EvaluateAsync("document.body ? document.body.innerText : ''"))?.GetValue<string>() ?? "";
            if (condition(text)) return text;
            try { await Task.Delay(200, cts.Token); }
            catch (OperationCanceledException) { break; }
        }
        throw new TimeoutException($"the page did not show {what} within {timeout.TotalSeconds:0} s. It shows:\n{text}");
    }

    /// <summary>Clicks the middle of the first element matching <paramref name="selector"/> with the mouse, as a person would.</summary>
    public async Task ClickAsync(string selector)
    {
        string quoted = JsonSerializer.Serialize(selector);
        var box = await EvaluateAsync($"(() => {{ const e = document.querySelector({quoted}); if (!e) return null; " +
            "const r = e.getBoundingClientRect(); return [r.left + r.width / 2, r.top + r.height / 2]; })()")
            ?? throw new InvalidOperationException($"nothing on the page matches {selector}");
        double x = box[0]!.GetValue<double>(), y = box[1]!.GetValue<double>();
        foreach (string type in new[] { "mouseMoved", "mousePressed", "mouseReleased" })
            await CallAsync("Input.dispatchMouseEvent", new JsonObject
            {
                ["type"] = type, ["x"] = x, ["y"] = y, ["button"] = type == "mouseMoved" ? "none" : "left", ["clickCount"] = 1,
            });
    }

    /// <summary>Saves a PNG of the page as it is now.</summary>
    public async Task ScreenshotAsync(string path)
    {
        var result = await CallAsync("Page.captureScreenshot", new JsonObject { ["format"] = "png" });
        await File.WriteAllBytesAsync(path, Convert.FromBase64String(result["data"]!.GetValue<string>()));
    }

    private async Task<JsonNode> CallAsync(string method, JsonObject parameters)
    {
        int id = Interlocked.Increment(ref _nextId);
        var message = new JsonObject { ["id"] = id, ["method"] = method, ["params"] = parameters };
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await _socket.SendAsync(Encoding.UTF8.GetBytes(message.ToJsonString()), WebSocketMessageType.Text, true, cts.Token);
        var buffer = new byte[64 * 1024];
        while (true)
        {
            using var received = new MemoryStream();
            WebSocketReceiveResult part;
            do
            {
                part = await _socket.ReceiveAsync(buffer, cts.Token);
                received.Write(buffer, 0, part.Count);
            } while (!part.EndOfMessage);
            var reply = JsonNode.Parse(received.ToArray())!;
            // Events (no id) and answers to other calls are skipped: calls here are one at a time.
            if (reply["id"]?.GetValue<int>() != id) continue;
            if (reply["error"] is { } error) throw new InvalidOperationException($"{method}: {error.ToJsonString()}");
            return reply["result"]!;
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            if (_socket.State == WebSocketState.Open) await _socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "", cts.Token);
        }
        catch (Exception e) when (e is WebSocketException or OperationCanceledException) { /* it is killed next */ }
        _socket.Dispose();
        await _process.DisposeAsync();
        try { Directory.Delete(_profile, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
