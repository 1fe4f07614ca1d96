// The keeper controls PostgreSQL through Unix tools (runuser, chown, file modes): Linux only.
[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]
