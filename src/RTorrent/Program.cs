Console.WriteLine("rtorrent");
