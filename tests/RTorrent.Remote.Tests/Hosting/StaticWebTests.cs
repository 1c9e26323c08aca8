using RTorrent.Remote.Hosting;
using RTorrent.Remote.Tests.Infrastructure;
using RTorrent.Testing;

namespace RTorrent.Remote.Tests.Hosting;

/// <summary>The optional web client at /transmission/web/: served from its folder and never from outside it.</summary>
public class StaticWebTests
{
    private const string Secret = "TOP-SECRET-CONTENT";

    /// <summary>root/web holds the client; root/secret.txt and root/session/settings.json sit beside it.</summary>
    private static (string Root, string Web) MakeFolders()
    {
        string root = TestPaths.NewTempDir("rt-web");
        string web = Path.Combine(root, "web");
        Directory.CreateDirectory(Path.Combine(web, "javascript"));
        File.WriteAllText(Path.Combine(web, "index.html"), "<html>the web client</html>");
        File.WriteAllText(Path.Combine(web, "javascript", "app.js"), "console.log('app');");
        File.WriteAllText(Path.Combine(root, "secret.txt"), Secret);
        Directory.CreateDirectory(Path.Combine(root, "session"));
        File.WriteAllText(Path.Combine(root, "session", "settings.json"), Secret);
        return (root, web);
    }

    [Fact]
    public async Task Files_under_the_web_path_are_served_and_the_bare_paths_redirect()
    {
        var (root, web) = MakeFolders();
        try
        {
            await using var server = await TestServer.StartAsync(o => o with { WebHome = web });
            var js = await server.GetAsync("/transmission/web/javascript/app.js");
            Assert.Equal(200, js.Status);
            Assert.Equal("console.log('app');", js.Text);
            Assert.Contains("javascript", js.Header("Content-Type"), StringComparison.Ordinal);

            var index = await server.GetAsync("/transmission/web/");
            Assert.Equal(200, index.Status);
            Assert.Equal("<html>the web client</html>", index.Text);
            Assert.StartsWith("text/html", index.Header("Content-Type"), StringComparison.Ordinal);

            foreach (string bare in new[] { "/transmission/web", "/", "/transmission", "/transmission/" })
            {
                var redirect = await server.GetAsync(bare);
                Assert.Equal(301, redirect.Status);
                Assert.Equal("/transmission/web/", redirect.Header("Location"));
            }
            Assert.Equal(404, (await server.GetAsync("/transmission/web/missing.js")).Status);
            // No session id is needed for the client's own files, but the Host check applies.
            Assert.Equal(421, (await RawHttp.SendAsync(server.Tcp, "GET", "/transmission/web/", [("Host", "evil.example")])).Status);
        }
        finally
        {
            Directory.Delete(root, true);
        }
    }

    [Fact]
    public async Task Without_a_web_folder_nothing_is_served()
    {
        await using var server = await TestServer.StartAsync();
        foreach (string path in new[] { "/transmission/web/", "/transmission/web/index.html", "/transmission/web", "/" })
            Assert.Equal(404, (await server.GetAsync(path)).Status);
    }

    [Fact]
    public async Task A_missing_web_folder_stops_the_start()
    {
        string missing = Path.Combine(Path.GetTempPath(), "rt-no-such-web-" + Guid.NewGuid().ToString("N"));
        await Assert.ThrowsAsync<DirectoryNotFoundException>(() => TestServer.StartAsync(o => o with { WebHome = missing }));
    }

    [Theory]
    [InlineData("/transmission/web/../../secret.txt")]
    [InlineData("/transmission/web/../secret.txt")]
    [InlineData("/transmission/web/javascript/../../secret.txt")]
    [InlineData("/transmission/web/%2e%2e/secret.txt")]
    [InlineData("/transmission/web/%2E%2E/%2E%2E/secret.txt")]
    [InlineData("/transmission/web/..%2fsecret.txt")]
    [InlineData("/transmission/web/..%2Fsecret.txt")]
    [InlineData("/transmission/web/%2e%2e%2fsecret.txt")]
    [InlineData("/transmission/web/..%5csecret.txt")]
    [InlineData("/transmission/web/..\\secret.txt")]
    [InlineData("/transmission/web/%252e%252e/secret.txt")]
    [InlineData("/transmission/web/....//secret.txt")]
    [InlineData("/transmission/web//../secret.txt")]
    [InlineData("/transmission/web/../session/settings.json")]
    [InlineData("/transmission/web/%2e%2e/session/settings.json")]
    [InlineData("/transmission/web/..;/secret.txt")]
    public async Task Path_traversal_never_leaves_the_web_folder(string path)
    {
        var (root, web) = MakeFolders();
        try
        {
            await using var server = await TestServer.StartAsync(o => o with { WebHome = web });
            HttpAnswer answer;
            try
            {
                answer = await server.GetAsync(path);
            }
            catch (InvalidDataException)
            {
                return; // the server dropped the request: nothing leaked
            }
            Assert.DoesNotContain(Secret, answer.Text, StringComparison.Ordinal);
            Assert.NotEqual(200, answer.Status);
            // It still serves its own files afterwards.
            Assert.Equal(200, (await server.GetAsync("/transmission/web/index.html")).Status);
        }
        finally
        {
            Directory.Delete(root, true);
        }
    }

    [Fact]
    public async Task Absolute_form_and_odd_targets_do_not_leak_either()
    {
        var (root, web) = MakeFolders();
        try
        {
            await using var server = await TestServer.StartAsync(o => o with { WebHome = web });
            string absolute = Path.Combine(root, "secret.txt");
            foreach (string target in new[] { $"http://{server.HostHeader}/transmission/web/../secret.txt", "/transmission/web/" + absolute, "/transmission/web//" + absolute.TrimStart('/') })
            {
                var answer = await server.GetAsync(target);
                Assert.DoesNotContain(Secret, answer.Text, StringComparison.Ordinal);
            }
        }
        finally
        {
            Directory.Delete(root, true);
        }
    }
}
