using System.Text.Json;
using System.Text.Json.Serialization;
using PgAutoFailover.Contracts;

namespace PgAutoFailover.Cli;

/// <summary>
/// Compile-time JSON metadata for the answers of the monitor's HTTP read API: reflection-based
/// deserialization JIT-compiles a few hundred methods, most of a read-only call's CPU time. The enums are read by
/// table (<see cref="WireNameConverter{T}"/>): JsonStringEnumConverter, declared on them, cost another ~0.02 CPU-s.
/// </summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, Converters = [typeof(WireNameConverter<NodeState>), typeof(WireNameConverter<NodeHealth>)])]
[JsonSerializable(typeof(FormationState))]
[JsonSerializable(typeof(FormationEvents))]
[JsonSerializable(typeof(FormationSettings))]
[JsonSerializable(typeof(OperatorCommandRefused))]
internal sealed partial class ReadApiJson : JsonSerializerContext;
