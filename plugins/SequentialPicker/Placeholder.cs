namespace RTorrent.Plugins.SequentialPicker;
