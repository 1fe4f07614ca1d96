using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace PgAutoFailover.Bench;

/// <summary>
/// Just enough of the PostgreSQL v3 protocol for a health probe: refuses SSL/GSS encryption,
/// accepts any startup without authentication, answers every query with one boolean false
/// (pg_is_in_recovery), and closes on Terminate. Run in its own process ("fake-pg PORT") so that
/// the probe benchmark's CPU figure is the checker's alone; it stands in for PostgreSQL's
/// fork-per-connection, which a 2-core machine cannot do 1,000 times a second.
/// </summary>
public static class FakePostgresServer
{
    private const int SslRequest = 80877103;
    private const int GssEncRequest = 80877104;

    public static async Task<int> RunAsync(string[] args)
    {
        var listener = new TcpListener(IPAddress.Loopback, int.Parse(args[0]));
        listener.Start(1024);
        Console.WriteLine("ready");
        while (true)
        {
            var client = await listener.AcceptTcpClientAsync();
            _ = Task.Run(() => ServeAsync(client));
        }
    }

    private static async Task ServeAsync(TcpClient client)
    {
        using var _ = client;
        client.NoDelay = true;
        var stream = client.GetStream();
        try
        {
            // Startup: SSLRequest/GSSENCRequest get 'N', then the StartupMessage.
            while (true)
            {
                var length = BinaryPrimitives.ReadInt32BigEndian(await ReadExactlyAsync(stream, 4));
                var body = await ReadExactlyAsync(stream, length - 4);
                var code = BinaryPrimitives.ReadInt32BigEndian(body);
                if (code is SslRequest or GssEncRequest) { await stream.WriteAsync("N"u8.ToArray()); continue; }
                break;
            }
            var hello = new MemoryStream();
            Message(hello, 'R', w => w.Int32(0));
            foreach (var (name, value) in new[] { ("server_version", "15.0"), ("server_encoding", "UTF8"), ("client_encoding", "UTF8"),
                         ("DateStyle", "ISO, MDY"), ("integer_datetimes", "on"), ("standard_conforming_strings", "on"), ("TimeZone", "UTC"), ("in_hot_standby", "off") })
            {
                Message(hello, 'S', w => w.CString(name).CString(value));
            }
            Message(hello, 'K', w => w.Int32(Environment.ProcessId).Int32(42));
            Message(hello, 'Z', w => w.Byte((byte)'I'));
            await stream.WriteAsync(hello.ToArray());

            var reply = new MemoryStream();
            while (true)
            {
                var header = await ReadExactlyAsync(stream, 5);
                var body = await ReadExactlyAsync(stream, BinaryPrimitives.ReadInt32BigEndian(header.AsSpan(1)) - 4);
                switch ((char)header[0])
                {
                    case 'P': Message(reply, '1', _ => { }); break;
                    case 'B': Message(reply, '2', _ => { }); break;
                    case 'D':
                        if (body[0] == (byte)'S') Message(reply, 't', w => w.Int16(0));
                        RowDescription(reply, binary: true);
                        break;
                    case 'E': DataRow(reply, [0]); Message(reply, 'C', w => w.CString("SELECT 1")); break;
                    case 'S':
                        Message(reply, 'Z', w => w.Byte((byte)'I'));
                        await stream.WriteAsync(reply.ToArray());
                        reply.SetLength(0);
                        break;
                    case 'Q':
                        RowDescription(reply, binary: false);
                        DataRow(reply, "f"u8.ToArray());
                        Message(reply, 'C', w => w.CString("SELECT 1"));
                        Message(reply, 'Z', w => w.Byte((byte)'I'));
                        await stream.WriteAsync(reply.ToArray());
                        reply.SetLength(0);
                        break;
                    case 'X': return;
                }
            }
        }
        catch (Exception e) when (e is IOException or EndOfStreamException or SocketException)
        {
        }
    }

    private static void RowDescription(MemoryStream reply, bool binary) =>
        Message(reply, 'T', w => w.Int16(1).CString("pg_is_in_recovery").Int32(0).Int16(0).Int32(16).Int16(1).Int32(-1).Int16((short)(binary ? 1 : 0)));

    private static void DataRow(MemoryStream reply, byte[] value) =>
        Message(reply, 'D', w => w.Int16(1).Int32(value.Length).Bytes(value));

    private static void Message(MemoryStream output, char type, Action<Writer> write)
    {
        var writer = new Writer();
        write(writer);
        var payload = writer.ToArray();
        output.WriteByte((byte)type);
        Span<byte> length = stackalloc byte[4];
        BinaryPrimitives.WriteInt32BigEndian(length, payload.Length + 4);
        output.Write(length);
        output.Write(payload);
    }

    private static async Task<byte[]> ReadExactlyAsync(Stream stream, int count)
    {
        var buffer = new byte[count];
        await stream.ReadExactlyAsync(buffer);
        return buffer;
    }

    private sealed class Writer
    {
        private readonly MemoryStream _buffer = new();
        public Writer Byte(byte value) { _buffer.WriteByte(value); return this; }
        public Writer Bytes(byte[] value) { _buffer.Write(value); return this; }
        public Writer Int16(short value) { Span<byte> b = stackalloc byte[2]; BinaryPrimitives.WriteInt16BigEndian(b, value); _buffer.Write(b); return this; }
        public Writer Int32(int value) { Span<byte> b = stackalloc byte[4]; BinaryPrimitives.WriteInt32BigEndian(b, value); _buffer.Write(b); return this; }
        public Writer CString(string value) { _buffer.Write(Encoding.UTF8.GetBytes(value)); _buffer.WriteByte(0); return this; }
        public byte[] ToArray() => _buffer.ToArray();
    }
}
