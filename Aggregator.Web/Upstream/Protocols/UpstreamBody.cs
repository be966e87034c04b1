using System.Buffers;

namespace Aggregator.Web.Upstream.Protocols;

/// <summary>
/// A provider's response body with a byte cap (a runaway reply fails instead of exhausting memory)
/// and a look at its first meaningful byte, to tell a JSON body from an SSE stream whatever the
/// Content-Type says. Leading blank lines are dropped (meaningless to both).
/// </summary>
internal sealed class UpstreamBody(Stream inner, long maxBytes) : Stream
{
    byte[]? _buffer;
    int _start, _end;
    long _total;

    /// <summary>The first byte that is not whitespace, or -1 when the body is empty.</summary>
    public async ValueTask<int> PeekAsync(CancellationToken cancellationToken)
    {
        _buffer ??= ArrayPool<byte>.Shared.Rent(4096);
        while (true)
        {
            var read = await ReadInnerAsync(_buffer.AsMemory(), cancellationToken);
            if (read == 0) return -1;
            for (var i = 0; i < read; i++)
            {
                var b = _buffer[i];
                if (b is (byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n') continue;
                _start = i;
                _end = read;
                return b;
            }
        }
    }

    /// <summary>The whole rest of the body, up to <paramref name="limit"/> bytes (valid until disposal).</summary>
    public async ValueTask<ReadOnlyMemory<byte>> ReadToEndAsync(int limit, CancellationToken cancellationToken)
    {
        _buffer ??= ArrayPool<byte>.Shared.Rent(4096);
        if (_start > 0)
        {
            Buffer.BlockCopy(_buffer, _start, _buffer, 0, _end - _start);
            _end -= _start;
            _start = 0;
        }
        while (true)
        {
            if (_end == _buffer.Length)
            {
                if (_buffer.Length >= limit) throw UpstreamFailure.Protocol($"a reply body over {limit / 1024} KB");
                var bigger = ArrayPool<byte>.Shared.Rent(Math.Min(limit, _buffer.Length * 2));
                Buffer.BlockCopy(_buffer, 0, bigger, 0, _end);
                ArrayPool<byte>.Shared.Return(_buffer);
                _buffer = bigger;
            }
            var read = await ReadInnerAsync(_buffer.AsMemory(_end, Math.Min(_buffer.Length, limit) - _end), cancellationToken);
            if (read == 0) return _buffer.AsMemory(0, _end);
            _end += read;
            if (_end >= limit) throw UpstreamFailure.Protocol($"a reply body over {limit / 1024} KB");
        }
    }

    async ValueTask<int> ReadInnerAsync(Memory<byte> destination, CancellationToken cancellationToken)
    {
        var read = await inner.ReadAsync(destination, cancellationToken);
        _total += read;
        if (_total > maxBytes) throw UpstreamFailure.Protocol($"a reply over {maxBytes / (1024 * 1024)} MB");
        return read;
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> destination, CancellationToken cancellationToken = default)
    {
        if (_start < _end)
        {
            var n = Math.Min(destination.Length, _end - _start);
            _buffer.AsMemory(_start, n).CopyTo(destination);
            _start += n;
            return n;
        }
        return await ReadInnerAsync(destination, cancellationToken);
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer, offset, count).GetAwaiter().GetResult();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            inner.Dispose();
            if (_buffer is not null) ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = null;
        }
        base.Dispose(disposing);
    }

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => _total; set => throw new NotSupportedException(); }
    public override void Flush() { }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
