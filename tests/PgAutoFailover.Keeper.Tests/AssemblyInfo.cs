// The keeper (and so its tests) is Linux only.
[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]
