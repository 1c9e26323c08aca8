namespace RTorrent.Plugins.LocalPeerDiscovery;
