namespace RTorrent.Plugins.MemoryStorage;
