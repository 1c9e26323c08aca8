using System.Text;
using System.Text.Json;
using RTorrent.Remote.Hosting;
using RTorrent.Remote.Security;
using RTorrent.Remote.Tests.Infrastructure;

namespace RTorrent.Remote.Tests.Hosting;

/// <summary>
/// Whatever a caller sends, the answer is Transmission's envelope with a <c>result</c> string and HTTP 200 — never a
/// 500, never a dropped connection — and the server carries on.
/// </summary>
public class RpcEnvelopeHttpTests : IAsyncLifetime
{
    private TestServer _server = null!;

    public async Task InitializeAsync() => _server = await TestServer.StartAsync();

    public async Task DisposeAsync()
    {
        if (_server is not null) await _server.DisposeAsync();
    }

    private async Task<HttpAnswer> PostOkAsync(string body, string path = RpcServer.TransmissionPath)
    {
        var answer = await _server.PostAsync(body, path: path);
        Assert.True(answer.Status == 200, answer.ToString());
        Assert.StartsWith("application/json", answer.Header("Content-Type"), StringComparison.Ordinal);
        var json = answer.Json; // valid JSON, or this fails
        Assert.Equal(JsonValueKind.Object, json.GetProperty("arguments").ValueKind);
        Assert.Equal(JsonValueKind.String, json.GetProperty("result").ValueKind);
        return answer;
    }

    [Fact]
    public async Task A_known_method_gets_success_its_arguments_and_the_tag_back()
    {
        var answer = await PostOkAsync("""{"method":"echo","arguments":{"ids":[1,2],"name":"x"},"tag":42}""");
        Assert.Equal("success", answer.Result);
        Assert.Equal(42, answer.Json.GetProperty("tag").GetInt32());
        var args = answer.Json.GetProperty("arguments");
        Assert.Equal("echo", args.GetProperty("method").GetString());
        Assert.Equal("x", args.GetProperty("arguments").GetProperty("name").GetString());
        Assert.False(args.GetProperty("local").GetBoolean());
    }

    [Theory]
    [InlineData("""{"method":"echo","tag":7}""", 7)]
    [InlineData("""{"method":"nope","tag":-3}""", -3)]
    [InlineData("""{"tag":9}""", 9)]
    [InlineData("""{"method":"boom","tag":123456789012}""", 123456789012)]
    public async Task The_tag_is_echoed_whatever_the_result(string body, long tag)
    {
        var answer = await PostOkAsync(body);
        Assert.Equal(tag, answer.Json.GetProperty("tag").GetInt64());
    }

    [Theory]
    [InlineData("""{"method":"echo","tag":"seven"}""")]
    [InlineData("""{"method":"echo"}""")]
    public async Task A_tag_that_is_not_a_number_is_not_echoed(string body)
    {
        var answer = await PostOkAsync(body);
        Assert.False(answer.Json.TryGetProperty("tag", out _));
    }

    [Fact]
    public async Task Arguments_that_are_not_an_object_arrive_as_an_empty_object()
    {
        var answer = await PostOkAsync("""{"method":"echo","arguments":[1,2,3]}""");
        Assert.Equal("{}", answer.Json.GetProperty("arguments").GetProperty("arguments").GetRawText());
        answer = await PostOkAsync("""{"method":"echo"}""");
        Assert.Equal("{}", answer.Json.GetProperty("arguments").GetProperty("arguments").GetRawText());
    }

    [Fact]
    public async Task An_unknown_method_gets_Transmissions_answer()
    {
        var answer = await PostOkAsync("""{"method":"torrent-frobnicate","arguments":{"unknown-field":true},"tag":1}""");
        Assert.Equal("method name not recognized", answer.Result);
        Assert.Equal("{}", answer.Json.GetProperty("arguments").GetRawText());
    }

    [Theory]
    [InlineData("")]
    [InlineData("{}")]
    [InlineData("""{"arguments":{}}""")]
    [InlineData("""{"method":null}""")]
    [InlineData("""{"method":5}""")]
    [InlineData("""{"method":{"name":"echo"}}""")]
    [InlineData("""["echo"]""")]
    [InlineData("\"echo\"")]
    [InlineData("null")]
    [InlineData("42")]
    public async Task A_request_without_a_method_name_gets_no_method_name(string body)
    {
        var answer = await PostOkAsync(body);
        Assert.Equal("no method name", answer.Result);
        Assert.Equal(0, _server.Transmission.Calls);
    }

    [Theory]
    [InlineData("{")]
    [InlineData("not json at all")]
    [InlineData("""{"method":"echo",}""")]
    [InlineData("""{"method":"echo"} trailing""")]
    [InlineData("\u00ff\u00fe")]
    public async Task Invalid_JSON_gets_no_method_name_with_the_reason(string body)
    {
        var answer = await PostOkAsync(body);
        Assert.StartsWith("no method name (the request is not valid JSON", answer.Result, StringComparison.Ordinal);
        Assert.Equal(0, _server.Transmission.Calls);
    }

    [Fact]
    public async Task Bytes_that_are_not_UTF8_get_an_answer_too()
    {
        var answer = await RawHttp.SendAsync(_server.Tcp, "POST", RpcServer.TransmissionPath,
            [("Host", _server.HostHeader), (RpcGate.SessionIdHeader, _server.SessionId)], [0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d]);
        Assert.Equal(200, answer.Status);
        Assert.StartsWith("no method name", answer.Result, StringComparison.Ordinal);
    }

    [Fact]
    public async Task JSON_nested_too_deep_gets_an_answer_not_a_crash()
    {
        string deep = "{\"method\":\"echo\",\"arguments\":{\"a\":" + new string('[', 5000) + new string(']', 5000) + "}}";
        var answer = await PostOkAsync(deep);
        Assert.StartsWith("no method name (the request is not valid JSON", answer.Result, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_handler_that_throws_gets_a_result_string_and_200()
    {
        var answer = await PostOkAsync("""{"method":"boom","tag":3}""");
        Assert.Equal("internal error in boom: kaboom", answer.Result);
        Assert.Equal(3, answer.Json.GetProperty("tag").GetInt32());
        // And the server is fine afterwards.
        Assert.Equal("success", (await PostOkAsync("""{"method":"echo"}""")).Result);
    }

    [Fact]
    public async Task A_refusal_is_the_result_string()
    {
        var answer = await PostOkAsync("""{"method":"refuse","tag":4}""");
        Assert.Equal("no thanks", answer.Result);
        Assert.Equal("{}", answer.Json.GetProperty("arguments").GetRawText());
    }

    [Theory]
    [InlineData("half", "internal error in half: broke halfway")]
    [InlineData("half-refuse", "refused halfway")]
    public async Task A_handler_that_fails_halfway_through_its_answer_still_gives_valid_JSON(string method, string result)
    {
        var answer = await PostOkAsync($$"""{"method":"{{method}}","tag":8}""");
        Assert.Equal(result, answer.Result);
        Assert.Equal("{}", answer.Json.GetProperty("arguments").GetRawText());
        Assert.Equal(8, answer.Json.GetProperty("tag").GetInt32());
    }

    [Fact]
    public async Task The_native_path_has_the_same_envelope()
    {
        Assert.Equal("method name not recognized", (await PostOkAsync("""{"method":"x"}""", RpcServer.NativePath)).Result);
        Assert.Equal("internal error in boom: kaboom", (await PostOkAsync("""{"method":"boom"}""", RpcServer.NativePath)).Result);
        Assert.Equal(2, _server.Native.Calls);
        Assert.Equal(0, _server.Transmission.Calls);
    }

    [Theory]
    [InlineData("GET")]
    [InlineData("PUT")]
    [InlineData("DELETE")]
    public async Task Methods_other_than_POST_get_405(string method)
    {
        var answer = await RawHttp.SendAsync(_server.Tcp, method, RpcServer.TransmissionPath,
            [("Host", _server.HostHeader), (RpcGate.SessionIdHeader, _server.SessionId)]);
        Assert.Equal(405, answer.Status);
        Assert.Equal("POST", answer.Header("Allow"));
        Assert.Equal(0, _server.Transmission.Calls);
    }

    [Fact]
    public async Task The_transmission_rpc_path_with_a_trailing_slash_is_the_rpc_as_transmission_remote_posts_to_it()
    {
        var answer = await RawHttp.SendAsync(_server.Tcp, "POST", "/transmission/rpc/",
            [("Host", _server.HostHeader), (RpcGate.SessionIdHeader, _server.SessionId)], Encoding.UTF8.GetBytes("""{"method":"echo"}"""));
        Assert.Equal(200, answer.Status);
        Assert.Equal("success", answer.Result);
        Assert.Equal(1, _server.Transmission.Calls);
    }

    [Theory]
    [InlineData("/")]
    [InlineData("/transmission/rpc/more")]
    [InlineData("/transmission/RPC")]
    [InlineData("/rtorrent")]
    [InlineData("/transmission/web/")]
    [InlineData("/nothing/here")]
    public async Task Unknown_paths_get_404(string path)
    {
        var answer = await RawHttp.SendAsync(_server.Tcp, "POST", path,
            [("Host", _server.HostHeader), (RpcGate.SessionIdHeader, _server.SessionId)], Encoding.UTF8.GetBytes("""{"method":"echo"}"""));
        Assert.Equal(404, answer.Status);
        Assert.Equal(404, (await _server.GetAsync(path)).Status);
        Assert.Equal(0, _server.Transmission.Calls);
    }
}
