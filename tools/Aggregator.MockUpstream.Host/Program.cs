using Aggregator.MockUpstream;

// Stand-alone mock upstream: dotnet run --project tools/Aggregator.MockUpstream.Host -- --urls http://127.0.0.1:5055 --MockUpstream:ModelCount=1000
var builder = WebApplication.CreateBuilder(args);
builder.Services.AddMockUpstream();
builder.Services.AddOptions<MockUpstreamOptions>().BindConfiguration(MockUpstreamOptions.Section);

var app = builder.Build();
app.MapGet("/", () => Results.Text("""
    Aggregator mock upstream
      OpenAI      /openai/v1          (GET models, POST chat/completions)
      OpenRouter  /openrouter/api/v1  (GET models, POST chat/completions)
      AiHubMix    /aihubmix/v1        (GET models, POST chat/completions; rich list at /aihubmix/api/v1/models)
      Anthropic   /anthropic/v1       (GET models, POST messages)
      Control     POST /_mock/mutate, GET /_mock/state
    Faults: header X-Mock-Fault, prompt word mock:fault=<name>, or an API key containing fault=<name>.
    """));
app.MapMockUpstream();
app.Run();
