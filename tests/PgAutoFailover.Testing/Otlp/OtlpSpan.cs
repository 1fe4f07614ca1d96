namespace PgAutoFailover.Testing.Otlp;

/// <summary>One span as an OTLP exporter sent it. Ids in lowercase hex, as W3C traceparent and the logs write them.</summary>
public sealed record OtlpSpan(
    string Service, string Scope, string TraceId, string SpanId, string? ParentSpanId, string Name,
    IReadOnlyDictionary<string, string> Attributes, IReadOnlyList<(string TraceId, string SpanId)> Links)
{
    public string? Attribute(string key) => Attributes.GetValueOrDefault(key);

    public override string ToString() => $"{Service} {Name} {SpanId}<-{ParentSpanId ?? "root"} [{string.Join(", ", Attributes.Select(a => $"{a.Key}={a.Value}"))}]";

    /// <summary>The spans of one ExportTraceServiceRequest (opentelemetry/proto/collector/trace/v1).</summary>
    public static List<OtlpSpan> Parse(ReadOnlySpan<byte> request)
    {
        var spans = new List<OtlpSpan>();
        var reader = new ProtoReader(request);
        while (reader.Next())
        {
            if (reader.Field == 1 && reader.WireType == 2) ReadResourceSpans(reader.ReadBytes(), spans);
            else reader.Skip();
        }
        return spans;
    }

    private static void ReadResourceSpans(ReadOnlySpan<byte> bytes, List<OtlpSpan> spans)
    {
        var service = "";
        var scopes = new List<byte[]>();
        var reader = new ProtoReader(bytes);
        while (reader.Next())
        {
            if (reader.Field == 1 && reader.WireType == 2) service = KeyValues(reader.ReadBytes(), 1).GetValueOrDefault("service.name", "");
            else if (reader.Field == 2 && reader.WireType == 2) scopes.Add(reader.ReadBytes().ToArray());
            else reader.Skip();
        }
        foreach (var scope in scopes) ReadScopeSpans(scope, service, spans);
    }

    private static void ReadScopeSpans(ReadOnlySpan<byte> bytes, string service, List<OtlpSpan> spans)
    {
        var scope = "";
        var raw = new List<byte[]>();
        var reader = new ProtoReader(bytes);
        while (reader.Next())
        {
            if (reader.Field == 1 && reader.WireType == 2) scope = ScopeName(reader.ReadBytes());
            else if (reader.Field == 2 && reader.WireType == 2) raw.Add(reader.ReadBytes().ToArray());
            else reader.Skip();
        }
        foreach (var span in raw) spans.Add(ReadSpan(span, service, scope));
    }

    private static string ScopeName(ReadOnlySpan<byte> scope)
    {
        var reader = new ProtoReader(scope);
        while (reader.Next())
        {
            if (reader.Field == 1 && reader.WireType == 2) return reader.ReadString();
            reader.Skip();
        }
        return "";
    }

    private static OtlpSpan ReadSpan(ReadOnlySpan<byte> bytes, string service, string scope)
    {
        string traceId = "", spanId = "", name = "";
        string? parent = null;
        var attributes = new Dictionary<string, string>();
        var links = new List<(string, string)>();
        var reader = new ProtoReader(bytes);
        while (reader.Next())
        {
            switch (reader.Field, reader.WireType)
            {
                case (1, 2): traceId = Convert.ToHexStringLower(reader.ReadBytes()); break;
                case (2, 2): spanId = Convert.ToHexStringLower(reader.ReadBytes()); break;
                case (4, 2):
                    var parentBytes = reader.ReadBytes();
                    parent = parentBytes.Length > 0 ? Convert.ToHexStringLower(parentBytes) : null;
                    break;
                case (5, 2): name = reader.ReadString(); break;
                case (9, 2):
                    foreach (var (k, v) in KeyValues(reader.ReadBytes(), 0)) attributes[k] = v;
                    break;
                case (13, 2): links.Add(Link(reader.ReadBytes())); break;
                default: reader.Skip(); break;
            }
        }
        return new OtlpSpan(service, scope, traceId, spanId, parent, name, attributes, links);
    }

    private static (string, string) Link(ReadOnlySpan<byte> bytes)
    {
        string traceId = "", spanId = "";
        var reader = new ProtoReader(bytes);
        while (reader.Next())
        {
            if (reader.Field == 1 && reader.WireType == 2) traceId = Convert.ToHexStringLower(reader.ReadBytes());
            else if (reader.Field == 2 && reader.WireType == 2) spanId = Convert.ToHexStringLower(reader.ReadBytes());
            else reader.Skip();
        }
        return (traceId, spanId);
    }

    /// <summary>
    /// Key-values: in a Resource the repeated field 1, and <paramref name="field"/> 0 means <paramref name="bytes"/>
    /// is itself one KeyValue (a span's field 9 repeats, one KeyValue per occurrence).
    /// </summary>
    private static Dictionary<string, string> KeyValues(ReadOnlySpan<byte> bytes, int field)
    {
        var result = new Dictionary<string, string>();
        if (field == 0)
        {
            var (key, value) = KeyValue(bytes);
            result[key] = value;
            return result;
        }
        var reader = new ProtoReader(bytes);
        while (reader.Next())
        {
            if (reader.Field == field && reader.WireType == 2)
            {
                var (key, value) = KeyValue(reader.ReadBytes());
                result[key] = value;
            }
            else reader.Skip();
        }
        return result;
    }

    private static (string Key, string Value) KeyValue(ReadOnlySpan<byte> bytes)
    {
        string key = "", value = "";
        var reader = new ProtoReader(bytes);
        while (reader.Next())
        {
            if (reader.Field == 1 && reader.WireType == 2) key = reader.ReadString();
            else if (reader.Field == 2 && reader.WireType == 2) value = AnyValue(reader.ReadBytes());
            else reader.Skip();
        }
        return (key, value);
    }

    /// <summary>AnyValue as text: string, bool, int and double; arrays and maps are not used by our spans.</summary>
    private static string AnyValue(ReadOnlySpan<byte> bytes)
    {
        var reader = new ProtoReader(bytes);
        while (reader.Next())
        {
            switch (reader.Field, reader.WireType)
            {
                case (1, 2): return reader.ReadString();
                case (2, 0): return reader.ReadVarint() != 0 ? "true" : "false";
                case (3, 0): return ((long)reader.ReadVarint()).ToString(System.Globalization.CultureInfo.InvariantCulture);
                case (4, 1): return BitConverter.UInt64BitsToDouble(reader.ReadFixed64()).ToString(System.Globalization.CultureInfo.InvariantCulture);
                default: reader.Skip(); break;
            }
        }
        return "";
    }
}
