using System.Diagnostics;
using System.Net;
using System.Text.RegularExpressions;
using Aggregator.Web.Features.Chat;
using Microsoft.AspNetCore.Http.Connections;
using Microsoft.AspNetCore.SignalR.Client;

namespace Aggregator.StreamBench;

/// <summary>One chat of the bench: a user's hub connection, the deltas it received (in arrival order), how it ended.</summary>
public sealed class BenchStream(int index)
{
    readonly List<TokenDelta> _deltas = [];
    public int Index => index;
    public CookieContainer Cookies { get; } = new();
    public HubConnection? Hub { get; set; }
    public TimeSpan SentAt { get; set; }
    public TimeSpan? FirstDeltaAt { get; private set; }
    public TimeSpan? CompletedAt { get; private set; }
    public GenerationCompletedEvent? Completed { get; private set; }
    public string? Error { get; set; }
    public TaskCompletionSource Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public void OnDelta(TokenDelta delta, TimeSpan at)
    {
        lock (_deltas)
        {
            FirstDeltaAt ??= at;
            _deltas.Add(delta);
        }
    }

    public void OnCompleted(GenerationCompletedEvent completed, TimeSpan at)
    {
        Completed = completed;
        CompletedAt = at;
        Done.TrySetResult();
    }

    public int DeltaCount { get { lock (_deltas) return _deltas.Count; } }

    /// <summary>Every delta once, in order, sequence numbers 1..final without a gap, and their text is the final text.</summary>
    public string? Verify()
    {
        if (Error is not null) return Error;
        if (Completed is null) return "no completion";
        if (Completed.Status != "complete") return $"ended {Completed.Status}: {Completed.Error}";
        lock (_deltas)
        {
            for (var i = 0; i < _deltas.Count; i++)
                if (_deltas[i].Seq != i + 1) return $"delta {i + 1} of {_deltas.Count} has seq {_deltas[i].Seq}";
            if (_deltas.Count != Completed.Seq) return $"{_deltas.Count} deltas, final seq {Completed.Seq}";
            var text = string.Concat(_deltas.Select(d => d.Text));
            return text == Completed.Content ? null : $"deltas' text ({text.Length} chars) differs from the final text ({Completed.Content.Length} chars)";
        }
    }
}

/// <summary>Signs the users in, then opens their connections and sends one chat each, spread over the arrival window.</summary>
public sealed partial class StreamDriver(BenchCluster cluster, StreamBenchOptions options)
{
    public Stopwatch Clock { get; } = new();

    public async Task<List<BenchStream>> SignInAsync(int count)
    {
        var streams = Enumerable.Range(0, count).Select(i => new BenchStream(i)).ToList();
        await Parallel.ForEachAsync(streams, new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (stream, ct) =>
        {
            using var http = new HttpClient(new HttpClientHandler { CookieContainer = stream.Cookies, AllowAutoRedirect = false }) { BaseAddress = cluster.BaseUrl };
            var page = await http.GetStringAsync("/Account/Login", ct);
            var token = WebUtility.HtmlDecode(Antiforgery().Match(page).Groups[1].Value);
            var response = await http.PostAsync("/Account/Login", new FormUrlEncodedContent(new Dictionary<string, string>
            {
                ["Input.Email"] = cluster.Emails[stream.Index], ["Input.Password"] = BenchCluster.Password, ["__RequestVerificationToken"] = token,
            }), ct);
            if (response.StatusCode != HttpStatusCode.Redirect) throw new InvalidOperationException($"Sign-in of user {stream.Index} failed: {(int)response.StatusCode}");
        });
        return streams;
    }

    public async Task RunAsync(List<BenchStream> streams)
    {
        Clock.Restart();
        var gap = TimeSpan.FromSeconds(options.ArrivalSeconds / Math.Max(1, streams.Count));
        var prompt = $"mock:tokens={options.Tokens} mock:tps={options.TokensPerSecond.ToString(System.Globalization.CultureInfo.InvariantCulture)} mock:delay={options.FirstTokenMs} stream bench";
        var running = new List<Task>();
        foreach (var stream in streams)
        {
            var due = gap * stream.Index;
            if (Clock.Elapsed < due) await Task.Delay(due - Clock.Elapsed);
            running.Add(RunOneAsync(stream, prompt, cluster.BaseUrl));
        }
        await Task.WhenAll(running);
    }

    /// <summary>
    /// One short chat on each node directly, not measured: a fresh process compiles the chat path (JIT, EF
    /// queries, the first upstream connection) on its first chat, which is not what a running node costs.
    /// </summary>
    public async Task WarmUpAsync(BenchStream user)
    {
        foreach (var node in cluster.Nodes)
        {
            var once = new BenchStream(user.Index);
            foreach (System.Net.Cookie cookie in user.Cookies.GetAllCookies()) once.Cookies.Add(cookie);
            await RunOneAsync(once, "mock:tokens=5 warm-up", node.BaseUrl);
            if (once.Verify() is { } problem) throw new InvalidOperationException($"Warm-up on node {node.Name} failed: {problem}");
        }
    }

    async Task RunOneAsync(BenchStream stream, string prompt, Uri target)
    {
        try
        {
            var hub = new HubConnectionBuilder()
                .WithUrl(new Uri(target, ChatExtensions.HubPath.TrimStart('/')), o =>
                {
                    o.Transports = HttpTransportType.WebSockets;
                    o.Cookies = stream.Cookies;
                })
                .Build();
            stream.Hub = hub;
            hub.On<TokenDelta>(nameof(IChatClient.Delta), d => stream.OnDelta(d, Clock.Elapsed));
            hub.On<GenerationCompletedEvent>(nameof(IChatClient.GenerationCompleted), c => stream.OnCompleted(c, Clock.Elapsed));
            await hub.StartAsync();
            stream.SentAt = Clock.Elapsed;
            await hub.InvokeAsync<SendResult>(nameof(ChatHub.Send), new SendRequest(null, cluster.ModelRowId, prompt));
            await stream.Done.Task.WaitAsync(TimeSpan.FromSeconds(options.TimeoutSeconds));
        }
        catch (Exception ex)
        {
            stream.Error = $"{ex.GetType().Name}: {ex.Message}";
        }
        finally
        {
            if (stream.Hub is { } hub) await hub.DisposeAsync();
        }
    }

    [GeneratedRegex("name=\"__RequestVerificationToken\" type=\"hidden\" value=\"([^\"]+)\"")]
    private static partial Regex Antiforgery();
}
