using System.Buffers;
using System.Text.Json;

namespace Aggregator.Web.Upstream.Protocols;

/// <summary>
/// An OpenAI-standard embeddings answer, relayed as the upstream's bytes: only the top-level <c>model</c> is
/// renamed to the id the caller used, and <c>usage</c> is read for recording. The vectors are never parsed
/// into numbers, so a large reply costs one scan and one copy.
/// </summary>
public static class EmbeddingReply
{
    /// <summary>
    /// The body to send the caller. An in-band error (<c>{"error":…}</c> with HTTP 200) or a body without a
    /// <c>data</c> array throws an <see cref="UpstreamFailure"/>, the provider's words redacted.
    /// </summary>
    public static byte[] Relay(ReadOnlySpan<byte> upstream, string model, SecretRedactor redactor, out TokenUsage? usage)
    {
        usage = null;
        int modelStart = -1, modelEnd = -1;
        var sawData = false;
        try
        {
            var reader = new Utf8JsonReader(upstream);
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
                throw UpstreamFailure.Protocol("an embeddings reply that is not a JSON object");
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (reader.ValueTextEquals("error"u8))
                    throw UpstreamFailure.InBand(UpstreamErrorBody.Parse(upstream), redactor);
                if (reader.ValueTextEquals("model"u8))
                {
                    reader.Read();
                    if (reader.TokenType == JsonTokenType.String) (modelStart, modelEnd) = ((int)reader.TokenStartIndex, (int)reader.BytesConsumed);
                    else reader.Skip();
                }
                else if (reader.ValueTextEquals("data"u8))
                {
                    reader.Read();
                    sawData = reader.TokenType == JsonTokenType.StartArray;
                    reader.Skip();
                }
                else if (reader.ValueTextEquals("usage"u8))
                {
                    reader.Read();
                    if (reader.TokenType == JsonTokenType.StartObject) usage = ReadUsage(ref reader);
                    else reader.Skip();
                }
                else
                {
                    reader.Read();
                    reader.Skip();
                }
            }
        }
        catch (JsonException ex)
        {
            throw UpstreamFailure.Protocol("an embeddings reply that is not valid JSON", ex);
        }
        if (!sawData) throw UpstreamFailure.Protocol("an embeddings reply without data");
        // Relayed bytes pass no redaction: a reply that carries the key is refused, never sent on.
        if (redactor.ContainsKey(upstream)) throw UpstreamFailure.Protocol("an embeddings reply that carries the API key");
        if (modelStart < 0) return upstream.ToArray();

        var name = JsonEncodedText.Encode(model).EncodedUtf8Bytes;
        var output = new byte[modelStart + name.Length + 2 + (upstream.Length - modelEnd)];
        upstream[..modelStart].CopyTo(output);
        output[modelStart] = (byte)'"';
        name.CopyTo(output.AsSpan(modelStart + 1));
        output[modelStart + 1 + name.Length] = (byte)'"';
        upstream[modelEnd..].CopyTo(output.AsSpan(modelStart + 2 + name.Length));
        return output;
    }

    static TokenUsage ReadUsage(ref Utf8JsonReader reader)
    {
        int prompt = 0, total = 0;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("prompt_tokens"u8)) { reader.Read(); prompt = JsonRead.Int(ref reader); }
            else if (reader.ValueTextEquals("total_tokens"u8)) { reader.Read(); total = JsonRead.Int(ref reader); }
            else { reader.Read(); reader.Skip(); }
        }
        return new TokenUsage(prompt > 0 ? prompt : total, 0);
    }

    /// <summary>Reads a success body whole, refusing one over <paramref name="maxBytes"/>.</summary>
    public static async Task<byte[]> ReadAsync(HttpResponseMessage response, long maxBytes, CancellationToken cancellationToken)
    {
        if (response.Content.Headers.ContentLength > maxBytes) throw UpstreamFailure.Protocol($"an embeddings reply over {maxBytes} bytes");
        await using var stream = await response.Content.ReadAsStreamAsync(cancellationToken);
        var buffer = new ArrayBufferWriter<byte>((int)Math.Min(response.Content.Headers.ContentLength ?? 64 * 1024, maxBytes) + 1);
        while (true)
        {
            var read = await stream.ReadAsync(buffer.GetMemory(16 * 1024), cancellationToken);
            if (read == 0) return buffer.WrittenSpan.ToArray();
            buffer.Advance(read);
            if (buffer.WrittenCount > maxBytes) throw UpstreamFailure.Protocol($"an embeddings reply over {maxBytes} bytes");
        }
    }
}
