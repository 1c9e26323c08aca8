using RTorrent.Engine.PortMapping;
using RTorrent.Engine.Settings;
using static RTorrent.Remote.Tests.Transmission.A;

namespace RTorrent.Remote.Tests.Transmission;

/// <summary>
/// port-forwarding-enabled through session-set (saved, applied at once) and the mapping's state in session-stats and
/// port-test. The test session listens on loopback only, so switching it on maps nothing and says why; mapping against a
/// real router is tests/RTorrent.IntegrationTests/Network/PortMappingTests.
/// </summary>
public sealed class PortForwardingRpcTests : IAsyncLifetime
{
    private TransmissionHarness _h = null!;

    public async Task InitializeAsync() => _h = await TransmissionHarness.StartAsync();

    public Task DisposeAsync() => _h.DisposeAsync().AsTask();

    [Fact]
    public async Task Port_forwarding_is_switched_live_saved_and_its_state_reported()
    {
        var stats = (await _h.OkAsync("session-stats")).Arguments.GetProperty("portForwarding");
        Assert.Equal("off", stats.GetProperty("state").GetString());
        Assert.False(stats.TryGetProperty("error", out _));

        await _h.OkAsync("session-set", Args(("port-forwarding-enabled", true)));
        Assert.True((await SettingsStore.LoadAsync(_h.SessionDir)).PortForwardingEnabled);
        Assert.True((await _h.OkAsync("session-get", Args(("fields", new[] { "port-forwarding-enabled" })))).Arguments
            .GetProperty("port-forwarding-enabled").GetBoolean());
        Assert.Equal(PortMappingState.Failed, _h.Session.PortMapping.State);
        stats = (await _h.OkAsync("session-stats")).Arguments.GetProperty("portForwarding");
        Assert.Equal("failed", stats.GetProperty("state").GetString());
        Assert.Equal("the session listens on loopback only: there is no port to forward", stats.GetProperty("error").GetString());
        var test = await _h.CallAsync("port-test");
        Assert.EndsWith("; port mapping failed: the session listens on loopback only: there is no port to forward", test.Result);

        await _h.OkAsync("session-set", Args(("port-forwarding-enabled", "false")));
        Assert.Equal(PortMappingStatus.Off, _h.Session.PortMapping);
        Assert.False((await SettingsStore.LoadAsync(_h.SessionDir)).PortForwardingEnabled);
        var refused = await _h.CallAsync("session-set", Args(("port-forwarding-enabled", "maybe")));
        Assert.Contains("port-forwarding-enabled", refused.Result);
    }
}
