using System.Text.Json;
using System.Text.Json.Serialization;
using PgAutoFailover.Contracts;

namespace PgAutoFailover.Cli;

/// <summary>
/// Compile-time JSON metadata for the answers of the monitor's HTTP read API: reflection-based
/// deserialization JIT-compiles a few hundred methods, most of a read-only call's CPU time.
/// </summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(FormationState))]
[JsonSerializable(typeof(FormationEvents))]
[JsonSerializable(typeof(FormationSettings))]
[JsonSerializable(typeof(OperatorCommandRefused))]
internal sealed partial class ReadApiJson : JsonSerializerContext;
