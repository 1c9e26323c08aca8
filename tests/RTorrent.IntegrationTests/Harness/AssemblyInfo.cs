// The interop tests run Debian's BitTorrent programs (opentracker, python3-libtorrent, aria2, transmission) and send
// POSIX signals: they are Linux-only, like the CI that installs those programs.
[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]
