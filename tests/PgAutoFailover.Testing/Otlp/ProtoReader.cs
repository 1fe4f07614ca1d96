namespace PgAutoFailover.Testing.Otlp;

/// <summary>
/// Just enough of the protobuf wire format to read OTLP's ExportTraceServiceRequest
/// (https://protobuf.dev/programming-guides/encoding/): fields as (number, wire type, value), nested messages
/// read by handing their bytes to a new reader. Unknown fields are skipped, as protobuf requires.
/// </summary>
public ref struct ProtoReader(ReadOnlySpan<byte> data)
{
    private readonly ReadOnlySpan<byte> _data = data;
    private int _position;

    public int Field { get; private set; }
    public int WireType { get; private set; }

    /// <summary>Moves to the next field's value; false at the end.</summary>
    public bool Next()
    {
        if (_position >= _data.Length) return false;
        var key = ReadVarint();
        Field = (int)(key >> 3);
        WireType = (int)(key & 7);
        return true;
    }

    public ulong ReadVarint()
    {
        ulong value = 0;
        for (var shift = 0; shift < 64; shift += 7)
        {
            var b = _data[_position++];
            value |= (ulong)(b & 0x7f) << shift;
            if (b < 0x80) return value;
        }
        throw new FormatException("varint longer than 10 bytes");
    }

    public ReadOnlySpan<byte> ReadBytes()
    {
        var length = checked((int)ReadVarint());
        var bytes = _data.Slice(_position, length);
        _position += length;
        return bytes;
    }

    public string ReadString() => System.Text.Encoding.UTF8.GetString(ReadBytes());

    public ulong ReadFixed64()
    {
        var value = BitConverter.ToUInt64(_data.Slice(_position, 8));
        _position += 8;
        return value;
    }

    /// <summary>Skips the current field's value.</summary>
    public void Skip()
    {
        switch (WireType)
        {
            case 0: ReadVarint(); break;
            case 1: _position += 8; break;
            case 2: ReadBytes(); break;
            case 5: _position += 4; break;
            default: throw new FormatException($"wire type {WireType} is not supported");
        }
    }
}
